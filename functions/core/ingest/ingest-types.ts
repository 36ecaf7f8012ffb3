import type { EventType } from '../events/schemas.ts';
import type { RejectedRecord } from '../lake/raw-tables.ts';
import type { ErasedCustomers } from '../erasure/register.ts';
import type { ObjectStore } from '../ports.ts';

/**
 * What an ingest is given and what it reports, shared by the paths that ingest (a file on one
 * thread or several, a batch of queue messages) and by what they are built from.
 */
export interface IngestOptions {
  readonly eventType: EventType;
  /** Where the records came from (a file name or object key); stored with every row. */
  readonly source: string;
  readonly store: ObjectStore;
  /** Time the batch was received; defaults to now. */
  readonly receivedAt?: Date;
  /** Id of the batch, part of every file name; defaults to a new time-ordered id. */
  readonly ingestId?: string;
  /** Accepted rows held in memory before they are written out; bounds memory for any input size. */
  readonly rowsPerFlush?: number;
  /** Called every `progressEvery` records and at the end. */
  readonly onProgress?: (counts: IngestCounts) => void;
  readonly progressEvery?: number;
  /** Events dated (UTC) before this day are refused with a reason. Default 2000-01-01. */
  readonly earliestEventDate?: string;
  /** The erasure register; default: read from the store when the ingest starts. */
  readonly erased?: ErasedCustomers;
}

export interface IngestCounts {
  /** Records read from the input. Always accepted + rejected. */
  received: number;
  /** Valid records, including exact duplicates of a record earlier in the same batch. */
  accepted: number;
  /** Records kept under rejected/ with their reason. */
  rejected: number;
  /** Accepted records that repeat an earlier record of the batch exactly; stored once. */
  duplicates: number;
  /** Rows written to raw/ (accepted - duplicates). */
  stored: number;
}

export interface IngestResult extends IngestCounts {
  readonly ingestId: string;
  /** Keys of the objects written. */
  readonly keys: string[];
  /** The first few rejections, for a readable error report. */
  readonly sampleRejections: RejectedRecord[];
}

/**
 * Rows per raw file: a flush encodes everything buffered as one file (a parallel ingest's
 * worker threads each hold their share of it). Measured on 10M ordinary events with two workers
 * each holding the whole of it: a million rows per file peaked at 4.9 GB (both workers encoding
 * a million rows together), 250,000 at 2.9 GB and 100,000 at 2.7 GB, all in 86-110 s
 * (bench/HISTORY.md).
 */
export const DEFAULT_ROWS_PER_FLUSH = 250_000;

export const newCounts = (): IngestCounts => ({ received: 0, accepted: 0, rejected: 0, duplicates: 0, stored: 0 });

import type { EventType } from '../events/schemas.ts';
import type { RejectedRecord } from '../lake/raw-tables.ts';
import type { ObjectStore } from '../ports.ts';
import { batchIdentity, BatchWriter, Rejections, RowPartitions } from './batch-output.ts';
import { decideDelivery, fingerprintOf, FirstDeliveries } from './deliveries.ts';
import type { RecordBatches } from './records.ts';
import { DEFAULT_EARLIEST_EVENT_DATE, earliestEventMs } from '../events/timestamps.ts';
import { validateRecord } from './validate.ts';

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

export const DEFAULT_ROWS_PER_FLUSH = 1_000_000;

export const newCounts = (): IngestCounts => ({ received: 0, accepted: 0, rejected: 0, duplicates: 0, stored: 0 });

/**
 * Validates records, drops exact duplicates within the batch, writes accepted rows as ZSTD
 * Parquet under raw/<type>/dt=<UTC date>/ and every refused record, verbatim and with its
 * reason, under rejected/<type>/dt=<received date>/. Nothing received goes unaccounted:
 * received = accepted + rejected.
 */
export async function ingestRecords(records: RecordBatches, options: IngestOptions): Promise<IngestResult> {
  const batch = batchIdentity(options);
  const rowsPerFlush = options.rowsPerFlush ?? DEFAULT_ROWS_PER_FLUSH;
  const progressEvery = options.progressEvery ?? 100_000;
  const counts = newCounts();
  const writer = new BatchWriter(options.store, batch);
  const rows = new RowPartitions(batch);
  const rejections = new Rejections(batch, counts);
  const seen = new FirstDeliveries();
  const earliestMs = earliestEventMs(options.earliestEventDate ?? DEFAULT_EARLIEST_EVENT_DATE);
  let lastRecord = { recordNumber: 0, lineNumber: 0 };

  try {
    for await (const chunk of records) for (const record of chunk) {
      counts.received += 1;
      lastRecord = record;
      const validation = validateRecord(batch.eventType, record, earliestMs);
      if (!validation.ok) {
        rejections.add(record, validation.reason);
      } else {
        const row = validation.row;
        const decision = decideDelivery(seen, counts, row.event_id, fingerprintOf(row), record.lineNumber);
        if (decision.store) rows.append(row, record.recordNumber);
        else if (decision.reason !== undefined) rejections.add(record, decision.reason);
      }
      if (rows.size >= rowsPerFlush) await writer.putPartitions(rows.drain());
      if (rejections.full) await rejections.flush(writer);
      if (counts.received % progressEvery === 0) options.onProgress?.({ ...counts });
    }
  } catch (error) {
    // A damaged compressed stream is bad input, not a system failure: the unreadable tail is
    // kept as one rejected record so that what was received is still accounted for.
    if (!isCorruptCompression(error)) throw error;
    counts.received += 1;
    rejections.add(
      { recordNumber: lastRecord.recordNumber + 1, lineNumber: lastRecord.lineNumber + 1, text: '' },
      `input ended unexpectedly: ${(error as Error).message}`,
    );
  }
  await writer.putPartitions(rows.drain());
  await rejections.flush(writer);
  options.onProgress?.({ ...counts });
  return { ...counts, ingestId: batch.ingestId, keys: writer.keys, sampleRejections: rejections.sample };
}

function isCorruptCompression(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}


import type { EventType } from '../events/schemas.ts';
import { utcDate } from '../events/timestamps.ts';
import { lakeLayout, newBatchId } from '../lake/layout.ts';
import { ColumnBatch } from '../lake/parquet.ts';
import type { ColumnSpec, SlotRows } from '../lake/parquet.ts';
import { rawColumns } from '../lake/raw-tables.ts';
import type { RejectedRecord } from '../lake/raw-tables.ts';
import type { ObjectStore } from '../ports.ts';
import type { IngestOptions } from './ingest-types.ts';
import type { RawRecord } from './records.ts';
import type { AnyEventRow } from './validate.ts';

/*
 * What an ingest batch writes: accepted rows buffered and encoded as Parquet, refused records
 * as JSON Lines, under keys named after the batch. Shared by the sequential path
 * (ingest.ts) and the parallel one (local/parallel-ingest.ts).
 */

const REJECTS_PER_FLUSH = 50_000;
/**
 * Buffered rows are converted to typed columns every so many rows (ColumnBatch.compact), for a
 * rowsPerFlush set above it: with a million rows held as sixteen million JavaScript values every
 * phase of a 10M-event ingest was measured several times slower per row (which points at the
 * collector; bench/HISTORY.md). At the default flush (as many rows) it comes with the flush.
 */
const COMPACT_EVERY_ROWS = 250_000;
const SAMPLE_REJECTIONS = 5;
const WRITES_IN_FLIGHT = 8;

/** What one ingest batch writes, and how it names it: shared by the sequential and parallel paths. */
export interface BatchIdentity {
  readonly eventType: EventType;
  readonly source: string;
  readonly ingestId: string;
  readonly receivedAt: Date;
}

/** The identity of a batch from its options: the id and time default to new ones. */
export function batchIdentity(options: Pick<IngestOptions, 'eventType' | 'source' | 'receivedAt' | 'ingestId'>): BatchIdentity {
  const receivedAt = options.receivedAt ?? new Date();
  return { eventType: options.eventType, source: options.source, receivedAt, ingestId: options.ingestId ?? newBatchId(receivedAt) };
}

/**
 * A batch's accepted rows, buffered as columns until they are encoded as one Parquet file.
 * Every row of a batch goes to one partition, the UTC date the batch was received
 * (lakeLayout.rawPartition), whatever date the event carries: a backfill of two years is a
 * file per flush rather than one per day it touches, which made ingest and every later read of
 * the raw tables pay for hundreds of small files (bench/HISTORY.md), and a late event lands
 * with the day it came instead of rewriting an old partition.
 */
export class RowBuffer {
  private rows: ColumnBatch;
  private readonly columns: readonly ColumnSpec[];
  // Columns that do not come from the event itself; reused for every row (append copies values).
  private readonly delivery: Record<string, unknown>;

  /** expectedRows: the rows a file will hold, when known (a parallel ingest's workers know). */
  constructor(batch: BatchIdentity, expectedRows?: number) {
    this.columns = rawColumns[batch.eventType];
    this.rows = new ColumnBatch(this.columns, expectedRows);
    this.delivery = { occurred_at: 0, received_at: batch.receivedAt.getTime(), ingest_id: batch.ingestId, source: batch.source, record_number: 0 };
  }

  get size(): number {
    return this.rows.length;
  }

  append(row: AnyEventRow, recordNumber: number): void {
    this.delivery['occurred_at'] = row.occurred_at_ms;
    this.delivery['record_number'] = recordNumber;
    this.rows.append(row as unknown as Record<string, unknown>, this.delivery);
    if (this.rows.length % COMPACT_EVERY_ROWS === 0) this.rows.compact();
  }

  /** Appends a row given as slots of its event columns (plain-lines.ts). */
  appendSlots(rows: SlotRows, row: number, recordNumber: number): void {
    this.delivery['record_number'] = recordNumber;
    this.rows.appendSlots(rows, row, this.delivery);
  }

  /** Takes the buffered rows as one file's bytes; no file when no row is buffered. */
  drain(): Uint8Array[] {
    const files = this.rows.length > 0 ? [this.rows.toParquet()] : [];
    // The file is a copy out of the encoder: the columns' arrays can take the next rows.
    this.rows.clear();
    return files;
  }
}

/** Writes a batch's files under their keys, a few at a time, and remembers the keys. */
export class BatchWriter {
  readonly keys: string[] = [];
  private sequence = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly batch: BatchIdentity,
  ) {}

  /** Writes raw files under the partition of the day the batch was received, a few at a time. */
  async putRawFiles(files: Iterable<Uint8Array>): Promise<void> {
    const writes = new Set<Promise<void>>();
    const receivedDate = utcDate(this.batch.receivedAt.getTime());
    try {
      for (const bytes of files) {
        const key = lakeLayout.rawFile(this.batch.eventType, receivedDate, this.batch.ingestId, this.sequence++);
        const write: Promise<void> = this.store.put(key, bytes).then(() => void writes.delete(write));
        writes.add(write);
        this.keys.push(key);
        if (writes.size >= WRITES_IN_FLIGHT) await Promise.race(writes);
      }
      await Promise.all(writes);
    } catch (error) {
      await Promise.allSettled(writes);
      throw error;
    }
  }

  async putRejects(rejects: readonly RejectedRecord[]): Promise<void> {
    if (rejects.length === 0) return;
    const key = lakeLayout.rejectedFile(this.batch.eventType, utcDate(this.batch.receivedAt.getTime()), this.batch.ingestId, this.sequence++);
    await this.store.put(key, `${rejects.map((rejected) => JSON.stringify(rejected)).join('\n')}\n`);
    this.keys.push(key);
  }
}

/** Where a refused record was in its input, and its text (null: not to be kept, docs/erasure.md). */
export type RefusedInput = Pick<RawRecord, 'recordNumber' | 'lineNumber'> & { readonly text: string | null };

/** A refused record as kept under rejected/. */
export function rejectedRecord(batch: BatchIdentity, record: RefusedInput, reason: string): RejectedRecord {
  return {
    event_type: batch.eventType,
    reason,
    payload: record.text,
    received_at: batch.receivedAt.toISOString(),
    ingest_id: batch.ingestId,
    source: batch.source,
    record_number: record.recordNumber,
    line_number: record.lineNumber,
  };
}

/** Rejections of a batch: counted, kept for writing, the first few kept for the report. */
export class Rejections {
  pending: RejectedRecord[] = [];
  readonly sample: RejectedRecord[] = [];

  constructor(private readonly batch: BatchIdentity) {}

  /** Keeps a refused record with its reason; the caller counts it. */
  add(record: RefusedInput, reason: string): void {
    const rejected = rejectedRecord(this.batch, record, reason);
    this.pending.push(rejected);
    if (this.sample.length < SAMPLE_REJECTIONS) this.sample.push(rejected);
  }

  get full(): boolean {
    return this.pending.length >= REJECTS_PER_FLUSH;
  }

  async flush(writer: BatchWriter): Promise<void> {
    const rejects = this.pending;
    this.pending = [];
    await writer.putRejects(rejects);
  }
}

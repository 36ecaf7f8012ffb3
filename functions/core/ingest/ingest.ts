import type { EventType } from '../events/schemas.ts';
import { utcDate } from '../events/timestamps.ts';
import { lakeLayout, newBatchId } from '../lake/layout.ts';
import { ColumnBatch } from '../lake/parquet.ts';
import type { ColumnSpec } from '../lake/parquet.ts';
import { rawColumns } from '../lake/raw-tables.ts';
import type { RejectedRecord } from '../lake/raw-tables.ts';
import type { ObjectStore } from '../ports.ts';
import type { RawRecord, RecordBatches } from './records.ts';
import { validateRecord } from './validate.ts';
import type { OrderRow, SurveyRow } from './validate.ts';

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
const REJECTS_PER_FLUSH = 50_000;
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
 * Accepted rows buffered by day, the raw tables' partitions: encoded to one Parquet file per
 * day on flush.
 */
export class RowPartitions {
  private partitions = new Map<string, ColumnBatch>();
  private readonly days = new Map<number, string>();
  private readonly columns: readonly ColumnSpec[];
  // Columns that do not come from the event itself; reused for every row (append copies values).
  private readonly delivery: Record<string, unknown>;
  size = 0;

  constructor(batch: BatchIdentity) {
    this.columns = rawColumns[batch.eventType];
    this.delivery = { occurred_at: 0, received_at: batch.receivedAt.getTime(), ingest_id: batch.ingestId, source: batch.source, record_number: 0 };
  }

  append(row: OrderRow | SurveyRow, recordNumber: number): void {
    const date = this.dateOf(row.occurred_at_ms);
    let partition = this.partitions.get(date);
    if (!partition) this.partitions.set(date, (partition = new ColumnBatch(this.columns)));
    this.delivery['occurred_at'] = row.occurred_at_ms;
    this.delivery['record_number'] = recordNumber;
    partition.append(row as unknown as Record<string, unknown>, this.delivery);
    this.size += 1;
  }

  /** Takes the buffered rows: one file per day, in no particular order. */
  *drain(): Generator<EncodedPartition> {
    const partitions = this.partitions;
    this.partitions = new Map();
    this.size = 0;
    for (const [date, partition] of partitions) yield { date, bytes: partition.toParquet() };
  }

  private dateOf(epochMs: number): string {
    const day = Math.floor(epochMs / 86_400_000);
    let date = this.days.get(day);
    if (date === undefined) this.days.set(day, (date = utcDate(epochMs)));
    return date;
  }
}

export interface EncodedPartition {
  readonly date: string;
  readonly bytes: Uint8Array;
}

/** Writes a batch's files under their keys, a few at a time, and remembers the keys. */
export class BatchWriter {
  readonly keys: string[] = [];
  private sequence = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly batch: BatchIdentity,
  ) {}

  /**
   * Writes each file as soon as it is produced, while the next one is encoded: a flush writes
   * a file per day it holds, and waiting on each write left the encoder idle.
   */
  async putPartitions(files: Iterable<EncodedPartition>): Promise<void> {
    const writes = new Set<Promise<void>>();
    try {
      for (const { date, bytes } of files) {
        const key = `${lakeLayout.rawPartition(this.batch.eventType, date)}${this.nextName()}.parquet`;
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
    const key = `${lakeLayout.rejectedPartition(this.batch.eventType, utcDate(this.batch.receivedAt.getTime()))}${this.nextName()}.jsonl`;
    await this.store.put(key, rejects.map((rejected) => JSON.stringify(rejected)).join('\n') + '\n');
    this.keys.push(key);
  }

  private nextName(): string {
    return `part-${this.batch.ingestId}-${String(this.sequence++).padStart(4, '0')}`;
  }
}

/** A refused record as kept under rejected/. */
export function rejectedRecord(batch: BatchIdentity, record: Pick<RawRecord, 'recordNumber' | 'lineNumber' | 'text'>, reason: string): RejectedRecord {
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

/**
 * The batch-level decision for a valid record, in file order: the first delivery of an
 * event_id is stored, an exact repeat is a duplicate, and a repeat with other content is
 * refused with the line of the first.
 */
export function decideDelivery(
  seen: FirstDeliveries,
  counts: IngestCounts,
  eventId: string,
  fingerprint: number,
  lineNumber: number,
): { store: true } | { store: false; reason?: string } {
  const earlier = seen.get(eventId);
  if (earlier === undefined) {
    seen.add(eventId, fingerprint, lineNumber);
    counts.accepted += 1;
    counts.stored += 1;
    return { store: true };
  }
  if (earlier.fingerprint === fingerprint) {
    counts.accepted += 1;
    counts.duplicates += 1;
    return { store: false };
  }
  return {
    store: false,
    reason: `event_id: ${JSON.stringify(eventId)} was already received on line ${earlier.lineNumber} of this file with different content`,
  };
}

/** Rejections of a batch: counted, kept for writing, the first few kept for the report. */
export class Rejections {
  pending: RejectedRecord[] = [];
  readonly sample: RejectedRecord[] = [];

  constructor(
    private readonly batch: BatchIdentity,
    private readonly counts: IngestCounts,
  ) {}

  add(record: Pick<RawRecord, 'recordNumber' | 'lineNumber' | 'text'>, reason: string): void {
    this.counts.rejected += 1;
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
  let lastRecord = { recordNumber: 0, lineNumber: 0 };

  try {
    for await (const chunk of records) for (const record of chunk) {
      counts.received += 1;
      lastRecord = record;
      const validation = validateRecord(batch.eventType, record);
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

const numberBits = new Float64Array(1);
const numberWords = new Uint32Array(numberBits.buffer);

/**
 * A 53-bit hash (cyrb53) of the row's values in column order (strings by character with their
 * length, numbers by their bits, null as its own mark): tells an exact re-delivery from a
 * conflicting one without keeping every row in memory, and without serializing the row. At 53
 * bits a collision among even ten million distinct events in one file is about a
 * one-in-a-hundred-million chance.
 */
export function fingerprintOf(row: object): number {
  hashState[0] = 0xdeadbeef;
  hashState[1] = 0x41c6ce57;
  for (const value of Object.values(row)) {
    if (typeof value === 'string') {
      mix(value.length);
      for (let index = 0; index < value.length; index += 1) mix(value.charCodeAt(index));
    } else if (typeof value === 'number') {
      numberBits[0] = value;
      mix(numberWords[0]!);
      mix(numberWords[1]! ^ 0x9e3779b9);
    } else {
      mix(0x85ebca6b);
    }
  }
  let h1 = hashState[0]!;
  let h2 = hashState[1]!;
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** The two 32-bit lanes of the hash; module state rather than a closure made per row. */
const hashState = new Int32Array(2);

function mix(code: number): void {
  hashState[0] = Math.imul(hashState[0]! ^ code, 2654435761);
  hashState[1] = Math.imul(hashState[1]! ^ code, 1597334677);
}

/**
 * The first delivery of each event_id in the batch: its fingerprint and line. The map holds
 * small integers only; the values live in typed arrays, so ten million entries are not ten
 * million objects for the collector to trace.
 */
export class FirstDeliveries {
  private readonly slots = new Map<string, number>();
  private fingerprints = new Float64Array(1024);
  private lines = new Float64Array(1024);

  get(eventId: string): { fingerprint: number; lineNumber: number } | undefined {
    const slot = this.slots.get(eventId);
    return slot === undefined ? undefined : { fingerprint: this.fingerprints[slot]!, lineNumber: this.lines[slot]! };
  }

  add(eventId: string, fingerprint: number, lineNumber: number): void {
    const slot = this.slots.size;
    if (slot === this.fingerprints.length) {
      this.fingerprints = grow(this.fingerprints);
      this.lines = grow(this.lines);
    }
    this.fingerprints[slot] = fingerprint;
    this.lines[slot] = lineNumber;
    this.slots.set(eventId, slot);
  }
}

function grow(values: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> {
  const larger = new Float64Array(values.length * 2);
  larger.set(values);
  return larger;
}

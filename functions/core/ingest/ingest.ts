import type { EventType } from '../events/schemas.ts';
import { utcDate } from '../events/timestamps.ts';
import { lakeLayout, newBatchId } from '../lake/layout.ts';
import { ColumnBatch } from '../lake/parquet.ts';
import { rawColumns } from '../lake/raw-tables.ts';
import type { RejectedRecord } from '../lake/raw-tables.ts';
import type { ObjectStore } from '../ports.ts';
import type { RawRecord, RecordBatches } from './records.ts';
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

const DEFAULT_ROWS_PER_FLUSH = 1_000_000;
const REJECTS_PER_FLUSH = 50_000;
const SAMPLE_REJECTIONS = 5;
const WRITES_IN_FLIGHT = 8;

/**
 * Validates records, drops exact duplicates within the batch, writes accepted rows as ZSTD
 * Parquet under raw/<type>/dt=<UTC date>/ and every refused record, verbatim and with its
 * reason, under rejected/<type>/dt=<received date>/. Nothing received goes unaccounted:
 * received = accepted + rejected.
 */
export async function ingestRecords(records: RecordBatches, options: IngestOptions): Promise<IngestResult> {
  const { eventType, source, store } = options;
  const receivedAt = options.receivedAt ?? new Date();
  const ingestId = options.ingestId ?? newBatchId(receivedAt);
  const rowsPerFlush = options.rowsPerFlush ?? DEFAULT_ROWS_PER_FLUSH;
  const progressEvery = options.progressEvery ?? 100_000;
  const receivedAtMs = receivedAt.getTime();
  const receivedAtIso = receivedAt.toISOString();
  const columns = rawColumns[eventType];

  const counts: IngestCounts = { received: 0, accepted: 0, rejected: 0, duplicates: 0, stored: 0 };
  // Columns that do not come from the event itself; reused for every row (append copies values).
  const delivery: Record<string, unknown> = { occurred_at: 0, received_at: receivedAtMs, ingest_id: ingestId, source, record_number: 0 };
  const days = new Map<number, string>();
  const dayOf = (epochMs: number) => {
    const day = Math.floor(epochMs / 86_400_000);
    let date = days.get(day);
    if (date === undefined) days.set(day, (date = utcDate(epochMs)));
    return date;
  };
  const keys: string[] = [];
  const sampleRejections: RejectedRecord[] = [];
  const seen = new FirstDeliveries();
  let partitions = new Map<string, ColumnBatch>();
  let buffered = 0;
  let rejects: RejectedRecord[] = [];
  let fileSequence = 0;
  let lastRecord = { recordNumber: 0, lineNumber: 0 };

  const reject = (record: Pick<RawRecord, 'recordNumber' | 'lineNumber' | 'text'>, reason: string) => {
    counts.rejected += 1;
    const rejected: RejectedRecord = {
      event_type: eventType,
      reason,
      payload: record.text,
      received_at: receivedAtIso,
      ingest_id: ingestId,
      source,
      record_number: record.recordNumber,
      line_number: record.lineNumber,
    };
    rejects.push(rejected);
    if (sampleRejections.length < SAMPLE_REJECTIONS) sampleRejections.push(rejected);
  };

  const flushRows = async () => {
    // Files are encoded one after the other and written while the next is encoded: a flush
    // writes a file per day it holds, and waiting on each write left the encoder idle.
    const writes = new Set<Promise<void>>();
    try {
      for (const [date, batch] of partitions) {
        const key = `${lakeLayout.rawPartition(eventType, date)}part-${ingestId}-${String(fileSequence++).padStart(4, '0')}.parquet`;
        const write: Promise<void> = store.put(key, batch.toParquet()).then(() => void writes.delete(write));
        writes.add(write);
        keys.push(key);
        if (writes.size >= WRITES_IN_FLIGHT) await Promise.race(writes);
      }
      await Promise.all(writes);
    } catch (error) {
      await Promise.allSettled(writes);
      throw error;
    }
    partitions = new Map();
    buffered = 0;
  };

  const flushRejects = async () => {
    if (rejects.length === 0) return;
    const key = `${lakeLayout.rejectedPartition(eventType, utcDate(receivedAtMs))}part-${ingestId}-${String(fileSequence++).padStart(4, '0')}.jsonl`;
    await store.put(key, rejects.map((rejected) => JSON.stringify(rejected)).join('\n') + '\n');
    keys.push(key);
    rejects = [];
  };

  try {
    for await (const batch of records) for (const record of batch) {
      counts.received += 1;
      lastRecord = record;
      const validation = validateRecord(eventType, record);
      if (!validation.ok) {
        reject(record, validation.reason);
      } else {
        const row = validation.row;
        const fingerprint = fingerprintOf(row);
        const earlier = seen.get(row.event_id);
        if (earlier === undefined) {
          seen.add(row.event_id, fingerprint, record.lineNumber);
          counts.accepted += 1;
          counts.stored += 1;
          const date = dayOf(row.occurred_at_ms);
          let batch = partitions.get(date);
          if (!batch) partitions.set(date, (batch = new ColumnBatch(columns)));
          delivery.occurred_at = row.occurred_at_ms;
          delivery.record_number = record.recordNumber;
          batch.append(row as unknown as Record<string, unknown>, delivery);
          buffered += 1;
        } else if (earlier.fingerprint === fingerprint) {
          counts.accepted += 1;
          counts.duplicates += 1;
        } else {
          reject(
            record,
            `event_id: ${JSON.stringify(row.event_id)} was already received on line ${earlier.lineNumber} of this file with different content`,
          );
        }
      }
      if (buffered >= rowsPerFlush) await flushRows();
      if (rejects.length >= REJECTS_PER_FLUSH) await flushRejects();
      if (counts.received % progressEvery === 0) options.onProgress?.({ ...counts });
    }
  } catch (error) {
    // A damaged compressed stream is bad input, not a system failure: the unreadable tail is
    // kept as one rejected record so that what was received is still accounted for.
    if (!isCorruptCompression(error)) throw error;
    counts.received += 1;
    reject(
      { recordNumber: lastRecord.recordNumber + 1, lineNumber: lastRecord.lineNumber + 1, text: '' },
      `input ended unexpectedly: ${(error as Error).message}`,
    );
  }
  await flushRows();
  await flushRejects();
  options.onProgress?.({ ...counts });
  return { ...counts, ingestId, keys, sampleRejections };
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
function fingerprintOf(row: object): number {
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
class FirstDeliveries {
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

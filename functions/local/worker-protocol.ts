/*
 * The messages between the main thread of a parallel ingest (parallel-ingest.ts) and its
 * workers (ingest-worker.ts), and which worker encodes which day. Kept apart so that a worker
 * loads only what it runs.
 */
import type { EventType } from '../core/events/schemas.ts';
import type { EncodedPartition } from '../core/ingest/batch-output.ts';

/** What a worker is started with. */
export interface WorkerSetup {
  readonly eventType: EventType;
  readonly source: string;
  readonly ingestId: string;
  readonly receivedAtMs: number;
  /** Events dated before this instant are refused (validateRecord). */
  readonly earliestEventMs: number;
  /** The erasure register (key and keyed ids with their dates), when anyone was erased. */
  readonly erasure?: { readonly key: Uint8Array; readonly dates: readonly (readonly [string, string])[] };
  /** A day of which a worker holds fewer rows than this at a flush goes to its owner; more, and the worker writes its own file. */
  readonly handOffBelowRows: number;
  /** This worker's index among `workers`: which days it owns (dayOwner). */
  readonly index: number;
  readonly workers: number;
}

/** A day's rows (`YYYY-MM-DD`) as an Arrow IPC stream, handed to the worker that owns the day. */
export interface DayRows {
  readonly date: string;
  readonly ipc: Uint8Array;
}

export type ToWorker =
  | {
      type: 'chunk';
      chunkIndex: number;
      /** Whole lines (the last terminator included), or the kept prefix of an oversized line. */
      bytes: Uint8Array;
      firstLineNumber: number;
      firstRecordNumber: number;
      /** Set when the chunk is one line over the limit (bytes is then its prefix). */
      oversized?: { bytes: number; sha256: string };
    }
  | ChunkDecision
  /** Take the rows stored so far (every decision sent before this message) and hand off the days of others. */
  | { type: 'flush'; flush: number }
  /** The other workers' rows of this worker's days, for that flush: encode them with its own. */
  | { type: 'merge'; flush: number; parts: readonly DayRows[] };

export interface ChunkDecision {
  readonly type: 'decide';
  readonly chunkIndex: number;
  /** Per valid record of the chunk, in order: 1 to store it, 0 not to. */
  readonly store: Uint8Array;
  /** Valid records refused as conflicting repeats, by their index among the valid ones. */
  readonly conflicts: readonly { index: number; reason: string }[];
}

export interface RefusedRecord {
  readonly recordNumber: number;
  readonly lineNumber: number;
  /** Null for a record not to be kept as received (it names an erased customer). */
  readonly text: string | null;
  readonly reason: string;
}

/** A parsed chunk: its valid records' ids, fingerprints and lines, and what failed validation. */
export interface ChunkParsed {
  readonly type: 'parsed';
  readonly chunkIndex: number;
  readonly received: number;
  readonly ids: readonly string[];
  readonly fingerprints: Float64Array;
  readonly lineNumbers: Float64Array;
  readonly rejects: readonly RefusedRecord[];
}

/** A decided chunk: the conflicting repeats with their text. */
export interface ChunkDecided {
  readonly type: 'decided';
  readonly chunkIndex: number;
  readonly conflicts: readonly RefusedRecord[];
}

export type FromWorker =
  | ChunkParsed
  | ChunkDecided
  /** A worker's rows of the days it does not own, for one flush (possibly none). */
  | { type: 'handoff'; flush: number; parts: readonly DayRows[] }
  /** The files of the days a worker owns, for one flush. */
  | { type: 'flushed'; flush: number; files: readonly EncodedPartition[] };

/** The worker that encodes a day's files: days go round the workers in turn. */
export function dayOwner(date: string, workers: number): number {
  const day = Math.floor(Date.parse(date) / 86_400_000);
  return ((day % workers) + workers) % workers;
}

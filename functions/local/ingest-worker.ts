/**
 * One thread of a parallel ingest (parallel-ingest.ts): parses and validates the chunks of a
 * JSON Lines file it is given, and once the main thread has decided which rows are first
 * deliveries, buffers those by day. On each flush it hands the days other workers own to them
 * and encodes the days it owns, its own rows and theirs in one file a day. The main thread
 * writes the files and keeps every count, so a batch is decided exactly as the sequential path
 * decides it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ErasedCustomers } from '../core/erasure/register.ts';
import { screenRecord } from '../core/erasure/screen.ts';
import { RowPartitions } from '../core/ingest/batch-output.ts';
import type { BatchIdentity, EncodedPartition } from '../core/ingest/batch-output.ts';
import { ColumnBatch, transferablesOf } from '../core/lake/parquet.ts';
import type { ColumnsPart } from '../core/lake/parquet.ts';
import { rawColumns } from '../core/lake/raw-tables.ts';
import { fingerprintOf } from '../core/ingest/deliveries.ts';
import { recordsOfLines } from '../core/ingest/jsonl.ts';
import { linesOfBlock, oversizedLine, withoutFinalNewline } from '../core/ingest/lines.ts';
import type { RawRecord } from '../core/ingest/records.ts';
import type { AnyEventRow } from '../core/ingest/validate.ts';
import type { ChunkDecided, ChunkDecision, ChunkParsed, FilesReady, RefusedRecord, ToWorker, WorkerSetup } from './parallel-ingest.ts';

const setup = workerData as WorkerSetup;
const batch: BatchIdentity = { eventType: setup.eventType, source: setup.source, ingestId: setup.ingestId, receivedAt: new Date(setup.receivedAtMs) };
const rows = new RowPartitions(batch);
const erased = setup.erasure ? ErasedCustomers.of(setup.erasure.key, new Map(setup.erasure.dates)) : ErasedCustomers.none;
/** Valid records of parsed chunks, waiting for the main thread's decision; texts null where not to be kept. */
const waiting = new Map<number, { records: RawRecord[]; texts: (string | null)[]; rows: AnyEventRow[] }>();

function parse(message: Extract<ToWorker, { type: 'chunk' }>): ChunkParsed {
  // The chunk ends at a line end (or the end of the file); that last terminator ends no line here.
  const lines = message.oversized
    ? [oversizedLine(message.firstLineNumber, { ...message.oversized, prefix: message.bytes })]
    : linesOfBlock(withoutFinalNewline(message.bytes), message.firstLineNumber);
  const records = recordsOfLines(lines, message.firstRecordNumber);
  const valid: RawRecord[] = [];
  const texts: (string | null)[] = [];
  const validRows: AnyEventRow[] = [];
  const ids: string[] = [];
  const fingerprints: number[] = [];
  const lineNumbers: number[] = [];
  const rejects: RefusedRecord[] = [];
  for (const record of records) {
    const { validation, keepPayload } = screenRecord(setup.eventType, record, setup.earliestEventMs, erased);
    const text = keepPayload ? record.text : null;
    if (!validation.ok) {
      rejects.push({ recordNumber: record.recordNumber, lineNumber: record.lineNumber, text, reason: validation.reason });
      continue;
    }
    valid.push(record);
    texts.push(text);
    validRows.push(validation.row);
    ids.push(validation.row.event_id);
    fingerprints.push(fingerprintOf(validation.row));
    lineNumbers.push(record.lineNumber);
  }
  waiting.set(message.chunkIndex, { records: valid, texts, rows: validRows });
  return {
    type: 'parsed',
    chunkIndex: message.chunkIndex,
    received: records.length,
    ids,
    fingerprints: Float64Array.from(fingerprints),
    lineNumbers: Float64Array.from(lineNumbers),
    rejects,
  };
}

function apply(message: ChunkDecision): ChunkDecided {
  const chunk = waiting.get(message.chunkIndex)!;
  waiting.delete(message.chunkIndex);
  const conflicts: RefusedRecord[] = [];
  const reasons = new Map(message.conflicts.map((conflict) => [conflict.index, conflict.reason]));
  chunk.rows.forEach((row, index) => {
    const record = chunk.records[index]!;
    if (message.store[index] === 1) rows.append(row, record.recordNumber);
    const reason = reasons.get(index);
    if (reason !== undefined) conflicts.push({ recordNumber: record.recordNumber, lineNumber: record.lineNumber, text: chunk.texts[index] ?? null, reason });
  });
  return { type: 'decided', chunkIndex: message.chunkIndex, conflicts };
}

/** A day's rows, handed from the worker that buffered them to the one that owns the day. */
interface DayRows {
  readonly date: string;
  readonly part: ColumnsPart;
}

/** Rows the other workers handed over, by flush round: how many of them did, and what. */
const handedOver = new Map<number, { from: number; days: DayRows[]; complete?: () => void }>();
const peerCount = setup.workers - 1;

function handOffs(round: number) {
  let entry = handedOver.get(round);
  if (!entry) handedOver.set(round, (entry = { from: 0, days: [] }));
  return entry;
}

setup.peers.forEach((port) => {
  port?.on('message', (message: { round: number; days: DayRows[] }) => {
    const entry = handOffs(message.round);
    entry.days.push(...message.days);
    entry.from += 1;
    if (entry.from === peerCount) entry.complete?.();
  });
});

/** Every other worker's rows of this round's days that this worker owns. */
function handedOverIn(round: number): Promise<DayRows[]> {
  const entry = handOffs(round);
  return new Promise((resolve) => {
    const complete = () => {
      handedOver.delete(round);
      resolve(entry.days);
    };
    if (entry.from === peerCount) complete();
    else entry.complete = complete;
  });
}

/** The worker that writes a day's file: the days dealt out in turn. */
function ownerOf(date: string): number {
  const day = Math.floor(Date.parse(date) / 86_400_000);
  return ((day % setup.workers) + setup.workers) % setup.workers;
}

/**
 * One flush: the rows buffered so far are handed to the days' owners at once (so that later
 * decisions go to the next flush) and this worker's days encoded once the others' rows are in:
 * a file a day, or several of at most rowsPerFile rows each (a worker's own rows of a day are
 * never split), so that a day most events fall on does not make one file of every thread's rows.
 */
function flush(round: number): () => Promise<EncodedPartition[]> {
  const owned = new Map<string, { own: ColumnBatch | undefined; parts: ColumnsPart[] }>();
  const outgoing: DayRows[][] = setup.peers.map(() => []);
  for (const [date, batch] of rows.take()) {
    const owner = ownerOf(date);
    if (owner === setup.index) owned.set(date, { own: batch, parts: [] });
    else outgoing[owner]!.push({ date, part: batch.columnsPart() });
  }
  setup.peers.forEach((port, peer) => {
    const days = outgoing[peer]!;
    port?.postMessage({ round, days }, transferablesOf(days.map((day) => day.part)));
  });
  return async () => {
    for (const { date, part } of await handedOverIn(round)) {
      let entry = owned.get(date);
      if (!entry) owned.set(date, (entry = { own: undefined, parts: [] }));
      entry.parts.push(part);
    }
    const files: EncodedPartition[] = [];
    for (const [date, { own, parts }] of owned) {
      // Each day's rows are let go once its files are encoded.
      owned.delete(date);
      let first = own ?? new ColumnBatch(rawColumns[setup.eventType]);
      let together: ColumnsPart[] = [];
      let held = first.length;
      for (const part of parts) {
        if (held > 0 && held + part.length > setup.rowsPerFile) {
          files.push({ date, bytes: first.toParquet(together) });
          first = new ColumnBatch(rawColumns[setup.eventType]);
          together = [];
          held = 0;
        }
        together.push(part);
        held += part.length;
      }
      files.push({ date, bytes: first.toParquet(together) });
    }
    return files;
  };
}

/** The files' buffers, to move rather than copy to the main thread (each file owns its buffer). */
const transferables = (files: EncodedPartition[]) =>
  files.map((file, index) => {
    if (file.bytes.byteOffset !== 0 || file.bytes.byteLength !== file.bytes.buffer.byteLength) files[index] = { ...file, bytes: file.bytes.slice() };
    return files[index]!.bytes.buffer as ArrayBuffer;
  });

// Flushes are encoded one after the other, so that the last one's files come with `finished`.
let flushes = Promise.resolve();
// A flush that fails stops the worker (the main thread fails the ingest on its error), rather
// than leave a rejected promise that a process not stopping on those would wait on forever.
const stop = (error: unknown) => {
  setImmediate(() => {
    throw error;
  });
};

parentPort!.on('message', (message: ToWorker) => {
  if (message.type === 'chunk') {
    const parsed = parse(message);
    parentPort!.postMessage(parsed, [parsed.fingerprints.buffer as ArrayBuffer, parsed.lineNumbers.buffer as ArrayBuffer]);
  } else if (message.type === 'decide') {
    parentPort!.postMessage(apply(message));
  } else {
    const encode = flush(message.round);
    const type = message.type === 'flush' ? 'flushed' : 'finished';
    flushes = flushes
      .then(async () => {
        const files = await encode();
        parentPort!.postMessage({ type, files } satisfies FilesReady, transferables(files));
      })
      .catch(stop);
  }
});

import { open, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ErasedCustomers } from '../core/erasure/register.ts';
import type { EventType } from '../core/events/schemas.ts';
import { batchIdentity, BatchWriter, Rejections } from '../core/ingest/batch-output.ts';
import { countDelivery, FirstDeliveries } from '../core/ingest/deliveries.ts';
import type { EventIds } from '../core/ingest/event-ids.ts';
import { ingestRecords } from '../core/ingest/ingest.ts';
import { DEFAULT_ROWS_PER_FLUSH, newCounts } from '../core/ingest/ingest-types.ts';
import type { IngestOptions, IngestResult } from '../core/ingest/ingest-types.ts';
import { isPlainJsonLines, openRecords } from '../core/ingest/open-input.ts';
import type { InputFormat } from '../core/ingest/records.ts';
import { startsWithByteOrderMark, withinLimit } from '../core/ingest/lines.ts';
import { MAX_RECORD_BYTES, OversizedAccumulator } from '../core/ingest/oversized.ts';
import type { OversizedRecord } from '../core/ingest/oversized.ts';
import { bundledModuleUrl } from './source-bundle.mjs';
import { DEFAULT_EARLIEST_EVENT_DATE, earliestEventMs } from '../core/events/timestamps.ts';

/*
 * Ingest of one large JSON Lines file on several threads. The main thread reads the file in
 * chunks that end at line ends; workers parse and validate chunks in parallel, numbering
 * lines and records within each; the main thread then decides, chunk by chunk in file order
 * (numbering them in the file as it goes),
 * which valid records are first deliveries, exact repeats or conflicting repeats (the same
 * FirstDeliveries as the sequential path, so counts, reasons and stored rows are the same);
 * workers buffer the stored rows and encode them as a file whenever they hold their share of
 * rowsPerFlush (divided by the workers, rounded up), and once more at the end, all under the
 * partition of the day the batch was received. Once the whole file has been handed out, a
 * worker (when there are several) writes its files at twice its share, so that what it holds
 * then usually goes into its last file and the workers encode their last files at the same
 * time: a worker that filled its share just before the end used to encode it while the others
 * waited for its decisions, then the others encoded theirs while it waited (bench/HISTORY.md).
 * The main thread writes every file.
 */

/** What a worker is started with. */
export interface WorkerSetup {
  readonly eventType: EventType;
  readonly source: string;
  readonly ingestId: string;
  readonly receivedAtMs: number;
  /** Rows a file holds at most: a worker encodes its rows whenever it holds this many. */
  readonly rowsPerFile: number;
  /** Events dated before this instant are refused (validateRecord). */
  readonly earliestEventMs: number;
  /** The erasure register (key and keyed ids with their dates), when anyone was erased. */
  readonly erasure?: { readonly key: Uint8Array; readonly dates: readonly (readonly [string, string])[] };
}

export type ToWorker =
  | {
      type: 'chunk';
      chunkIndex: number;
      /** Whole lines (the last terminator included), or the kept prefix of an oversized line. */
      bytes: Uint8Array;
      /** Set when the chunk is one line over the limit (bytes is then its prefix). */
      oversized?: { bytes: number; sha256: string };
    }
  | ChunkDecision
  /** Every chunk has been handed out: write files at twice rowsPerFile from now on. */
  | { type: 'inputRead' }
  /** Encode the rows still held, after the last decision. */
  | { type: 'finish' };

export interface ChunkDecision {
  readonly type: 'decide';
  readonly chunkIndex: number;
  /** The lines and records of the file before the chunk (the worker numbers its own from 1). */
  readonly linesBefore: number;
  readonly recordsBefore: number;
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

/**
 * A parsed chunk: its valid records' ids, fingerprints and lines, and what failed validation.
 * Lines and records are numbered from 1 within the chunk: only the main thread, deciding the
 * chunks in file order, knows how many came before.
 */
export interface ChunkParsed {
  readonly type: 'parsed';
  readonly chunkIndex: number;
  readonly lines: number;
  readonly received: number;
  /** The valid records' event_ids, as bytes (event-ids.ts). */
  readonly ids: EventIds;
  readonly fingerprints: Float64Array;
  readonly lineNumbers: Float64Array;
  readonly rejects: readonly RefusedRecord[];
}

/** A decided chunk: the conflicting repeats with their text, numbered in the file. */
export interface ChunkDecided {
  readonly type: 'decided';
  readonly chunkIndex: number;
  readonly conflicts: readonly RefusedRecord[];
  /** The chunk's buffer, given back to be read into again. */
  readonly spare: ArrayBuffer;
}

/**
 * A worker's file of rowsPerFile rows (twice as many at most after `inputRead`); `finished`
 * answers `finish` with the rest (none when it held no rows).
 */
export interface FilesReady {
  readonly type: 'flushed' | 'finished';
  readonly files: readonly Uint8Array[];
}

type FromWorker = ChunkParsed | ChunkDecided | FilesReady;

export interface ParallelOptions {
  /** Worker threads; default: the cores available, at most 4. */
  readonly workers?: number;
  /** Bytes read per chunk; default 1 MiB. */
  readonly chunkBytes?: number;
}

/** Plain JSON Lines files at least this large are ingested in parallel (when there are cores to spare). */
export const PARALLEL_MIN_BYTES = 32 * 2 ** 20;
const CHUNKS_IN_FLIGHT_PER_WORKER = 16;
/** Each worker's young generation, in MiB (V8 makes its semi-spaces 2 MiB of it; its default is 48 MiB). */
const YOUNG_GENERATION_MB = 4;
const NEWLINE = 0x0a;

/** Worker threads a parallel ingest would use here: 0 when the machine has one core. */
export function defaultWorkers(): number {
  const cores = availableParallelism();
  return cores < 2 ? 0 : Math.min(cores, 4);
}

/**
 * The file as chunks to hand to workers, cut exactly as the sequential reader cuts it
 * (lineBlocks): whole lines after the byte-order mark, and a line over the limit as a chunk of
 * its own holding its kept prefix, never held whole. Each chunk is read into a buffer of its
 * own, after the unfinished line the previous read ended with, and is moved to a worker as it
 * is: reading through a stream and lineBlocks copied every byte twice more into fresh memory,
 * which took the main thread about a second for a 130 MB file (bench/HISTORY.md).
 */
async function* chunksOf(path: string, chunkBytes: number, spareBuffers: ArrayBuffer[]): AsyncGenerator<Chunk> {
  const file = await open(path);
  try {
    let carry = new Uint8Array(0);
    let first = true;
    // A line over the limit, streamed through a digest until its end is read.
    let long: OversizedAccumulator | undefined;
    for (;;) {
      // A chunk's worth with the carry, unless the carry is a long line: then as much again.
      const room = carry.length < chunkBytes / 2 ? chunkBytes - carry.length : chunkBytes;
      // The workers give each chunk's buffer back: reading into one again touches no fresh memory.
      const buffer = carry.length + room === chunkBytes && spareBuffers.length > 0 ? new Uint8Array(spareBuffers.pop()!) : new Uint8Array(carry.length + room);
      buffer.set(carry);
      const { bytesRead } = await file.read(buffer, carry.length, room, null);
      const atEnd = bytesRead === 0;
      let data = buffer.subarray(0, carry.length + bytesRead);
      carry = new Uint8Array(0);
      if (first && data.length > 0) {
        first = false;
        if (startsWithByteOrderMark(data)) data = data.subarray(3);
      }
      if (long) {
        const end = data.indexOf(NEWLINE);
        if (end < 0 && !atEnd) {
          long.add(data);
          continue;
        }
        const lineEnd = end < 0 ? data.length : end;
        long.add(data.subarray(0, lineEnd));
        yield oversizedChunk(long.finish());
        long = undefined;
        data = data.subarray(Math.min(data.length, lineEnd + 1));
      }
      if (atEnd) {
        yield* movable(data);
        return;
      }
      const lastNewline = data.lastIndexOf(NEWLINE);
      if (lastNewline < 0) {
        if (data.length > MAX_RECORD_BYTES) {
          long = new OversizedAccumulator();
          long.add(data);
        } else carry = data;
        continue;
      }
      // The unfinished line is copied out before the chunk's buffer is moved to a worker.
      carry = data.slice(lastNewline + 1);
      yield* movable(data.subarray(0, lastNewline + 1));
    }
  } finally {
    await file.close();
  }
}

/** A chunk for a worker: whole lines, or the kept prefix of a line over the limit with its size and digest. */
interface Chunk {
  readonly bytes: Uint8Array;
  readonly oversized?: { bytes: number; sha256: string };
}

const oversizedChunk = (record: OversizedRecord): Chunk => ({ bytes: record.prefix, oversized: { bytes: record.bytes, sha256: record.sha256 } });

/** A block as chunks that can each be moved to a worker: itself, or copies of its pieces when a line over the limit splits it. */
function* movable(block: Uint8Array): Generator<Chunk> {
  if (block.length === 0) return;
  if (block.length <= MAX_RECORD_BYTES) {
    yield { bytes: block };
    return;
  }
  for (const piece of withinLimit({ bytes: block })) {
    if (piece.oversized) yield oversizedChunk(piece.oversized);
    else yield { bytes: piece.bytes.slice() };
  }
}

/**
 * Ingests a plain (uncompressed) JSON Lines file on worker threads. Same contract and same
 * result as ingestRecords over the file: accepted + rejected = received, duplicates and
 * conflicts decided in file order, rows stored once.
 */
export async function ingestJsonLinesFile(path: string, options: IngestOptions & ParallelOptions): Promise<IngestResult> {
  const batch = batchIdentity(options);
  const workerCount = Math.max(1, options.workers ?? defaultWorkers());
  const progressEvery = options.progressEvery ?? 100_000;
  const counts = newCounts();
  const writer = new BatchWriter(options.store, batch);
  // Rejections are counted when their chunk is decided, with its other records, so that every
  // progress report adds up; they are written when it is recorded.
  const rejections = new Rejections(batch);
  // Room for an event per 150 bytes of file (ordinary orders take 190-270), at most 20 million to begin with.
  const seen = new FirstDeliveries(Math.min((await stat(path)).size / 150, 20_000_000));
  const erased = options.erased ?? (await ErasedCustomers.load(options.store));
  const common = {
    eventType: batch.eventType,
    source: batch.source,
    ingestId: batch.ingestId,
    receivedAtMs: batch.receivedAt.getTime(),
    // Its share of what the sequential path holds before it writes a file. Each holding the whole
    // of it, the workers reached it near the end of a 500k-event file and one then encoded its
    // file alone while the other core waited (1.3 s of a 7 s ingest); with shares they flush while
    // the others parse, and encode their last shares at the same time.
    rowsPerFile: Math.ceil((options.rowsPerFlush ?? DEFAULT_ROWS_PER_FLUSH) / workerCount),
    earliestEventMs: earliestEventMs(options.earliestEventDate ?? DEFAULT_EARLIEST_EVENT_DATE),
    ...(!erased.isEmpty && { erasure: { key: erased.secret!, dates: [...erased.dates] } }),
  };
  const workers: Worker[] = [];

  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  let signalled = false;
  const chunkBytes = options.chunkBytes ?? 1 * 2 ** 20;
  const spareBuffers: ArrayBuffer[] = [];
  const parsed = new Map<number, ChunkParsed>();
  const decided = new Map<number, ChunkDecided>();
  const finished: (readonly Uint8Array[] | undefined)[] = Array.from({ length: workerCount }, () => undefined);
  const inFlight = Array.from({ length: workerCount }, () => 0);
  // A message that arrives while the main thread is busy is remembered, so no wait misses it.
  const signal = () => {
    signalled = true;
    wake?.();
    wake = undefined;
  };
  const waitForWorkers = (): Promise<void> => {
    if (failure) return Promise.reject(failure);
    if (signalled) {
      signalled = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      wake = () => {
        signalled = false;
        resolve();
      };
    });
  };
  const listen = (worker: Worker, index: number) => {
    worker.on('message', (message: FromWorker) => {
      if (message.type === 'parsed') parsed.set(message.chunkIndex, message);
      else if (message.type === 'decided') {
        decided.set(message.chunkIndex, message);
        if (message.spare.byteLength === chunkBytes) spareBuffers.push(message.spare);
        inFlight[index]! -= 1;
      } else if (message.type === 'flushed') queueWrite(message.files);
      else finished[index] = message.files;
      signal();
    });
    worker.on('error', (error) => {
      failure ??= error;
      signal();
    });
    worker.on('exit', (code) => {
      // Stopping before its last files came back is a failure whatever the exit code.
      if (finished[index] === undefined) failure ??= new Error(`ingest worker ${index} stopped with exit code ${code}`);
      signal();
    });
  };

  // Files are written in the background, one flush after the other: waiting on them here would
  // hold back the decisions the workers are waiting for.
  let writes = Promise.resolve();
  const queueWrite = (files: readonly Uint8Array[]) => {
    writes = writes.then(() => writer.putRawFiles(files));
    writes.catch((error: Error) => {
      failure ??= error;
      signal();
    });
  };
  const decisions = new Map<number, readonly RefusedRecord[]>();
  let nextToDecide = 0;
  let linesBefore = 0;
  let recordsBefore = 0;
  let nextToRecord = 0;
  let lastProgress = 0;
  /** Decides parsed chunks in file order, and records decided ones in file order. */
  const settle = async () => {
    if (failure) throw failure;
    for (let chunk = parsed.get(nextToDecide); chunk; chunk = parsed.get(nextToDecide)) {
      parsed.delete(nextToDecide);
      const { ids } = chunk;
      const store = new Uint8Array(ids.count);
      const conflicts: { index: number; reason: string }[] = [];
      for (let index = 0; index < ids.count; index += 1) {
        const start = index === 0 ? 0 : ids.ends[index - 1]!;
        const line = linesBefore + chunk.lineNumbers[index]!;
        const verdict = seen.decide(ids.bytes, start, ids.ends[index]!, ids.hashes[index]!, chunk.fingerprints[index]!, line);
        countDelivery(counts, verdict);
        if (verdict.kind === 'first') store[index] = 1;
        else if (verdict.kind === 'conflict') conflicts.push({ index, reason: verdict.reason });
      }
      counts.received += chunk.received;
      counts.rejected += chunk.rejects.length + conflicts.length;
      const numbered = (refused: RefusedRecord) => ({
        ...refused,
        lineNumber: linesBefore + refused.lineNumber,
        recordNumber: recordsBefore + refused.recordNumber,
      });
      decisions.set(nextToDecide, chunk.rejects.map(numbered));
      const message: ChunkDecision = { type: 'decide', chunkIndex: nextToDecide, linesBefore, recordsBefore, store, conflicts };
      workers[nextToDecide % workerCount]!.postMessage(message, [store.buffer]);
      linesBefore += chunk.lines;
      recordsBefore += chunk.received;
      nextToDecide += 1;
    }
    for (let chunk = decided.get(nextToRecord); chunk; chunk = decided.get(nextToRecord)) {
      decided.delete(nextToRecord);
      // Rejections in record order, as the sequential path meets them.
      const refused = [...decisions.get(nextToRecord)!, ...chunk.conflicts].sort((a, b) => a.recordNumber - b.recordNumber);
      decisions.delete(nextToRecord);
      for (const record of refused) rejections.add(record, record.reason);
      if (rejections.full) await rejections.flush(writer);
      nextToRecord += 1;
    }
    if (Math.floor(counts.received / progressEvery) > Math.floor(lastProgress / progressEvery)) options.onProgress?.({ ...counts });
    lastProgress = counts.received;
  };

  const workerUrl = await bundledModuleUrl(new URL('./ingest-worker.ts', import.meta.url));
  try {
    for (let index = 0; index < workerCount; index += 1) {
      const worker = new Worker(workerUrl, {
        workerData: common satisfies WorkerSetup,
        // Source maps on, as the command turns them on for itself: a worker's stack traces name the TypeScript.
        execArgv: [...process.execArgv, '--enable-source-maps'],
        // Most of what a worker allocates dies with its chunk, so a small young generation is
        // meant to keep it in memory already touched rather than growing into fresh pages, which
        // cost dear on the machines measured: 2-4 % less CPU and less system time at 500k
        // events, the same time at 10M (bench/HISTORY.md).
        resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
      });
      workers.push(worker);
      listen(worker, index);
    }
    let chunkIndex = 0;
    for await (const { bytes, oversized } of chunksOf(path, chunkBytes, spareBuffers)) {
      const target = chunkIndex % workerCount;
      while (inFlight[target]! >= CHUNKS_IN_FLIGHT_PER_WORKER) {
        await settle();
        if (inFlight[target]! >= CHUNKS_IN_FLIGHT_PER_WORKER) await waitForWorkers();
      }
      const message: ToWorker = { type: 'chunk', chunkIndex, bytes, ...(oversized && { oversized }) };
      workers[target]!.postMessage(message, [bytes.buffer as ArrayBuffer]);
      inFlight[target]! += 1;
      chunkIndex += 1;
      await settle();
    }
    // With one worker there is no other to encode at the same time: its files keep their size.
    if (workerCount > 1) for (const worker of workers) worker.postMessage({ type: 'inputRead' } satisfies ToWorker);
    while (nextToRecord < chunkIndex) {
      await settle();
      if (nextToRecord < chunkIndex) await waitForWorkers();
    }
    for (const worker of workers) worker.postMessage({ type: 'finish' } satisfies ToWorker);
    while (finished.some((files) => files === undefined)) await waitForWorkers();
    for (const files of finished) queueWrite(files!);
    await writes;
    await rejections.flush(writer);
  } finally {
    await writes.catch(() => undefined);
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
  options.onProgress?.({ ...counts });
  return { ...counts, ingestId: batch.ingestId, keys: writer.keys, sampleRejections: rejections.sample };
}

/**
 * Ingests one local file the way `pipeline ingest` does: a large plain JSON Lines file on
 * worker threads (when the machine has cores to spare), anything else streamed on one.
 */
export async function ingestLocalFile(path: string, options: IngestOptions, format?: InputFormat): Promise<IngestResult & { threads: number }> {
  const workers = defaultWorkers();
  if (workers > 0 && (await stat(path)).size >= PARALLEL_MIN_BYTES && (await isPlainJsonLines(path, format))) {
    return { ...(await ingestJsonLinesFile(path, { ...options, workers })), threads: workers };
  }
  return { ...(await ingestRecords(await openRecords(path, format), options)), threads: 1 };
}

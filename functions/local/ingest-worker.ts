/**
 * One thread of a parallel ingest (parallel-ingest.ts): parses and validates the chunks of a
 * JSON Lines file it is given, and once the main thread has decided which rows are first
 * deliveries, buffers those and encodes them as a file whenever it holds rowsPerFile of them
 * (twice as many once the whole input is handed out, so that the workers' last files are
 * encoded at the same time), and the rest at the end. The main thread writes the files and
 * keeps every count, so a batch is decided exactly as the sequential path decides it.
 */
import { Buffer } from 'node:buffer';
import { parentPort, workerData } from 'node:worker_threads';
import { ErasedCustomers } from '../core/erasure/register.ts';
import { screenRecord } from '../core/erasure/screen.ts';
import { RowBuffer } from '../core/ingest/batch-output.ts';
import type { BatchIdentity } from '../core/ingest/batch-output.ts';
import { fingerprintOf } from '../core/ingest/deliveries.ts';
import { EventIdList } from '../core/ingest/event-ids.ts';
import { recordOfLine, recordsOfLines } from '../core/ingest/jsonl.ts';
import { lineOf, oversizedLine, withoutFinalNewline } from '../core/ingest/lines.ts';
import { hasPlainPath, PlainLineReader, PlainRows } from '../core/ingest/plain-lines.ts';
import type { RawRecord } from '../core/ingest/records.ts';
import type { AnyEventRow } from '../core/ingest/validate.ts';
import type { ChunkDecided, ChunkDecision, ChunkParsed, FilesReady, RefusedRecord, ToWorker, WorkerSetup } from './parallel-ingest.ts';

const setup = workerData as WorkerSetup;
const batch: BatchIdentity = { eventType: setup.eventType, source: setup.source, ingestId: setup.ingestId, receivedAt: new Date(setup.receivedAtMs) };
const rows = new RowBuffer(batch, setup.rowsPerFile);
const erased = setup.erasure ? ErasedCustomers.of(setup.erasure.key, new Map(setup.erasure.dates)) : ErasedCustomers.none;
const type = setup.eventType;
const plainReader = hasPlainPath(type) ? new PlainLineReader(type, setup.earliestEventMs, erased) : undefined;
const NEWLINE = 0x0a;

/**
 * A parsed chunk's valid records, waiting for the main thread's decision, in order: those read
 * on the fast path as rows of `plain` (by index), the others as their validated rows and texts.
 */
interface Waiting {
  /** The chunk as received, its buffer given back once the chunk is decided. */
  readonly bytes: Uint8Array;
  readonly plain: PlainRows | undefined;
  /** Per valid record: its row in `plain`, or -1 - its index among `rows`. */
  readonly order: number[];
  readonly recordNumbers: number[];
  readonly lineNumbers: number[];
  /** The texts of the records off the fast path, null where not to be kept. */
  readonly texts: (string | null)[];
  readonly rows: AnyEventRow[];
}
const waiting = new Map<number, Waiting>();
/** Rows held before a file is encoded: rowsPerFile, twice as many once the input is all handed out. */
let rowsBeforeFile = setup.rowsPerFile;
/** The rows of decided chunks, to be used again. */
const spareRows: PlainRows[] = [];

function parse(message: Extract<ToWorker, { type: 'chunk' }>): ChunkParsed {
  // The chunk ends at a line end (or the end of the file); that last terminator ends no line here.
  const block = message.oversized ? message.bytes : withoutFinalNewline(message.bytes);
  const plain = plainReader && !message.oversized ? (spareRows.pop()?.reuseFor(block) ?? new PlainRows(plainReader.type, block, 8192)) : undefined;
  const chunk: Waiting = { bytes: message.bytes, plain, order: [], recordNumbers: [], lineNumbers: [], texts: [], rows: [] };
  const ids = new EventIdList(4096);
  const fingerprints: number[] = [];
  const rejects: RefusedRecord[] = [];
  let received = 0;
  /** A record off the fast path: validated (and screened) as the sequential path does it. */
  const ordinary = (record: RawRecord) => {
    const { validation, keepPayload } = screenRecord(type, record, setup.earliestEventMs, erased);
    const text = keepPayload ? record.text : null;
    if (!validation.ok) {
      rejects.push({ recordNumber: record.recordNumber, lineNumber: record.lineNumber, text, reason: validation.reason });
      return;
    }
    chunk.order.push(-1 - chunk.rows.length);
    chunk.texts.push(text);
    chunk.rows.push(validation.row);
    chunk.recordNumbers.push(record.recordNumber);
    chunk.lineNumbers.push(record.lineNumber);
    ids.addText(validation.row.event_id);
    fingerprints.push(fingerprintOf(validation.row));
  };
  // Lines and records are numbered within the chunk; the main thread numbers them in the file.
  let lines = 1;
  if (message.oversized) {
    for (const record of recordsOfLines([oversizedLine(1, { ...message.oversized, prefix: message.bytes })], 1)) {
      received += 1;
      ordinary(record);
    }
  } else {
    let lineNumber = 1;
    let start = 0;
    // Buffer's indexOf is memchr; a Uint8Array's compares byte by byte (4x slower measured, bench/HISTORY.md).
    const text = Buffer.from(block.buffer, block.byteOffset, block.byteLength);
    for (;;) {
      const newline = text.indexOf(NEWLINE, start);
      const end = newline < 0 ? block.length : newline;
      const recordNumber = 1 + received;
      if (plain && plainReader!.read(plain, start, end)) {
        const row = plain.count - 1;
        received += 1;
        chunk.order.push(row);
        chunk.recordNumbers.push(recordNumber);
        chunk.lineNumbers.push(lineNumber);
        // The event_id is every raw table's first column.
        ids.addBytes(plain.bytes, plain.starts[row * plain.slots]!, plain.ends[row * plain.slots]!);
        fingerprints.push(plain.fingerprints[row]!);
      } else {
        const record = recordOfLine(lineOf(block.subarray(start, end), lineNumber), recordNumber);
        if (record) {
          received += 1;
          ordinary(record);
        }
      }
      if (newline < 0) break;
      lineNumber += 1;
      start = newline + 1;
    }
    lines = lineNumber;
  }
  waiting.set(message.chunkIndex, chunk);
  return {
    type: 'parsed',
    chunkIndex: message.chunkIndex,
    lines,
    received,
    ids: ids.take(),
    fingerprints: Float64Array.from(fingerprints),
    lineNumbers: Float64Array.from(chunk.lineNumbers),
    rejects,
  };
}

function apply(message: ChunkDecision): ChunkDecided {
  const chunk = waiting.get(message.chunkIndex)!;
  waiting.delete(message.chunkIndex);
  const conflicts: RefusedRecord[] = [];
  const reasons = new Map(message.conflicts.map((conflict) => [conflict.index, conflict.reason]));
  for (let index = 0; index < chunk.order.length; index += 1) {
    const ref = chunk.order[index]!;
    const recordNumber = message.recordsBefore + chunk.recordNumbers[index]!;
    if (message.store[index] === 1) {
      if (ref >= 0) rows.appendSlots(chunk.plain!, ref, recordNumber);
      else rows.append(chunk.rows[-1 - ref]!, recordNumber);
      if (rows.size >= rowsBeforeFile) postFiles('flushed');
    }
    const reason = reasons.get(index);
    if (reason !== undefined) {
      // The fast path takes no record that names an erased customer in any field the screening reads: its text is kept.
      const text = ref >= 0 ? chunk.plain!.lineText(ref) : (chunk.texts[-1 - ref] ?? null);
      conflicts.push({ recordNumber, lineNumber: message.linesBefore + chunk.lineNumbers[index]!, text, reason });
    }
  }
  if (chunk.plain) spareRows.push(chunk.plain);
  // Nothing points into the chunk any more: its rows were copied into columns, its refused texts decoded.
  return { type: 'decided', chunkIndex: message.chunkIndex, conflicts, spare: chunk.bytes.buffer as ArrayBuffer };
}

/** Sends the rows held as a file, moved rather than copied to the main thread (each file owns its buffer). */
function postFiles(type: FilesReady['type']): void {
  const files = rows.drain().map((bytes) => (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice()));
  parentPort!.postMessage(
    { type, files } satisfies FilesReady,
    files.map((bytes) => bytes.buffer as ArrayBuffer),
  );
}

parentPort!.on('message', (message: ToWorker) => {
  if (message.type === 'chunk') {
    const parsed = parse(message);
    const moved = [parsed.fingerprints, parsed.lineNumbers, parsed.ids.bytes, parsed.ids.ends, parsed.ids.hashes].map((array) => array.buffer as ArrayBuffer);
    parentPort!.postMessage(parsed, moved);
  } else if (message.type === 'inputRead') {
    rowsBeforeFile = 2 * setup.rowsPerFile;
  } else if (message.type === 'decide') {
    const decided = apply(message);
    parentPort!.postMessage(decided, [decided.spare]);
  } else {
    postFiles('finished');
  }
});

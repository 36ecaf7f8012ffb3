/**
 * One thread of a parallel ingest (parallel-ingest.ts): parses and validates the chunks of a
 * JSON Lines file it is given, and once the main thread has decided which rows are first
 * deliveries, buffers those and encodes them as a file whenever it holds rowsPerFile of them
 * (and the rest at the end). The main thread writes the files and keeps every count, so a batch
 * is decided exactly as the sequential path decides it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ErasedCustomers } from '../core/erasure/register.ts';
import { screenRecord } from '../core/erasure/screen.ts';
import { RowBuffer } from '../core/ingest/batch-output.ts';
import type { BatchIdentity } from '../core/ingest/batch-output.ts';
import { fingerprintOf } from '../core/ingest/deliveries.ts';
import { recordsOfLines } from '../core/ingest/jsonl.ts';
import { linesOfBlock, oversizedLine, withoutFinalNewline } from '../core/ingest/lines.ts';
import type { RawRecord } from '../core/ingest/records.ts';
import type { AnyEventRow } from '../core/ingest/validate.ts';
import type { ChunkDecided, ChunkDecision, ChunkParsed, FilesReady, RefusedRecord, ToWorker, WorkerSetup } from './parallel-ingest.ts';

const setup = workerData as WorkerSetup;
const batch: BatchIdentity = { eventType: setup.eventType, source: setup.source, ingestId: setup.ingestId, receivedAt: new Date(setup.receivedAtMs) };
const rows = new RowBuffer(batch);
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
    if (message.store[index] === 1) {
      rows.append(row, record.recordNumber);
      if (rows.size >= setup.rowsPerFile) postFiles('flushed');
    }
    const reason = reasons.get(index);
    if (reason !== undefined) conflicts.push({ recordNumber: record.recordNumber, lineNumber: record.lineNumber, text: chunk.texts[index] ?? null, reason });
  });
  return { type: 'decided', chunkIndex: message.chunkIndex, conflicts };
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
    parentPort!.postMessage(parsed, [parsed.fingerprints.buffer as ArrayBuffer, parsed.lineNumbers.buffer as ArrayBuffer]);
  } else if (message.type === 'decide') {
    parentPort!.postMessage(apply(message));
  } else {
    postFiles('finished');
  }
});

/**
 * One thread of a parallel ingest (parallel-ingest.ts): parses and validates the chunks of a
 * JSON Lines file it is given, and once the main thread has decided which rows are first
 * deliveries, buffers those by day. On a flush it hands its rows of other workers' days over
 * as Arrow IPC and encodes its own days, with the rows handed to it, as Parquet. The main
 * thread writes the files and keeps every count, so a batch is decided exactly as the
 * sequential path decides it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as arrow from 'apache-arrow';
import { ErasedCustomers } from '../core/erasure/register.ts';
import { screenRecord } from '../core/erasure/screen.ts';
import { RowPartitions } from '../core/ingest/batch-output.ts';
import type { BatchIdentity, EncodedPartition } from '../core/ingest/batch-output.ts';
import { fingerprintOf } from '../core/ingest/deliveries.ts';
import { recordsOfLines } from '../core/ingest/jsonl.ts';
import { linesOfBlock, oversizedLine, withoutFinalNewline } from '../core/ingest/lines.ts';
import type { RawRecord } from '../core/ingest/records.ts';
import type { AnyEventRow } from '../core/ingest/validate.ts';
import type { ColumnBatch } from '../core/lake/parquet.ts';
import { tablesToParquet } from '../core/lake/parquet.ts';
import { dayOwner } from './worker-protocol.ts';
import type { ChunkDecided, ChunkDecision, ChunkParsed, DayRows, FromWorker, RefusedRecord, ToWorker, WorkerSetup } from './worker-protocol.ts';

const setup = workerData as WorkerSetup;
const batch: BatchIdentity = { eventType: setup.eventType, source: setup.source, ingestId: setup.ingestId, receivedAt: new Date(setup.receivedAtMs) };
const rows = new RowPartitions(batch);
const erased = setup.erasure ? ErasedCustomers.of(setup.erasure.key, new Map(setup.erasure.dates)) : ErasedCustomers.none;
/** Valid records of parsed chunks, waiting for the main thread's decision; texts null where not to be kept. */
const waiting = new Map<number, { records: RawRecord[]; texts: (string | null)[]; rows: AnyEventRow[] }>();
/**
 * Per flush under way, this worker's own days' rows, waiting for the other workers' rows of
 * them, and the rows of other days it encodes itself.
 */
const held = new Map<number, { own: Map<string, ColumnBatch>; separate: [string, ColumnBatch][] }>();

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

/**
 * Keeps this worker's days of the rows stored so far, and the other days it holds many rows
 * of; its few rows of other days go to their owners.
 */
function handOff(flush: number): DayRows[] {
  const own = new Map<string, ColumnBatch>();
  const separate: [string, ColumnBatch][] = [];
  const parts: DayRows[] = [];
  for (const [date, partition] of rows.take()) {
    if (dayOwner(date, setup.workers) === setup.index) own.set(date, partition);
    else if (partition.length >= setup.handOffBelowRows) separate.push([date, partition]);
    else parts.push({ date, ipc: arrow.tableToIPC(partition.arrowTable(), 'stream') });
  }
  held.set(flush, { own, separate });
  return parts;
}

/**
 * The files of a flush: one per day this worker owns, its own rows with those handed to it,
 * and one per other day it kept.
 */
function encodeDays(flush: number, parts: readonly DayRows[]): EncodedPartition[] {
  const { own, separate } = held.get(flush)!;
  held.delete(flush);
  const tables = new Map<string, arrow.Table[]>();
  for (const [date, partition] of own) tables.set(date, [partition.arrowTable()]);
  for (const { date, ipc } of parts) {
    const table = arrow.tableFromIPC(ipc);
    const day = tables.get(date);
    if (day) day.push(table);
    else tables.set(date, [table]);
  }
  return [
    ...[...tables].map(([date, day]) => ({ date, bytes: tablesToParquet(day) })),
    ...separate.map(([date, partition]) => ({ date, bytes: partition.toParquet() })),
  ];
}

/** The buffers to move rather than copy to the main thread (each file owns its buffer). */
const transferables = (buffers: Uint8Array[]) =>
  buffers.map((bytes, index) => {
    if (bytes.byteOffset !== 0 || bytes.byteLength !== bytes.buffer.byteLength) buffers[index] = bytes.slice();
    return buffers[index]!.buffer as ArrayBuffer;
  });

const post = (message: FromWorker, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(message, transfer);

parentPort!.on('message', (message: ToWorker) => {
  if (message.type === 'chunk') {
    const parsed = parse(message);
    post(parsed, [parsed.fingerprints.buffer as ArrayBuffer, parsed.lineNumbers.buffer as ArrayBuffer]);
  } else if (message.type === 'decide') post(apply(message));
  else if (message.type === 'flush') {
    const parts = handOff(message.flush);
    const buffers = parts.map((part) => part.ipc);
    const transfer = transferables(buffers);
    post({ type: 'handoff', flush: message.flush, parts: parts.map((part, index) => ({ date: part.date, ipc: buffers[index]! })) }, transfer);
  } else {
    const files = encodeDays(message.flush, message.parts);
    const buffers = files.map((file) => file.bytes);
    const transfer = transferables(buffers);
    post({ type: 'flushed', flush: message.flush, files: files.map((file, index) => ({ date: file.date, bytes: buffers[index]! })) }, transfer);
  }
});

import { ErasedCustomers } from '../erasure/register.ts';
import { namesErasedCustomer, screenRecord } from '../erasure/screen.ts';
import { EVENT_TYPES } from '../events/schemas.ts';
import type { EventType } from '../events/schemas.ts';
import { utcDate } from '../events/timestamps.ts';
import { lakeLayout, newBatchId } from '../lake/layout.ts';
import { ColumnBatch } from '../lake/parquet.ts';
import { rawColumns } from '../lake/raw-tables.ts';
import type { RejectedRecord } from '../lake/raw-tables.ts';
import type { ObjectStore } from '../ports.ts';
import { countDelivery, decideDelivery, fingerprintOf, FirstDeliveries } from './deliveries.ts';
import { newCounts } from './ingest-types.ts';
import { DEFAULT_EARLIEST_EVENT_DATE, earliestEventMs } from '../events/timestamps.ts';

/** One event received as a message (an SQS record): its id, its declared type and its body. */
export interface EventMessage {
  readonly id: string;
  readonly eventType: string | undefined;
  readonly body: string;
}

export interface MessageIngestResult {
  /** Messages that must be delivered again: their data could not be stored. */
  readonly failed: ReadonlySet<string>;
  readonly accepted: number;
  readonly rejected: number;
  readonly duplicates: number;
}

/** The accepted rows of one event type: one file. */
interface Partition {
  readonly type: EventType;
  readonly batch: ColumnBatch;
  /** Messages acknowledged when this file is stored: its rows' first deliveries and their exact repeats. */
  readonly ids: string[];
}

interface Pending {
  readonly ids: string[];
  readonly write: () => Promise<void>;
}

/**
 * Ingests a batch of messages: valid events are written as one Parquet file per event type,
 * under the UTC date the batch was received; invalid ones (bad JSON, unknown type, contract
 * violations) are kept under rejected/ with their reason, and so is a repeat of an event_id
 * with other content. All count as handled. Only a message whose file could not be written is
 * reported as failed (an exact repeat fails with its first delivery's file), so the queue
 * delivers it again: nothing is acknowledged that was not stored.
 */
export async function ingestMessages(
  messages: readonly EventMessage[],
  store: ObjectStore,
  receivedAt: Date = new Date(),
  earliestEventDate: string = DEFAULT_EARLIEST_EVENT_DATE,
): Promise<MessageIngestResult> {
  const earliestMs = earliestEventMs(earliestEventDate);
  const ingestId = newBatchId(receivedAt);
  const receivedAtIso = receivedAt.toISOString();
  // Every file of the batch goes under the day it was received (lakeLayout).
  const receivedDate = utcDate(receivedAt.getTime());
  const partitions = new Map<EventType, Partition>();
  const rejects = new Map<EventType | 'unknown', { records: RejectedRecord[]; ids: string[] }>();
  // Repeats are decided as in file ingest (per event type, in batch order); an exact repeat is
  // acknowledged with the file that holds its first delivery, whatever date it claims.
  const counts = newCounts();
  const seen = new Map<EventType, FirstDeliveries>();
  const partitionOfFirst = new Map<string, Partition>();

  const erased = await ErasedCustomers.load(store);
  const reject = (type: EventType | 'unknown', message: EventMessage, index: number, reason: string, keepPayload = true) => {
    const entry = rejects.get(type) ?? { records: [], ids: [] };
    entry.records.push({
      event_type: type as EventType,
      reason,
      payload: keepPayload ? message.body : null,
      received_at: receivedAtIso,
      ingest_id: ingestId,
      source: `message:${message.id}`,
      record_number: index + 1,
      line_number: index + 1,
    });
    entry.ids.push(message.id);
    rejects.set(type, entry);
  };

  messages.forEach((message, index) => {
    const type = (EVENT_TYPES as readonly string[]).includes(message.eventType ?? '') ? (message.eventType as EventType) : undefined;
    let value: unknown;
    let parseError: string | undefined;
    try {
      value = JSON.parse(message.body);
    } catch (error) {
      parseError = `invalid JSON: ${(error as Error).message}`;
    }
    const record = { recordNumber: index + 1, lineNumber: index + 1, text: message.body, typed: true, ...(parseError ? { parseError } : { value }) };
    if (!type) {
      reject(
        'unknown',
        message,
        index,
        `event_type: message attribute must be one of ${EVENT_TYPES.join(', ')} (got ${JSON.stringify(message.eventType ?? null)})`,
        !namesErasedCustomer(value, erased),
      );
      return;
    }
    const { validation, keepPayload } = screenRecord(type, record, earliestMs, erased);
    if (!validation.ok) {
      reject(type, message, index, validation.reason, keepPayload);
      return;
    }
    const row = validation.row;
    let firsts = seen.get(type);
    if (!firsts) seen.set(type, (firsts = new FirstDeliveries()));
    const verdict = decideDelivery(firsts, row.event_id, fingerprintOf(row), index + 1);
    countDelivery(counts, verdict);
    const deliveryKey = `${type}\u001f${row.event_id}`;
    if (verdict.kind !== 'first') {
      if (verdict.kind === 'repeat') partitionOfFirst.get(deliveryKey)!.ids.push(message.id);
      // Named by message, not line: a batch of messages has no file to point into.
      else
        reject(
          type,
          message,
          index,
          `event_id: ${JSON.stringify(row.event_id)} was already received in message ${messages[verdict.earlierLine - 1]!.id} of this batch with different content`,
          keepPayload,
        );
      return;
    }
    let partition = partitions.get(type);
    if (!partition) partitions.set(type, (partition = { type, batch: new ColumnBatch(rawColumns[type]), ids: [] }));
    partition.batch.append({
      ...row,
      occurred_at: row.occurred_at_ms,
      received_at: receivedAt.getTime(),
      ingest_id: ingestId,
      source: `message:${message.id}`,
      record_number: index + 1,
    });
    partition.ids.push(message.id);
    partitionOfFirst.set(deliveryKey, partition);
  });

  let sequence = 0;
  const writes: Pending[] = [
    ...[...partitions.values()].map((partition) => ({
      ids: partition.ids,
      write: () => store.put(lakeLayout.rawFile(partition.type, receivedDate, ingestId, sequence++), partition.batch.toParquet()),
    })),
    ...[...rejects.entries()].map(([type, entry]) => ({
      ids: entry.ids,
      write: () =>
        store.put(lakeLayout.rejectedFile(type, receivedDate, ingestId, sequence++), `${entry.records.map((record) => JSON.stringify(record)).join('\n')}\n`),
    })),
  ];
  const failed = new Set<string>();
  const outcomes = await Promise.allSettled(writes.map((pending) => pending.write()));
  outcomes.forEach((outcome, index) => {
    if (outcome.status === 'rejected') for (const id of writes[index]!.ids) failed.add(id);
  });
  const rejected = [...rejects.values()].reduce((sum, entry) => sum + entry.ids.length, 0);
  return { failed, accepted: counts.accepted, rejected, duplicates: counts.duplicates };
}

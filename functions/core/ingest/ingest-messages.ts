import { EVENT_TYPES } from '../events/schemas.ts';
import type { EventType } from '../events/schemas.ts';
import { utcDate } from '../events/timestamps.ts';
import { lakeLayout, newBatchId } from '../lake/layout.ts';
import { ColumnBatch } from '../lake/parquet.ts';
import { rawColumns } from '../lake/raw-tables.ts';
import type { RejectedRecord } from '../lake/raw-tables.ts';
import type { ObjectStore } from '../ports.ts';
import { validateRecord } from './validate.ts';

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

interface Pending {
  readonly ids: string[];
  readonly write: () => Promise<void>;
}

/**
 * Ingests a batch of messages: valid events are written as one Parquet file per event type and
 * UTC date, invalid ones (bad JSON, unknown type, contract violations) are kept under
 * rejected/ with their reason. Both count as handled. Only a message whose file could not be
 * written is reported as failed, so the queue delivers it again: nothing is acknowledged that
 * was not stored.
 */
export async function ingestMessages(
  messages: readonly EventMessage[],
  store: ObjectStore,
  receivedAt: Date = new Date(),
): Promise<MessageIngestResult> {
  const ingestId = newBatchId(receivedAt);
  const receivedAtIso = receivedAt.toISOString();
  const partitions = new Map<string, { type: EventType; date: string; batch: ColumnBatch; ids: string[] }>();
  const rejects = new Map<string, { records: RejectedRecord[]; ids: string[] }>();
  const seen = new Set<string>();
  let accepted = 0;
  let duplicates = 0;

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
    const validation = type
      ? validateRecord(type, record)
      : ({ ok: false, reason: `event_type: message attribute must be one of ${EVENT_TYPES.join(', ')} (got ${JSON.stringify(message.eventType ?? null)})` } as const);
    if (!validation.ok) {
      const rejectedType = type ?? 'unknown';
      const entry = rejects.get(rejectedType) ?? { records: [], ids: [] };
      entry.records.push({
        event_type: rejectedType as EventType,
        reason: validation.reason,
        payload: message.body,
        received_at: receivedAtIso,
        ingest_id: ingestId,
        source: `message:${message.id}`,
        record_number: index + 1,
        line_number: index + 1,
      });
      entry.ids.push(message.id);
      rejects.set(rejectedType, entry);
      return;
    }
    accepted += 1;
    const row = validation.row;
    const key = `${type}|${row.event_id}`;
    if (seen.has(key)) {
      // A redelivery inside the batch: the copy already queued for writing covers it.
      duplicates += 1;
      partitions.get(`${type}|${utcDate(row.occurred_at_ms)}`)?.ids.push(message.id);
      return;
    }
    seen.add(key);
    const date = utcDate(row.occurred_at_ms);
    const partitionKey = `${type}|${date}`;
    let partition = partitions.get(partitionKey);
    if (!partition) partitions.set(partitionKey, (partition = { type: type!, date, batch: new ColumnBatch(rawColumns[type!]), ids: [] }));
    partition.batch.append({
      ...row,
      occurred_at: row.occurred_at_ms,
      received_at: receivedAt.getTime(),
      ingest_id: ingestId,
      source: `message:${message.id}`,
      record_number: index + 1,
    });
    partition.ids.push(message.id);
  });

  let sequence = 0;
  const writes: Pending[] = [
    ...[...partitions.values()].map((partition) => ({
      ids: partition.ids,
      write: () => store.put(`${lakeLayout.rawPartition(partition.type, partition.date)}part-${ingestId}-${sequence++}.parquet`, partition.batch.toParquet()),
    })),
    ...[...rejects.entries()].map(([type, entry]) => ({
      ids: entry.ids,
      write: () =>
        store.put(
          `rejected/${type}/dt=${utcDate(receivedAt.getTime())}/part-${ingestId}-${sequence++}.jsonl`,
          entry.records.map((record) => JSON.stringify(record)).join('\n') + '\n',
        ),
    })),
  ];
  const failed = new Set<string>();
  const outcomes = await Promise.allSettled(writes.map((pending) => pending.write()));
  outcomes.forEach((outcome, index) => {
    if (outcome.status === 'rejected') for (const id of writes[index]!.ids) failed.add(id);
  });
  const rejected = [...rejects.values()].reduce((sum, entry) => sum + entry.ids.length, 0);
  return { failed, accepted, rejected, duplicates };
}

import type { EventType } from '../events/schemas.ts';
import type { ObjectStore } from '../ports.ts';
import { lakeLayout, newBatchId } from './layout.ts';
import { ColumnBatch, readParquetRows } from './parquet.ts';
import { rawColumns } from './raw-tables.ts';

export interface CompactionResult {
  readonly type: EventType;
  readonly partitions: number;
  readonly filesBefore: number;
  readonly filesAfter: number;
}

/** Raw Parquet keys of one event type, by partition prefix. */
export async function rawFilesByPartition(store: ObjectStore, type: EventType): Promise<Map<string, string[]>> {
  const byPartition = new Map<string, string[]>();
  for (const key of await store.list(lakeLayout.rawTable(type))) {
    if (!key.endsWith('.parquet')) continue;
    const partition = key.slice(0, key.lastIndexOf('/') + 1);
    byPartition.set(partition, [...(byPartition.get(partition) ?? []), key]);
  }
  return byPartition;
}

const deliveryOrder = (a: Record<string, unknown>, b: Record<string, unknown>) =>
  Number(a['received_at']) - Number(b['received_at']) ||
  String(a['ingest_id']).localeCompare(String(b['ingest_id'])) ||
  Number(a['record_number']) - Number(b['record_number']);

/**
 * Merges the raw files of each partition into one, through the object store (the S3 lake's
 * compaction step; locally `pipeline compact` does the same with DuckDB). Rows keep every
 * column and come out in delivery order. The merged file is written first and the files it
 * replaces deleted after: a reader in between sees each event twice, which the tables already
 * drop (a repeated event_id counts once), and a failure in between leaves only that.
 */
export async function compactRawPartitionsInStore(store: ObjectStore, type: EventType, batchId: string = newBatchId()): Promise<CompactionResult> {
  let partitions = 0;
  let filesBefore = 0;
  let filesAfter = 0;
  for (const [partition, keys] of await rawFilesByPartition(store, type)) {
    filesBefore += keys.length;
    filesAfter += 1;
    if (keys.length < 2) continue;
    const rows: Record<string, unknown>[] = [];
    for (const key of keys) for (const row of readParquetRows(await store.get(key))) rows.push(row);
    const merged = new ColumnBatch(rawColumns[type]);
    for (const row of rows.sort(deliveryOrder)) merged.append(row);
    await store.put(`${partition}part-${batchId}-compacted.parquet`, merged.toParquet());
    await store.delete(keys);
    partitions += 1;
  }
  return { type, partitions, filesBefore, filesAfter };
}

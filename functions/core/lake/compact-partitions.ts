import type { EventType } from '../events/schemas.ts';
import type { ObjectStore } from '../ports.ts';
import { lakeLayout, newBatchId } from './layout.ts';
import { ColumnBatch, parquetRowCount, readParquetRows } from './parquet.ts';
import { rawColumns } from './raw-tables.ts';
import { DEFAULT_ROWS_PER_FLUSH } from '../ingest/ingest-types.ts';

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
 * Rows a merged file holds at most: the size of an ingest's own files. A partition is the day
 * its batches were received, so after a backfill it holds millions of rows in files already this
 * large; merging them into one would hold every row in the function's memory (about 0.5 GB per
 * million rows) and gain no read speed. Each file's row count is read from its footer; only the
 * files merged are decoded. Every file of a partition of several is still downloaded on every
 * run to read that count.
 */
export const COMPACTED_FILE_ROWS = DEFAULT_ROWS_PER_FLUSH;

/**
 * Merges the small raw files of each partition, through the object store (the S3 lake's
 * compaction step; locally `pipeline compact` merges with DuckDB): files in key order (an
 * ingest batch's files sort together) are merged in runs of at most `fileRows` rows, and a file
 * of that size or more is left as it is. Rows keep every column and come out in delivery order
 * within each merged file. A merged file is written first and the files it
 * replaces deleted after: a reader in between sees each event twice, which the tables already
 * drop (a repeated event_id counts once), and a failure in between leaves only that.
 */
export async function compactRawPartitionsInStore(
  store: ObjectStore,
  type: EventType,
  batchId: string = newBatchId(),
  fileRows: number = COMPACTED_FILE_ROWS,
): Promise<CompactionResult> {
  let partitions = 0;
  let filesBefore = 0;
  let filesAfter = 0;
  for (const [partition, keys] of await rawFilesByPartition(store, type)) {
    filesBefore += keys.length;
    if (keys.length < 2) {
      filesAfter += keys.length;
      continue;
    }
    // Each file is read once: its footer says whether it joins the current run of small files;
    // only the files of a run are decoded, when the run ends.
    let merged = 0;
    let run: { keys: string[]; files: Uint8Array[]; rows: number } = { keys: [], files: [], rows: 0 };
    const endRun = async () => {
      filesAfter += Math.min(run.keys.length, 1);
      if (run.keys.length > 1) {
        const rows: Record<string, unknown>[] = [];
        for (const bytes of run.files) for (const row of readParquetRows(bytes)) rows.push(row);
        const file = new ColumnBatch(rawColumns[type]);
        for (const row of rows.sort(deliveryOrder)) file.append(row);
        await store.put(`${partition}part-${batchId}-compacted-${String(merged).padStart(4, '0')}.parquet`, file.toParquet());
        await store.delete(run.keys);
        merged += 1;
      }
      run = { keys: [], files: [], rows: 0 };
    };
    for (const key of keys) {
      const bytes = await store.get(key);
      const rows = await parquetRowCount(bytes);
      if (rows >= fileRows) {
        filesAfter += 1;
        continue;
      }
      if (run.rows + rows > fileRows) await endRun();
      run.keys.push(key);
      run.files.push(bytes);
      run.rows += rows;
    }
    await endRun();
    if (merged > 0) partitions += 1;
  }
  return { type, partitions, filesBefore, filesAfter };
}

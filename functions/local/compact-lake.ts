import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { EVENT_TYPES } from '../core/events/schemas.ts';
import type { EventType } from '../core/events/schemas.ts';
import { rawFilesByPartition } from '../core/lake/compact-partitions.ts';
import type { CompactionResult } from '../core/lake/compact-partitions.ts';
import { newBatchId } from '../core/lake/layout.ts';
import { DuckDbEngine } from '../adapters/duckdb-engine.ts';
import { TEMP_PREFIX } from '../adapters/filesystem-store.ts';
import type { FilesystemObjectStore } from '../adapters/filesystem-store.ts';
import { sqlString } from '../adapters/lake-views.ts';

export type { CompactionResult };

/**
 * Merges the raw files of each partition into one: every ingest batch adds files to the day it
 * was received, and many small files slow DuckDB and Athena alike. The merged file is written under
 * a hidden name, renamed into place, and only then are the files it replaces removed; a reader
 * in between sees each event twice, which the tables already drop (a repeated event_id counts
 * once, and the delivery order columns are kept).
 */
export async function compactRawPartitions(store: FilesystemObjectStore, types: readonly EventType[] = EVENT_TYPES): Promise<CompactionResult[]> {
  const engine = await DuckDbEngine.open();
  const results: CompactionResult[] = [];
  try {
    for (const type of types) {
      const byPartition = await rawFilesByPartition(store, type);
      let partitions = 0;
      let filesBefore = 0;
      let filesAfter = 0;
      for (const [partition, keys] of byPartition) {
        filesBefore += keys.length;
        if (keys.length < 2) {
          filesAfter += keys.length;
          continue;
        }
        const directory = store.pathOf(partition);
        const batch = newBatchId();
        const temp = join(directory, `${TEMP_PREFIX}${batch}`);
        const files = keys.map((key) => sqlString(store.pathOf(key))).join(', ');
        await engine.execute(
          `copy (select * from read_parquet([${files}], hive_partitioning = false, union_by_name = true) order by received_at, ingest_id, record_number) ` +
            `to ${sqlString(temp)} (format parquet, compression zstd, row_group_size 122880)`,
        );
        await rename(temp, join(directory, `part-${batch}-compacted.parquet`));
        await store.delete(keys);
        partitions += 1;
        filesAfter += 1;
      }
      results.push({ type, partitions, filesBefore, filesAfter });
    }
  } finally {
    engine.close();
  }
  return results;
}

export const describeCompaction = (result: CompactionResult) =>
  `compact ${result.type}: ${result.filesBefore.toLocaleString('en-US')} files -> ${result.filesAfter.toLocaleString('en-US')} (${result.partitions.toLocaleString('en-US')} partitions merged)\n`;

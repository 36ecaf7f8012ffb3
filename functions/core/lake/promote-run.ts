import { runPrefix } from '../jobs/run-ids.ts';
import type { ObjectStore } from '../ports.ts';
import { lakeLayout } from './layout.ts';
import { mergeParquetFiles } from './parquet.ts';

/** A store that can also copy an object server-side (S3); without it the bytes pass through. */
export type PromotionStore = ObjectStore & { copy?(fromKey: string, toKey: string): Promise<void> };

export interface PromotionResult {
  readonly tables: number;
  /** Run files taken into curated/ (merged into one per table). */
  readonly files: number;
}

/**
 * Publishes a finished run: each curated table's as_of partition becomes one file, written over
 * the previous one, then anything else left in the partition is removed. Readers see either the
 * old table or the new one, never a partition emptied or half-copied (replacing files one by one
 * would show both, or neither, for a while). Tables are replaced one after another, and running
 * the promotion again after a failure finishes it.
 */
export async function promoteRun(store: PromotionStore, options: { runId: string; asOf: string; tables: readonly string[] }): Promise<PromotionResult> {
  let files = 0;
  for (const table of options.tables) {
    const produced = await store.list(runPrefix(table, options.runId));
    const target = lakeLayout.curatedFile(table, options.asOf);
    files += produced.length;
    const [only] = produced;
    if (produced.length === 1 && store.copy) await store.copy(only!, target);
    else if (produced.length === 1) await store.put(target, await store.get(only!));
    else if (produced.length > 1) await store.put(target, mergeParquetFiles(await Promise.all(produced.map((key) => store.get(key)))));
    // A run that produced no rows wrote no file: the table is empty for this as_of.
    const stale = (await store.list(lakeLayout.curatedPartition(table, options.asOf))).filter((key) => produced.length === 0 || key !== target);
    await store.delete(stale);
  }
  return { tables: options.tables.length, files };
}

import { describe, expect, it } from 'vitest';
import { runPrefix } from '../../functions/core/jobs/run-ids.ts';
import { ColumnBatch, readParquetRows } from '../../functions/core/lake/parquet.ts';
import type { ColumnSpec } from '../../functions/core/lake/parquet.ts';
import { promoteRun } from '../../functions/core/lake/promote-run.ts';
import { MemoryObjectStore } from '../support/memory-store.ts';

const columns: ColumnSpec[] = [
  { name: 'customer_id', kind: 'string', nullable: false },
  { name: 'net_revenue', kind: 'float64', nullable: true },
];
const parquetOf = (rows: { customer_id: string; net_revenue: number | null }[]) => {
  const batch = new ColumnBatch(columns);
  for (const row of rows) batch.append(row);
  return batch.toParquet();
};
const partition = 'curated/customer_summary/as_of=2024-06-30/';
const oldRows = [
  { customer_id: 'old-1', net_revenue: 1 },
  { customer_id: 'old-2', net_revenue: 2 },
];
const newRows = [
  { customer_id: 'new-1', net_revenue: 10 },
  { customer_id: 'new-2', net_revenue: null },
  { customer_id: 'new-3', net_revenue: 30 },
];

/** A lake with the partition an earlier run promoted and a finished run of two files. */
function lakeWithRun(run: 'two files' | 'no rows' = 'two files') {
  const store = new MemoryObjectStore();
  store.objects.set(`${partition}data.parquet`, parquetOf(oldRows));
  if (run === 'two files') {
    store.objects.set(`${runPrefix('customer_summary', 'run1')}20240630_x_1`, parquetOf(newRows.slice(0, 2)));
    store.objects.set(`${runPrefix('customer_summary', 'run1')}20240630_x_2`, parquetOf(newRows.slice(2)));
  }
  return store;
}

/** The rows a query of the partition would read from the store as it is now. */
async function rowsReadable(store: MemoryObjectStore) {
  const rows: Record<string, unknown>[] = [];
  for (const key of await store.list(partition)) rows.push(...readParquetRows(await store.get(key)));
  return rows.sort((a, b) => String(a['customer_id']).localeCompare(String(b['customer_id'])));
}

const promote = (store: MemoryObjectStore) => promoteRun(store, { runId: 'run1', asOf: '2024-06-30', tables: ['customer_summary'] });

describe('promoting a run into curated/', () => {
  it('replaces the partition with one file holding every row of the run', async () => {
    const store = lakeWithRun();
    expect(await promote(store)).toEqual({ tables: 1, files: 2 });
    expect(await store.list(partition)).toEqual([`${partition}data.parquet`]);
    expect(await rowsReadable(store)).toEqual(newRows);
  });

  it('never lets a reader see an empty, doubled or half-copied partition', async () => {
    const store = lakeWithRun();
    const seen: unknown[] = [];
    // A reader looks after every change the promotion makes.
    for (const method of ['put', 'delete'] as const) {
      const original = store[method].bind(store) as (...args: unknown[]) => Promise<void>;
      store[method] = (async (...args: unknown[]) => {
        await original(...args);
        seen.push(await rowsReadable(store));
      }) as never;
    }
    await promote(store);
    expect(seen.length).toBeGreaterThan(0);
    for (const rows of seen) expect([oldRows, newRows]).toContainEqual(rows);
    expect(seen.at(-1)).toEqual(newRows);
  });

  it('leaves the old partition readable when writing fails, and finishes when run again', async () => {
    const store = lakeWithRun();
    const put = store.put.bind(store);
    store.put = async () => {
      throw new Error('SlowDown');
    };
    await expect(promote(store)).rejects.toThrow('SlowDown');
    expect(await rowsReadable(store)).toEqual(oldRows);
    store.put = put;
    await promote(store);
    expect(await rowsReadable(store)).toEqual(newRows);
  });

  it('removes files of the partition that a copy-per-file promotion left', async () => {
    const store = lakeWithRun();
    store.objects.set(`${partition}20240630_old_1`, parquetOf(oldRows));
    await promote(store);
    expect(await store.list(partition)).toEqual([`${partition}data.parquet`]);
    expect(await rowsReadable(store)).toEqual(newRows);
  });

  it('empties the partition when the run produced no rows', async () => {
    const store = lakeWithRun('no rows');
    expect(await promote(store)).toEqual({ tables: 1, files: 0 });
    expect(await store.list(partition)).toEqual([]);
  });

  it('copies a single run file server-side when the store can', async () => {
    const store = lakeWithRun();
    store.objects.delete(`${runPrefix('customer_summary', 'run1')}20240630_x_2`);
    const copies: string[][] = [];
    const copying = Object.assign(store, {
      copy: async (from: string, to: string) => {
        copies.push([from, to]);
        store.objects.set(to, (await store.get(from)).slice());
      },
    });
    await promoteRun(copying, { runId: 'run1', asOf: '2024-06-30', tables: ['customer_summary'] });
    expect(copies).toEqual([[`${runPrefix('customer_summary', 'run1')}20240630_x_1`, `${partition}data.parquet`]]);
    expect(await rowsReadable(store)).toEqual(newRows.slice(0, 2));
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../../functions/adapters/duckdb-engine.ts';
import { FilesystemObjectStore } from '../../functions/adapters/filesystem-store.ts';
import { createSourceViews } from '../../functions/adapters/lake-views.ts';
import { lakeLayout } from '../../functions/core/lake/layout.ts';
import { ColumnBatch } from '../../functions/core/lake/parquet.ts';
import { rawColumns } from '../../functions/core/lake/raw-tables.ts';

const delivery = { received_at: Date.UTC(2024, 0, 2), ingest_id: 'i1', source: 'orders.jsonl', record_number: 1 };
const order = {
  event_id: 'e1',
  order_id: 'o1',
  customer_id: 'c1',
  occurred_at: Date.UTC(2024, 0, 1),
  status: 'placed',
  total: 10,
  currency: 'EUR',
  ...delivery,
};

describe('the raw views', () => {
  let root: string;
  let engine: DuckDbEngine;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'lake-views-'));
    engine = await DuckDbEngine.open();
  });
  afterAll(async () => {
    await engine.close();
    await rm(root, { recursive: true, force: true });
  });

  it('read a column added to the contract as null in files written before it', async () => {
    const store = new FilesystemObjectStore(root);
    // A file from before order lines were part of the contract: no items column at all.
    const before = new ColumnBatch(rawColumns.orders.filter((column) => column.name !== 'items'));
    before.append(order);
    await store.put(`${lakeLayout.rawPartition('orders', '2024-01-01')}old.parquet`, before.toParquet());
    await createSourceViews(engine, store);
    expect((await engine.query('select event_id, items from orders')).rows).toEqual([['e1', null]]);

    const after = new ColumnBatch(rawColumns.orders);
    after.append({ ...order, event_id: 'e2', items: '[{"quantity":1,"sku":"a","unit_price":10}]' });
    await store.put(`${lakeLayout.rawPartition('orders', '2024-01-01')}new.parquet`, after.toParquet());
    await createSourceViews(engine, store);
    const rows = (await engine.query('select event_id, items from orders order by event_id')).rows;
    expect(rows).toEqual([
      ['e1', null],
      ['e2', '[{"quantity":1,"sku":"a","unit_price":10}]'],
    ]);
    // Every column of the contract, in its order, then the partition.
    const columns = (await engine.query('select * from orders limit 0')).columns;
    expect(columns.map((column) => column.name)).toEqual([...rawColumns.orders.map((column) => column.name), 'dt']);
  });
});

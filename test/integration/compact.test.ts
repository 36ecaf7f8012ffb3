import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FilesystemObjectStore } from '../../functions/adapters/filesystem-store.ts';
import { generateDemoData } from '../../functions/core/demo/generate.ts';
import { compactRawPartitionsInStore } from '../../functions/core/lake/compact-partitions.ts';
import { ingestRecords } from '../../functions/core/ingest/ingest.ts';
import { openRecords } from '../../functions/core/ingest/open-input.ts';
import { ColumnBatch, readParquetRows } from '../../functions/core/lake/parquet.ts';
import { rawColumns } from '../../functions/core/lake/raw-tables.ts';
import { pipeline, queryCsv, temporaryDirectory, writeJsonLines } from '../support/cli.ts';

/** Both batches arrive on this day: their files share its partition. */
const RECEIVED = '2025-04-01';

/** Two overlapping deliveries of the same orders, ingested as two batches received the same day. */
async function lakeWithTwoBatches(directory: string): Promise<string> {
  const lake = join(directory, 'lake');
  const store = new FilesystemObjectStore(lake);
  const data = generateDemoData({ customers: 150, seed: 3, startDate: '2025-01-01', endDate: '2025-03-31', brokenShare: 0 });
  const third = Math.ceil(data.orderLines.length / 3);
  for (const [index, slice] of [data.orderLines.slice(0, 2 * third), data.orderLines.slice(third)].entries()) {
    const file = await writeJsonLines(
      join(directory, `orders-${index}.jsonl`),
      slice.filter((line) => !line.includes('"bad-')),
    );
    const receivedAt = new Date(`${RECEIVED}T0${index}:00:00Z`);
    expect((await ingestRecords(await openRecords(file), { eventType: 'orders', source: file, store, receivedAt })).stored).toBeGreaterThan(0);
  }
  return lake;
}

const partitionFiles = (lake: string) => readdir(join(lake, 'raw', 'orders', `dt=${RECEIVED}`));

describe('compaction through the object store (the AWS step)', () => {
  it('merges each raw partition into one file, keeps every row and changes no table', async () => {
    const directory = await temporaryDirectory();
    try {
      const lake = await lakeWithTwoBatches(directory.path);
      expect((await pipeline('run', '--as-of', '2025-03-31', '--lake', lake)).code).toBe(0);
      const before = await queryCsv(lake, 'select * from customer_summary order by customer_id');
      const rows = () => queryCsv(lake, 'select * exclude (dt) from orders order by event_id, ingest_id, record_number');
      const stored = await rows();
      expect(await partitionFiles(lake)).toHaveLength(2);

      const result = await compactRawPartitionsInStore(new FilesystemObjectStore(lake), 'orders', 'compaction1');
      expect(result).toEqual({ type: 'orders', partitions: 1, filesBefore: 2, filesAfter: 1 });
      expect(await partitionFiles(lake)).toEqual(['part-compaction1-compacted-0000.parquet']);
      expect(await rows()).toEqual(stored);
      expect((await pipeline('run', '--as-of', '2025-03-31', '--lake', lake)).code).toBe(0);
      expect(await queryCsv(lake, 'select * from customer_summary order by customer_id')).toEqual(before);
    } finally {
      await directory.cleanup();
    }
  });
});

describe('compaction of a partition that already holds large files', () => {
  it('merges runs of small files up to the size of an ingest file and leaves larger files as they are', async () => {
    const directory = await temporaryDirectory();
    try {
      const store = new FilesystemObjectStore(directory.path);
      let eventNumber = 0;
      const write = async (name: string, rows: number) => {
        const batch = new ColumnBatch(rawColumns.orders);
        for (let row = 0; row < rows; row += 1) {
          eventNumber += 1;
          batch.append({
            event_id: `e${eventNumber}`,
            order_id: `o${eventNumber}`,
            customer_id: 'c1',
            occurred_at: Date.parse('2025-03-01T10:00:00Z'),
            status: 'placed',
            total: eventNumber,
            currency: 'EUR',
            received_at: Date.parse('2025-04-01T10:00:00Z'),
            ingest_id: name,
            source: `${name}.jsonl`,
            record_number: row + 1,
          });
        }
        await store.put(`raw/orders/dt=2025-04-01/part-${name}-0000.parquet`, batch.toParquet());
      };
      // With files of at most 4 rows: 2 + 2 merge, 5 stays, 1 + 3 merge.
      for (const [name, rows] of [
        ['a', 2],
        ['b', 2],
        ['c', 5],
        ['d', 1],
        ['e', 3],
      ] as const)
        await write(name, rows);
      const reads: string[] = [];
      const get = store.get.bind(store);
      store.get = (key: string) => {
        reads.push(key.split('/').pop()!.split('-')[1]!);
        return get(key);
      };
      const result = await compactRawPartitionsInStore(store, 'orders', 'k', 4);
      expect(result).toEqual({ type: 'orders', partitions: 1, filesBefore: 5, filesAfter: 3 });
      // Each file read once.
      expect(reads).toEqual(['a', 'b', 'c', 'd', 'e']);
      const keys = await store.list('raw/orders/');
      expect(keys.map((key) => key.split('/').pop())).toEqual(['part-c-0000.parquet', 'part-k-compacted-0000.parquet', 'part-k-compacted-0001.parquet']);
      const files = await Promise.all(keys.map(async (key) => readParquetRows(await store.get(key)).map((row) => row['event_id'])));
      expect(files).toEqual([
        ['e5', 'e6', 'e7', 'e8', 'e9'],
        ['e1', 'e2', 'e3', 'e4'],
        ['e10', 'e11', 'e12', 'e13'],
      ]);
      // Nothing left to merge: the next run writes nothing.
      expect(await compactRawPartitionsInStore(store, 'orders', 'k2', 4)).toEqual({ type: 'orders', partitions: 0, filesBefore: 3, filesAfter: 3 });
      expect(await store.list('raw/orders/')).toEqual(keys);
    } finally {
      await directory.cleanup();
    }
  });
});

describe('pipeline compact', () => {
  it('merges each raw partition into one file and changes no table', async () => {
    const directory = await temporaryDirectory();
    try {
      // Two deliveries of overlapping slices, as batches arrive in practice.
      const lake = await lakeWithTwoBatches(directory.path);
      expect((await pipeline('run', '--as-of', '2025-03-31', '--lake', lake)).code).toBe(0);
      const before = await queryCsv(lake, 'select * from customer_summary order by customer_id');
      const stored = await queryCsv(lake, 'select count(*) as n from orders');
      expect(await partitionFiles(lake)).toHaveLength(2);

      const result = await pipeline('compact', 'orders', '--lake', lake);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/^compact orders: [\d,]+ files -> [\d,]+ \([\d,]+ partitions merged\)\n$/);
      expect(await partitionFiles(lake)).toHaveLength(1);
      expect(await queryCsv(lake, 'select count(*) as n from orders')).toEqual(stored);
      expect((await pipeline('run', '--as-of', '2025-03-31', '--lake', lake)).code).toBe(0);
      expect(await queryCsv(lake, 'select * from customer_summary order by customer_id')).toEqual(before);
    } finally {
      await directory.cleanup();
    }
  });
});

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FilesystemObjectStore } from '../../functions/adapters/filesystem-store.ts';
import { generateDemoData } from '../../functions/core/demo/generate.ts';
import { compactRawPartitionsInStore } from '../../functions/core/lake/compact-partitions.ts';
import { pipeline, queryCsv, temporaryDirectory, writeJsonLines } from '../support/cli.ts';

/** Two overlapping deliveries of the same orders, ingested as two batches. */
async function lakeWithTwoBatches(directory: string): Promise<string> {
  const lake = join(directory, 'lake');
  const data = generateDemoData({ customers: 150, seed: 3, startDate: '2025-01-01', endDate: '2025-03-31', brokenShare: 0 });
  const third = Math.ceil(data.orderLines.length / 3);
  for (const [index, slice] of [data.orderLines.slice(0, 2 * third), data.orderLines.slice(third)].entries()) {
    const file = await writeJsonLines(
      join(directory, `orders-${index}.jsonl`),
      slice.filter((line) => !line.includes('"bad-')),
    );
    expect((await pipeline('ingest', 'orders', file, '--lake', lake)).code).toBe(0);
  }
  return lake;
}

/** The files of each raw orders partition: both batches land in the day they were received. */
async function filesPerPartition(lake: string): Promise<string[][]> {
  const table = join(lake, 'raw', 'orders');
  return Promise.all((await readdir(table)).map((partition) => readdir(join(table, partition))));
}

describe('compaction through the object store (the AWS step)', () => {
  it('merges each raw partition into one file, keeps every row and changes no table', async () => {
    const directory = await temporaryDirectory();
    try {
      const lake = await lakeWithTwoBatches(directory.path);
      expect((await pipeline('run', '--as-of', '2025-03-31', '--lake', lake)).code).toBe(0);
      const before = await queryCsv(lake, 'select * from customer_summary order by customer_id');
      const rows = () => queryCsv(lake, 'select * exclude (dt) from orders order by event_id, ingest_id, record_number');
      const stored = await rows();
      expect((await filesPerPartition(lake)).flat()).toHaveLength(2);

      const result = await compactRawPartitionsInStore(new FilesystemObjectStore(lake), 'orders', 'compaction1');
      expect(result.filesAfter).toBe(result.filesBefore - result.partitions);
      for (const files of await filesPerPartition(lake)) expect(files).toEqual(['part-compaction1-compacted.parquet']);
      expect(await rows()).toEqual(stored);
      expect((await pipeline('run', '--as-of', '2025-03-31', '--lake', lake)).code).toBe(0);
      expect(await queryCsv(lake, 'select * from customer_summary order by customer_id')).toEqual(before);
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
      expect((await filesPerPartition(lake)).flat()).toHaveLength(2);

      const result = await pipeline('compact', 'orders', '--lake', lake);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/^compact orders: [\d,]+ files -> [\d,]+ \([\d,]+ partitions merged\)\n$/);
      for (const files of await filesPerPartition(lake)) expect(files).toHaveLength(1);
      expect(await queryCsv(lake, 'select count(*) as n from orders')).toEqual(stored);
      expect((await pipeline('run', '--as-of', '2025-03-31', '--lake', lake)).code).toBe(0);
      expect(await queryCsv(lake, 'select * from customer_summary order by customer_id')).toEqual(before);
    } finally {
      await directory.cleanup();
    }
  });
});

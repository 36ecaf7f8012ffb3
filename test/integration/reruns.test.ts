import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FilesystemObjectStore } from '../../functions/adapters/filesystem-store.ts';
import { runLocalJobGraph } from '../../functions/local/local-job-runner.ts';
import { defaultConfig } from '../../functions/core/config.ts';
import { generateDemoData } from '../../functions/core/demo/generate.ts';
import { jobGraph } from '../../functions/core/jobs/graph.ts';
import type { JobStep } from '../../functions/core/jobs/graph.ts';
import { orderEvent } from '../support/events.ts';
import { snapshotTables } from '../support/ingest-properties.ts';
import { pipeline, queryCsv, temporaryDirectory, writeJsonLines } from '../support/cli.ts';

/**
 * What a scheduler relies on: a date run twice gives the same tables, a range gives what each
 * date alone gives, a run that fails anywhere leaves every earlier output as it was, and
 * events that arrive late are counted by the next run.
 */

let root: string;
let cleanup: () => Promise<void>;
let inputs: string[];

beforeAll(async () => {
  ({ path: root, cleanup } = await temporaryDirectory('reruns-'));
  const data = generateDemoData({ customers: 150, seed: 7, startDate: '2024-01-01', endDate: '2024-06-30' });
  const orders = join(root, 'orders.jsonl');
  const surveys = join(root, 'surveys.jsonl');
  await writeFile(orders, `${data.orderLines.join('\n')}\n`);
  await writeJsonLines(surveys, data.surveys);
  inputs = [orders, surveys];
});
afterAll(async () => cleanup());

let lakeNumber = 0;
async function freshLake(): Promise<string> {
  lakeNumber += 1;
  const lake = join(root, `lake-${lakeNumber}`);
  for (const [type, file] of [
    ['orders', inputs[0]!],
    ['surveys', inputs[1]!],
  ] as const) {
    const result = await pipeline('ingest', type, file, '--lake', lake);
    expect(result.code, result.stderr).toBe(0);
  }
  return lake;
}

async function run(lake: string, ...dates: string[]): Promise<void> {
  const args = dates.length === 1 ? ['--as-of', dates[0]!] : ['--from', dates[0]!, '--to', dates[1]!];
  const result = await pipeline('run', ...args, '--lake', lake);
  expect(result.code, result.stderr).toBe(0);
}

/** Every file under curated/, to show that nothing but finished partitions is there. */
async function curatedFiles(lake: string): Promise<string[]> {
  const entries = await readdir(join(lake, 'curated'), { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(lake.length + 1))
    .sort();
}

describe('running a date again', () => {
  it('gives identical tables, each partition still one file', async () => {
    const lake = await freshLake();
    await run(lake, '2024-06-30');
    const first = await snapshotTables(lake, '2024-06-30');
    const files = await curatedFiles(lake);
    await run(lake, '2024-06-30');
    expect(await snapshotTables(lake, '2024-06-30')).toEqual(first);
    expect(await curatedFiles(lake)).toEqual(files);
    expect(files.every((file) => file.endsWith('/data.parquet'))).toBe(true);
    expect(first['customer_summary']!.length).toBeGreaterThan(100);
  });
});

describe('a --from/--to backfill', () => {
  it('gives every table of every date exactly as running that date alone, in any order', async () => {
    // Across a month end, so that the range crosses a period boundary.
    const dates = ['2024-05-30', '2024-05-31', '2024-06-01', '2024-06-02'];
    const rangeLake = await freshLake();
    await run(rangeLake, dates[0]!, dates[3]!);
    const aloneLake = await freshLake();
    for (const date of [...dates].reverse()) await run(aloneLake, date);
    for (const date of dates) expect(await snapshotTables(rangeLake, date), date).toEqual(await snapshotTables(aloneLake, date));
  });
});

describe('a run that fails part-way', () => {
  const failing = (sqlFile: string): JobStep => ({ type: 'sql', name: 'exploding', sqlFile: `../test/fixtures/${sqlFile}`, inputs: [], kind: 'curated' });
  const graphFailingAt = (index: number, sqlFile = 'failing-step.sql') => [...jobGraph.slice(0, index), failing(sqlFile), ...jobGraph.slice(index)];

  // One lake for every failure point: each failed run must leave it exactly as the first run
  // wrote it, which is also what lets the next failure start from the same state.
  let lake: string;
  let before: Awaited<ReturnType<typeof snapshotTables>>;
  let files: string[];
  beforeAll(async () => {
    lake = await freshLake();
    await run(lake, '2024-06-30');
    before = await snapshotTables(lake, '2024-06-30');
    files = await curatedFiles(lake);
    // New data arrives, so that a run that got through would change the tables.
    await writeJsonLines(join(root, 'new.jsonl'), [
      orderEvent({ order_id: 'new-1', customer_id: 'new-customer', occurred_at: '2024-06-29T10:00:00Z', total: 99, currency: 'USD' }),
    ]);
    expect((await pipeline('ingest', 'orders', join(root, 'new.jsonl'), '--lake', lake)).code).toBe(0);
  });

  it.each([
    ['before the first step', 0],
    ['after the first curated table', jobGraph.findIndex((step) => step.name === 'customer_summary') + 1],
    ['after the model fit', jobGraph.findIndex((step) => step.name === 'predictive_clv') + 1],
    ['after the last step', jobGraph.length],
  ])('%s leaves every table of the date as it was, and nothing half-written', async (_, index) => {
    await expect(
      runLocalJobGraph({ store: new FilesystemObjectStore(lake), config: defaultConfig, asOfDates: ['2024-06-30'], steps: graphFailingAt(index) }),
    ).rejects.toThrow(/step exploding failed for as_of 2024-06-30/);
    expect(await snapshotTables(lake, '2024-06-30')).toEqual(before);
    expect(await curatedFiles(lake)).toEqual(files);
  });

  it('and a run that gets through afterwards sees the new data', async () => {
    await run(lake, '2024-06-30');
    expect(await queryCsv(lake, "select customer_id from customer_summary where as_of = date '2024-06-30' and customer_id = 'new-customer'")).toHaveLength(1);
  });

  it('on a date never computed leaves no partition for it; in a range, keeps the dates before it and stops', async () => {
    const lake = await freshLake();
    const steps = graphFailingAt(jobGraph.length, 'failing-from-june.sql');
    await expect(
      runLocalJobGraph({
        store: new FilesystemObjectStore(lake),
        config: defaultConfig,
        asOfDates: ['2024-05-30', '2024-05-31', '2024-06-01', '2024-06-02'],
        steps,
      }),
    ).rejects.toThrow(/step exploding failed for as_of 2024-06-01/);
    const computed = await queryCsv(lake, 'select distinct cast(as_of as varchar) as as_of from customer_summary order by 1');
    expect(computed.map((row) => row['as_of'])).toEqual(['2024-05-30', '2024-05-31']);
    expect((await curatedFiles(lake)).filter((file) => file.includes('as_of=2024-06'))).toEqual([]);
  });
});

describe('events that arrive after the run for their date', () => {
  it('are counted by the next run, and by a re-run of the earlier date; the earlier output is not changed behind its back', async () => {
    const lake = await freshLake();
    await run(lake, '2024-06-30');
    const cohortsBefore = await queryCsv(
      lake,
      "select cohort_start, cohort_size from cohort_retention where as_of = date '2024-06-30' and period_offset = 0 order by 1",
    );
    // Received on 2024-07-01: a new customer's order from January, and one from the day before.
    await writeJsonLines(join(root, 'late.jsonl'), [
      orderEvent({ order_id: 'late-1', customer_id: 'late-january', occurred_at: '2024-01-15T10:00:00Z', total: 40, currency: 'USD' }),
      orderEvent({ order_id: 'late-2', customer_id: 'late-june', occurred_at: '2024-06-29T22:00:00Z', total: 25, currency: 'USD' }),
    ]);
    expect((await pipeline('ingest', 'orders', join(root, 'late.jsonl'), '--lake', lake)).code).toBe(0);
    await run(lake, '2024-07-01');

    const lateCustomers = (asOf: string) =>
      queryCsv(lake, `select customer_id, net_revenue from customer_summary where as_of = date '${asOf}' and customer_id like 'late-%' order by 1`);
    expect(await lateCustomers('2024-07-01')).toEqual([
      { customer_id: 'late-january', net_revenue: '40' },
      { customer_id: 'late-june', net_revenue: '25' },
    ]);
    const cohortsAfter = await queryCsv(
      lake,
      "select cohort_start, cohort_size from cohort_retention where as_of = date '2024-07-01' and period_offset = 0 order by 1",
    );
    const january = (rows: typeof cohortsAfter) => Number(rows.find((row) => row['cohort_start'] === '2024-01-01')!['cohort_size']);
    expect(january(cohortsAfter)).toBe(january(cohortsBefore) + 1);

    // The 2024-06-30 output stays what that run computed until the date is run again.
    expect(await lateCustomers('2024-06-30')).toEqual([]);
    await run(lake, '2024-06-30');
    expect((await lateCustomers('2024-06-30')).map((row) => row['customer_id'])).toEqual(['late-january', 'late-june']);
  });
});

import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipeline, queryCsv, temporaryDirectory, writeJsonLines } from '../support/cli.ts';
import { orderEvent } from '../support/events.ts';

/**
 * latest_<table> shows the newest date computed, even for a table that has no rows on it: a
 * campaign audience that was empty on the newest date must not show an older date's customers.
 */
let directory: Awaited<ReturnType<typeof temporaryDirectory>>;
let lake: string;

beforeAll(async () => {
  directory = await temporaryDirectory();
  lake = join(directory.path, 'lake');
  const orders = await writeJsonLines(join(directory.path, 'orders.jsonl'), [
    orderEvent({ order_id: 'o1', customer_id: 'c1', occurred_at: '2024-03-01T10:00:00Z', total: 40 }),
  ]);
  expect((await pipeline('ingest', 'orders', orders, '--lake', lake)).code).toBe(0);
  const config = join(directory.path, 'config.json');
  await writeFile(config, JSON.stringify({ campaigns: { winBack: { enabled: false } } }));
  // On 2024-03-31 c1 bought once 30 days ago: a second-purchase nudge. By 2024-06-30 the nudge's window has passed.
  for (const asOf of ['2024-06-30', '2024-03-31']) expect((await pipeline('run', '--as-of', asOf, '--config', config, '--lake', lake)).code).toBe(0);
});

afterAll(async () => directory.cleanup());

describe('latest_<table> views', () => {
  it('show the newest date computed, whatever order the dates were run in', async () => {
    expect(await queryCsv(lake, 'select customer_id, as_of from latest_customer_summary')).toEqual([{ customer_id: 'c1', as_of: '2024-06-30' }]);
    expect(await queryCsv(lake, 'select count(*) as periods, max(as_of) as as_of from latest_period_metrics')).toEqual([{ periods: '4', as_of: '2024-06-30' }]);
  });

  it("show nothing for a table that is empty on the newest date, not an older date's rows", async () => {
    expect(await queryCsv(lake, 'select campaign, customer_id from campaign_audience')).toEqual([{ campaign: 'second_purchase', customer_id: 'c1' }]);
    expect(await queryCsv(lake, 'select count(*) as customers from latest_campaign_audience')).toEqual([{ customers: '0' }]);
  });
});

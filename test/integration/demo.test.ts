import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignMessageSchema } from '../../functions/core/campaigns/message.ts';
import { pipeline, queryCsv, temporaryDirectory } from '../support/cli.ts';
import type { CliResult } from '../support/cli.ts';

/** The demo end to end: what `npm start` does, on a smaller population. */
let root: string;
let lake: string;
let cleanup: () => Promise<void>;
let demo: CliResult;

beforeAll(async () => {
  const directory = await temporaryDirectory();
  root = directory.path;
  cleanup = directory.cleanup;
  lake = join(root, 'lake');
  demo = await pipeline('demo', '--customers', '1500', '--lake', lake);
});

afterAll(async () => cleanup?.());

describe('pipeline demo', () => {
  it('prints ingest counts, the run, the publish and a readable summary', () => {
    expect(demo.code, demo.stderr).toBe(0);
    expect(demo.stdout).toMatch(/orders landing\/demo\/orders\.jsonl: received [\d,]+, accepted [\d,]+ \([\d,]+ duplicates\), rejected [\d,]+/);
    expect(demo.stdout).toMatch(/run 2026-09-30: [\d.]+ s; rows: customer_summary/);
    expect(demo.stdout).toMatch(/publish 2026-09-30: sent [\d,]+ messages to outbox/);
    for (const heading of ['retention and churn, last 6 periods', 'cohort retention, latest 6 cohorts', 'RFM segments', 'CLV (classic)', 'trailing NPS', 'predictive CLV']) {
      expect(demo.stdout).toContain(heading);
    }
    expect(demo.stdout).not.toMatch(/NaN|undefined|Infinity/);
  });

  it('accounts for every generated record, rejects included', async () => {
    const counts = [...demo.stdout.matchAll(/received ([\d,]+), accepted ([\d,]+) \(([\d,]+) duplicates?\), rejected ([\d,]+)/g)].map((match) =>
      match.slice(1).map((value) => Number(value.replaceAll(',', ''))),
    );
    expect(counts).toHaveLength(2);
    for (const [received, accepted, duplicates, rejected] of counts) {
      expect(received).toBe(accepted! + rejected!);
      expect(rejected).toBeGreaterThan(0);
      expect(duplicates).toBeGreaterThanOrEqual(0);
    }
    const [{ n }] = (await queryCsv(lake, 'select count(*) as n from rejected_events')) as [{ n: string }];
    expect(Number(n)).toBe(counts[0]![3]! + counts[1]![3]!);
  });

  it('fires at least four campaigns, one message per customer, every message valid', async () => {
    const directory = join(lake, 'outbox', 'campaigns', 'as_of=2026-09-30');
    const messages = [];
    for (const file of await readdir(directory)) {
      for (const line of (await readFile(join(directory, file), 'utf8')).trim().split('\n')) {
        messages.push(campaignMessageSchema.parse(JSON.parse(line)));
      }
    }
    const campaigns = new Set(messages.map((message) => message.campaign));
    expect(campaigns.size).toBeGreaterThanOrEqual(4);
    const customers = messages.map((message) => message.customer_id);
    expect(new Set(customers).size).toBe(customers.length);
    const [{ n }] = (await queryCsv(lake, "select count(*) as n from campaign_audience where as_of = date '2026-09-30'")) as [{ n: string }];
    expect(messages).toHaveLength(Number(n));
  });

  it('fits the predictive CLV models and predicts every customer', async () => {
    const models = await queryCsv(lake, "select model, converged, time_unit from clv_model where as_of = date '2026-09-30' order by model");
    expect(models).toEqual([
      { model: 'bg_nbd', converged: 'true', time_unit: 'week' },
      { model: 'gamma_gamma', converged: 'true', time_unit: 'week' },
    ]);
    const [row] = await queryCsv(
      lake,
      "select count(*) as n, count(predicted_clv) as predicted, count(case when p_alive between 0 and 1 then 1 end) as valid from customer_clv where as_of = date '2026-09-30'",
    );
    expect(row!['predicted']).toBe(row!['n']);
    expect(row!['valid']).toBe(row!['n']);
  });

  it('rebuilds its own lake but refuses to wipe a directory it did not create', async () => {
    const other = join(root, 'precious');
    await mkdir(other, { recursive: true });
    await writeFile(join(other, 'keep.txt'), 'mine');
    const refused = await pipeline('demo', '--customers', '50', '--lake', other);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/not empty and was not made by the demo/);
    expect(await readFile(join(other, 'keep.txt'), 'utf8')).toBe('mine');
  });
});

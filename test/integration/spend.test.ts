import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../../functions/adapters/duckdb-engine.ts';
import { FilesystemObjectStore } from '../../functions/adapters/filesystem-store.ts';
import { createLakeViews } from '../../functions/adapters/lake-views.ts';
import { computeTables } from '../../functions/local/local-job-runner.ts';
import { defaultConfig } from '../../functions/core/config.ts';
import type { PipelineConfig } from '../../functions/core/config.ts';
import { jobGraph } from '../../functions/core/jobs/graph.ts';
import { rowObjects } from '../../functions/core/ports.ts';
import { orderEvent } from '../support/events.ts';
import { pipeline, queryCsv, temporaryDirectory, writeJsonLines } from '../support/cli.ts';

/**
 * Marketing spend through ingest and into stg_spend, every figure worked out in the comments:
 * invoices that add up, restatements (one, a chain, a split, of an event never received), a
 * re-delivery that changes nothing, spend after as_of, and a second currency.
 */

const spend = (event_id: string, spend_date: string, channel: string, amount: number, more: Record<string, unknown> = {}) => ({
  event_id,
  spend_date,
  channel,
  amount,
  currency: 'EUR',
  ...more,
});

const firstFile = [
  // Two invoices for web on 01-10: 100 + 50, both count.
  spend('sp1', '2024-01-10', 'web', 100, { invoice: 'A' }),
  spend('sp2', '2024-01-10', 'web', 50, { invoice: 'B' }),
  // Restated once by sp4 (60).
  spend('sp3', '2024-01-11', 'app', 80, { campaign: 'spring' }),
  // Restated by sp6, which sp7 restates in turn: only sp7 (25) counts.
  spend('sp5', '2024-01-12', 'store', 40),
  // Restated by two events on another day, sp9 (12) and sp10 (8): both count.
  spend('sp8', '2024-01-13', 'web', 20),
  // Restates an event never received: it simply counts (5).
  spend('sp11', '2024-01-15', 'web', 5, { replaces: 'never-seen' }),
  // After the run's as_of.
  spend('sp12', '2024-02-10', 'web', 70),
  // Refused: a negative amount, and another amount under an event_id already in this file.
  spend('bad1', '2024-01-10', 'web', -1),
  spend('sp2', '2024-01-10', 'web', 55),
];
const secondFile = [
  spend('sp4', '2024-01-11', 'app', 60, { campaign: 'spring', replaces: 'sp3' }),
  spend('sp6', '2024-01-12', 'store', 30, { replaces: 'sp5' }),
  spend('sp7', '2024-01-12', 'store', 25, { replaces: 'sp6' }),
  spend('sp9', '2024-01-14', 'web', 12, { replaces: 'sp8' }),
  spend('sp10', '2024-01-14', 'web', 8, { replaces: 'sp8' }),
  // A later delivery of sp1 with another amount: the first one received counts.
  spend('sp1', '2024-01-10', 'web', 999),
  // Restates sp1 from 02-05 on: a run for 01-31 still counts sp1, one for 02-29 counts sp13.
  spend('sp13', '2024-02-05', 'web', 90, { replaces: 'sp1' }),
];

let directory: Awaited<ReturnType<typeof temporaryDirectory>>;
let lake: string;

beforeAll(async () => {
  directory = await temporaryDirectory();
  lake = join(directory.path, 'lake');
  const first = await pipeline('ingest', 'spend', await writeJsonLines(join(directory.path, 'spend-1.jsonl'), firstFile), '--lake', lake);
  expect(first.code, first.stderr).toBe(0);
  expect(first.stdout).toContain('received 9, accepted 7 (0 duplicates), rejected 2');
  const second = await pipeline('ingest', 'spend', await writeJsonLines(join(directory.path, 'spend-2.jsonl'), secondFile), '--lake', lake);
  expect(second.code, second.stderr).toBe(0);
});

afterAll(async () => directory?.cleanup());

/** stg_spend of a date, computed on its own (no data test stops it). */
async function countedSpend(asOf: string, config: PipelineConfig = defaultConfig): Promise<Record<string, unknown>[]> {
  const engine = await DuckDbEngine.open();
  try {
    await createLakeViews(engine, new FilesystemObjectStore(lake));
    await computeTables(
      engine,
      config,
      asOf,
      jobGraph.filter((step) => ['stg_fx_rates', 'stg_spend'].includes(step.name)),
    );
    return rowObjects(await engine.query('select event_id, spend_date, channel, campaign, amount from stg_spend order by event_id'));
  } finally {
    await engine.close();
  }
}

describe('spend', () => {
  it('is refused with reasons, counted and queryable', async () => {
    expect(await queryCsv(lake, "select reason from rejected_events where event_type = 'spend' order by line_number")).toEqual([
      { reason: 'amount: must be >= 0 (got -1)' },
      { reason: 'event_id: "sp2" was already received on line 2 of this file with different content' },
    ]);
    expect(await queryCsv(lake, 'select count(*) as deliveries from spend')).toEqual([{ deliveries: '14' }]);
  });

  it('counts each invoice, the last of each restatement, and nothing after as_of', async () => {
    const rows = await countedSpend('2024-01-31');
    expect(rows).toEqual([
      { event_id: 'sp1', spend_date: '2024-01-10', channel: 'web', campaign: null, amount: 100 },
      { event_id: 'sp10', spend_date: '2024-01-14', channel: 'web', campaign: null, amount: 8 },
      { event_id: 'sp11', spend_date: '2024-01-15', channel: 'web', campaign: null, amount: 5 },
      { event_id: 'sp2', spend_date: '2024-01-10', channel: 'web', campaign: null, amount: 50 },
      { event_id: 'sp4', spend_date: '2024-01-11', channel: 'app', campaign: 'spring', amount: 60 },
      { event_id: 'sp7', spend_date: '2024-01-12', channel: 'store', campaign: null, amount: 25 },
      { event_id: 'sp9', spend_date: '2024-01-14', channel: 'web', campaign: null, amount: 12 },
    ]);
    // By 02-29 sp13 has restated sp1, and sp12 (02-10) counts.
    const later = (await countedSpend('2024-02-29')).map((row) => row['event_id']).sort();
    expect(later).toEqual(['sp10', 'sp11', 'sp12', 'sp13', 'sp2', 'sp4', 'sp7', 'sp9']);
  });

  it('in a second currency stops a run without a reporting currency, naming it', async () => {
    const orders = await writeJsonLines(join(directory.path, 'orders.jsonl'), [
      orderEvent({ order_id: 'o1', customer_id: 'c1', occurred_at: '2024-01-10T10:00:00Z' }),
    ]);
    const usd = await writeJsonLines(join(directory.path, 'spend-usd.jsonl'), [spend('usd1', '2024-01-10', 'web', 10, { currency: 'USD' })]);
    expect((await pipeline('ingest', 'orders', orders, '--lake', lake)).code).toBe(0);
    expect((await pipeline('ingest', 'spend', usd, '--lake', lake)).code).toBe(0);
    const run = await pipeline('run', '--as-of', '2024-01-31', '--lake', lake);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('amounts are in more than one currency, EUR (1 order, 7 spend events), USD (1 spend event)');
    // Reported in EUR, the USD spend needs a rate like an order would.
    const config = join(directory.path, 'eur.json');
    await writeFile(config, JSON.stringify({ reportingCurrency: 'EUR' }));
    const converted = await pipeline('run', '--as-of', '2024-01-31', '--config', config, '--lake', lake);
    expect(converted.code).toBe(1);
    expect(converted.stderr).toContain(
      'no USD rate to EUR dated on or up to 7 days before 2024-01-10 (1 spend event): ingest them with pipeline ingest fx-rates',
    );
    // A rate 5 days before converts it; one 8 days before a second spend event is too old.
    const rates = await writeJsonLines(join(directory.path, 'rates.jsonl'), [{ date: '2024-01-05', currency: 'USD', rate: 0.8 }]);
    const late = await writeJsonLines(join(directory.path, 'spend-usd-late.jsonl'), [spend('usd2', '2024-01-13', 'web', 10, { currency: 'USD' })]);
    expect((await pipeline('ingest', 'fx-rates', rates, '--lake', lake)).code).toBe(0);
    expect((await pipeline('ingest', 'spend', late, '--lake', lake)).code).toBe(0);
    const tooOld = await pipeline('run', '--as-of', '2024-01-31', '--config', config, '--lake', lake);
    expect(tooOld.code).toBe(1);
    expect(tooOld.stderr).toContain('no USD rate to EUR dated on or up to 7 days before 2024-01-13 (1 spend event)');
    expect(tooOld.stderr).not.toContain('2024-01-10');
    const convertedUsd = (await countedSpend('2024-01-31', { ...defaultConfig, reportingCurrency: 'EUR' })).filter((row) =>
      String(row['event_id']).startsWith('usd'),
    );
    expect(convertedUsd).toEqual([
      { event_id: 'usd1', spend_date: '2024-01-10', channel: 'web', campaign: null, amount: 8 },
      { event_id: 'usd2', spend_date: '2024-01-13', channel: 'web', campaign: null, amount: null },
    ]);
  });
});

import { join } from 'node:path';
import { mkdir, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../../functions/adapters/duckdb-engine.ts';
import { FilesystemObjectStore } from '../../functions/adapters/filesystem-store.ts';
import { createSourceViews } from '../../functions/adapters/lake-views.ts';
import { defaultConfig } from '../../functions/core/config.ts';
import { jobGraph } from '../../functions/core/jobs/graph.ts';
import { computeTables } from '../../functions/local/local-job-runner.ts';
import { orderEvent, surveyEvent } from '../support/events.ts';
import { pipeline, queryCsv, temporaryDirectory, writeJsonLines } from '../support/cli.ts';

/**
 * Hand-made customers whose every number is worked out by hand in the comments: refunds,
 * cancellations, duplicates, late and early cuts, an offset timestamp near midnight, empty
 * periods and zero denominators.
 */

const orders = [
  // cust-a: the only order is refunded in full (no amount means the whole total): no purchase.
  orderEvent({ order_id: 'A1', customer_id: 'cust-a', occurred_at: '2024-01-10T10:00:00Z', total: 100 }),
  orderEvent({ order_id: 'A1', customer_id: 'cust-a', occurred_at: '2024-01-15T10:00:00Z', status: 'refunded', total: 100 }),
  // cust-b: placed then cancelled: no purchase.
  orderEvent({ order_id: 'B1', customer_id: 'cust-b', occurred_at: '2024-01-12T09:00:00Z', total: 50 }),
  orderEvent({ order_id: 'B1', customer_id: 'cust-b', occurred_at: '2024-01-12T12:00:00Z', status: 'cancelled', total: 50 }),
  // cust-c: C1 counts once although delivered twice (see the second file); C2 is refunded in
  // two parts that add up to the total (no purchase); C3 is refunded in part after 03-31.
  orderEvent({ event_id: 'dup-c1', order_id: 'C1', customer_id: 'cust-c', occurred_at: '2024-01-20T08:00:00Z', total: 40 }),
  orderEvent({ order_id: 'C2', customer_id: 'cust-c', occurred_at: '2024-03-05T08:00:00Z', total: 60 }),
  orderEvent({ order_id: 'C2', customer_id: 'cust-c', occurred_at: '2024-03-10T08:00:00Z', status: 'refunded', total: 60, refunded_amount: 20.1 }),
  orderEvent({ order_id: 'C2', customer_id: 'cust-c', occurred_at: '2024-03-12T08:00:00Z', status: 'refunded', total: 60, refunded_amount: 39.9 }),
  orderEvent({ order_id: 'C3', customer_id: 'cust-c', occurred_at: '2024-03-20T12:00:00Z', total: 30 }),
  orderEvent({ order_id: 'C3', customer_id: 'cust-c', occurred_at: '2024-04-02T12:00:00Z', status: 'refunded', total: 30, refunded_amount: 10 }),
  // cust-d: 23:30 in New York on Jan 31 is 04:30 UTC on Feb 1.
  orderEvent({ order_id: 'D1', customer_id: 'cust-d', occurred_at: '2024-01-31T23:30:00-05:00', total: 25 }),
  // cust-e: 00:30 UTC on Apr 1 is still Mar 31 in New York.
  orderEvent({ order_id: 'E1', customer_id: 'cust-e', occurred_at: '2024-04-01T00:30:00Z', total: 15 }),
  // cust-f: a partial refund of 30 leaves 50.
  orderEvent({ order_id: 'F1', customer_id: 'cust-f', occurred_at: '2024-01-05T10:00:00Z', total: 80 }),
  orderEvent({ order_id: 'F1', customer_id: 'cust-f', occurred_at: '2024-02-10T10:00:00Z', status: 'refunded', total: 80, refunded_amount: 30 }),
];

const surveys = [
  surveyEvent({ customer_id: 'cust-c', occurred_at: '2024-03-02T10:00:00Z', score: 3 }),
  surveyEvent({ customer_id: 'cust-c', occurred_at: '2024-03-25T10:00:00Z', score: 10 }),
  surveyEvent({ event_id: 'dup-d', customer_id: 'cust-d', occurred_at: '2024-03-10T10:00:00Z', score: 8 }),
  surveyEvent({ event_id: 'dup-d', customer_id: 'cust-d', occurred_at: '2024-03-10T10:00:00Z', score: 8 }),
  surveyEvent({ customer_id: 'cust-f', occurred_at: '2024-01-06T10:00:00Z', score: 9 }),
  // After the 03-31 cut in UTC, but 22:00 on Mar 31 in New York.
  surveyEvent({ customer_id: 'cust-f', occurred_at: '2024-04-01T02:00:00Z', score: 0 }),
];

let lake: string;
let nyLake: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const directory = await temporaryDirectory();
  cleanup = directory.cleanup;
  lake = join(directory.path, 'lake');
  nyLake = join(directory.path, 'ny-lake');
  const first = await writeJsonLines(join(directory.path, 'orders-1.jsonl'), orders);
  const second = await writeJsonLines(join(directory.path, 'orders-2.jsonl'), [orders[4]!]);
  const surveyFile = await writeJsonLines(join(directory.path, 'surveys.jsonl'), surveys);
  const nyConfig = join(directory.path, 'ny.json');
  await writeFile(nyConfig, JSON.stringify({ businessTimezone: 'America/New_York' }));
  for (const target of [lake, nyLake]) {
    for (const args of [
      ['ingest', 'orders', first, second],
      ['ingest', 'surveys', surveyFile],
    ]) {
      expect((await pipeline(...args, '--lake', target)).code).toBe(0);
    }
  }
  expect((await pipeline('run', '--as-of', '2024-03-31', '--lake', lake)).code).toBe(0);
  expect((await pipeline('run', '--as-of', '2024-05-31', '--lake', lake)).code).toBe(0);
  expect((await pipeline('run', '--as-of', '2024-03-31', '--lake', nyLake, '--config', nyConfig)).code).toBe(0);
});

afterAll(async () => cleanup?.());

const at = (asOf: string) => `where as_of = date '${asOf}'`;

describe('customer_summary on hand-made customers', () => {
  it('counts purchases and net revenue after refunds, cancellations and duplicates', async () => {
    const rows = await queryCsv(lake, `select * from customer_summary ${at('2024-03-31')} order by customer_id`);
    expect(rows.map((row) => row['customer_id'])).toEqual(['cust-c', 'cust-d', 'cust-f']);
    const [c, d, f] = rows as [Record<string, string | null>, Record<string, string | null>, Record<string, string | null>];
    expect(c).toMatchObject({ purchases: '2', purchase_days: '2', net_revenue: '70', aov: '35', frequency: '1' });
    // Jan 20 -> Mar 20 in a leap year is 60 days; Jan 20 -> Mar 31 is 71.
    expect(c).toMatchObject({ recency_days: '60', tenure_days: '71', days_since_last_purchase: '11' });
    expect(c).toMatchObject({ avg_repeat_day_net_revenue: '30', last_nps_score: '10' });
    expect(d).toMatchObject({ purchases: '1', net_revenue: '25', frequency: '0', recency_days: '0', tenure_days: '59' });
    expect(d['avg_repeat_day_net_revenue']).toBeNull();
    expect(d['first_purchase_date']).toBe('2024-02-01');
    expect(f).toMatchObject({ net_revenue: '50', tenure_days: '86', last_nps_score: '9' });
  });

  it('counts a refund dated after as_of only in later runs', async () => {
    const [c] = await queryCsv(lake, `select net_revenue, purchases from customer_summary ${at('2024-05-31')} and customer_id = 'cust-c'`);
    expect(c).toEqual({ net_revenue: '60', purchases: '2' });
  });

  it('dates events by the business timezone', async () => {
    const rows = await queryCsv(
      nyLake,
      `select customer_id, first_purchase_date, last_nps_score from customer_summary ${at('2024-03-31')} order by customer_id`,
    );
    expect(rows).toEqual([
      { customer_id: 'cust-c', first_purchase_date: '2024-01-20', last_nps_score: '10' },
      { customer_id: 'cust-d', first_purchase_date: '2024-01-31', last_nps_score: '8' },
      { customer_id: 'cust-e', first_purchase_date: '2024-03-31', last_nps_score: null },
      { customer_id: 'cust-f', first_purchase_date: '2024-01-05', last_nps_score: '0' },
    ]);
  });
});

describe('period_metrics on hand-made customers', () => {
  it('reports null rates for a zero base and the classic churn going negative', async () => {
    const rows = await queryCsv(lake, `select * from period_metrics ${at('2024-03-31')} order by period_start`);
    expect(rows.map((row) => row['period_start'])).toEqual(['2024-01-01', '2024-02-01', '2024-03-01']);
    const [january, february, march] = rows as Record<string, string | null>[];
    expect(january).toMatchObject({ customers_start: '0', customers_end: '2', new_customers: '2', orders: '2', net_revenue: '90', aov: '45' });
    expect(january!['retention_rate']).toBeNull();
    expect(january!['churn_rate']).toBeNull();
    expect(january!['churn_rate_classic']).toBeNull();
    expect(february).toMatchObject({
      customers_start: '2',
      customers_end: '3',
      new_customers: '1',
      retained_customers: '2',
      churned_customers: '0',
      reactivated_customers: '0',
      retention_rate: '1',
      churn_rate: '0',
      retention_rate_classic: '1',
      churn_rate_classic: '-0.5',
    });
    expect(march).toMatchObject({ customers_start: '3', customers_end: '3', new_customers: '0', orders: '1', net_revenue: '30' });
  });

  it('keeps empty periods as rows with zero orders and a null AOV', async () => {
    const rows = await queryCsv(
      lake,
      `select period_start, orders, net_revenue, aov, customers_end from period_metrics ${at('2024-05-31')} order by period_start`,
    );
    expect(rows.map((row) => row['period_start'])).toEqual(['2024-01-01', '2024-02-01', '2024-03-01', '2024-04-01', '2024-05-01']);
    // The base at May 31 looks back to Mar 3: cust-c (Mar 20) and cust-e (Apr 1) only.
    expect(rows[4]).toEqual({ period_start: '2024-05-01', orders: '0', net_revenue: '0', aov: null, customers_end: '2' });
    // E1 (Apr 1 UTC) is April's only purchase; C3's late refund does not move it out of March.
    expect(rows[3]).toMatchObject({ orders: '1', net_revenue: '15' });
    expect(rows[2]).toMatchObject({ orders: '1', net_revenue: '20' });
  });
});

describe('cohort_retention, nps and clv_summary on hand-made customers', () => {
  it('reports every offset up to as_of, zeros included', async () => {
    const rows = await queryCsv(
      lake,
      `select cohort_start, period_offset, cohort_size, active_customers, retention_rate from cohort_retention ${at('2024-03-31')} order by cohort_start, period_offset`,
    );
    expect(rows).toEqual([
      { cohort_start: '2024-01-01', period_offset: '0', cohort_size: '2', active_customers: '2', retention_rate: '1' },
      { cohort_start: '2024-01-01', period_offset: '1', cohort_size: '2', active_customers: '0', retention_rate: '0' },
      { cohort_start: '2024-01-01', period_offset: '2', cohort_size: '2', active_customers: '1', retention_rate: '0.5' },
      { cohort_start: '2024-02-01', period_offset: '0', cohort_size: '1', active_customers: '1', retention_rate: '1' },
      { cohort_start: '2024-02-01', period_offset: '1', cohort_size: '1', active_customers: '0', retention_rate: '0' },
    ]);
  });

  it('counts each customer once per period, at their latest answer', async () => {
    const rows = await queryCsv(
      lake,
      `select period_start, responses, promoters, passives, detractors, nps, trailing_responses, trailing_nps from nps ${at('2024-03-31')} order by period_start`,
    );
    expect(rows[0]).toMatchObject({ period_start: '2024-01-01', responses: '1', promoters: '1', nps: '100' });
    expect(rows[1]).toMatchObject({ period_start: '2024-02-01', responses: '0', nps: null });
    expect(rows[2]).toMatchObject({ period_start: '2024-03-01', responses: '2', promoters: '1', passives: '1', detractors: '0', nps: '50' });
    expect(Number(rows[2]!['trailing_nps'])).toBeCloseTo(200 / 3, 10);
    expect(rows[2]!['trailing_responses']).toBe('3');
  });

  it('computes the classic CLV inputs and leaves CLV null without a year of history', async () => {
    const [clv] = await queryCsv(lake, `select * from clv_summary ${at('2024-03-31')}`);
    expect(clv).toMatchObject({ customers: '3', purchases: '4', net_revenue: '145', aov: '36.25', observed_days: '87' });
    expect(Number(clv!['purchase_frequency_per_year'])).toBeCloseTo((4 / 3) * (365.25 / 87), 10);
    expect(clv!['annual_churn_rate']).toBeNull();
    // Counts over an empty base are 0 on both engines, not null.
    expect(clv).toMatchObject({ customers_year_ago: '0', churned_since: '0' });
    expect(clv!['clv_simple']).toBeNull();
  });
});

describe('duplicates across files', () => {
  it('keep the first delivery received, even when a later one carries an earlier date', async () => {
    const directory = await temporaryDirectory();
    try {
      const dupLake = join(directory.path, 'lake');
      const first = await writeJsonLines(join(directory.path, 'first.jsonl'), [
        orderEvent({ event_id: 'same', order_id: 'X1', customer_id: 'cust-first', occurred_at: '2024-07-10T10:00:00Z', total: 10 }),
      ]);
      const second = await writeJsonLines(join(directory.path, 'second.jsonl'), [
        orderEvent({ event_id: 'same', order_id: 'X2', customer_id: 'cust-second', occurred_at: '2024-06-05T10:00:00Z', total: 99 }),
      ]);
      for (const file of [first, second]) expect((await pipeline('ingest', 'orders', file, '--lake', dupLake)).code).toBe(0);
      for (const asOf of ['2024-06-30', '2024-07-31']) expect((await pipeline('run', '--as-of', asOf, '--lake', dupLake)).code).toBe(0);
      expect(await queryCsv(dupLake, 'select as_of, customer_id, net_revenue from customer_summary order by as_of')).toEqual([
        { as_of: '2024-07-31', customer_id: 'cust-first', net_revenue: '10' },
      ]);
    } finally {
      await directory.cleanup();
    }
  });
  it.each([
    [
      'orders',
      'stg_order_events',
      (id: string, day: number) => orderEvent({ event_id: id, order_id: `O-${id}`, customer_id: 'c1', occurred_at: `2024-07-1${day}T10:00:00Z`, total: 10 }),
    ],
    [
      'surveys',
      'stg_survey_responses',
      (id: string, day: number) => surveyEvent({ event_id: id, customer_id: 'c1', occurred_at: `2024-07-1${day}T10:00:00Z`, score: 9 }),
    ],
  ] as const)('in %s without an event_id stop the run, and drop neither them nor the events delivered once', async (type, staging, event) => {
    const directory = await temporaryDirectory();
    try {
      const lake = join(directory.path, 'lake');
      const events = [event('once', 1), event('twice', 2)];
      for (const [index, batch] of [events, [events[1]!]].entries()) {
        const file = await writeJsonLines(join(directory.path, `batch-${index}.jsonl`), batch);
        expect((await pipeline('ingest', type, file, '--lake', lake)).code).toBe(0);
      }
      // Rows no ingest writes, as a file dropped into raw/ by hand could hold them: two without an id.
      const raw = join(lake, 'raw', type);
      await mkdir(join(raw, 'dt=2024-08-01'));
      const engine = await DuckDbEngine.open();
      try {
        const once = `from read_parquet('${raw}/*/*.parquet', hive_partitioning = true) where event_id = 'once'`;
        await engine.execute(
          `copy (select * exclude (dt) replace (cast(null as varchar) as event_id) ${once} union all select * exclude (dt) replace (cast(null as varchar) as event_id) ` +
            `${once}) to '${raw}/dt=2024-08-01/part-by-hand-0000.parquet' (format parquet)`,
        );
        await createSourceViews(engine, new FilesystemObjectStore(lake));
        await computeTables(
          engine,
          defaultConfig,
          '2024-07-31',
          jobGraph.filter((step) => step.name === staging),
        );
        const kept = await engine.query(`select event_id from ${staging} order by event_id nulls last`);
        expect(kept.rows).toEqual([['once'], ['twice'], [null], [null]]);
      } finally {
        engine.close();
      }
      const result = await pipeline('run', '--as-of', '2024-07-31', '--lake', lake);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`${staging}[\\s\\S]*event_id[\\s\\S]*not_null`));
    } finally {
      await directory.cleanup();
    }
  });
});

describe('reruns', () => {
  it('replace a partition instead of adding to it', async () => {
    const before = await queryCsv(lake, `select count(*) as n from customer_summary ${at('2024-03-31')}`);
    expect((await pipeline('run', '--as-of', '2024-03-31', '--lake', lake)).code).toBe(0);
    const after = await queryCsv(lake, `select count(*) as n from customer_summary ${at('2024-03-31')}`);
    expect(after).toEqual(before);
    expect(before).toEqual([{ n: '3' }]);
  });
});

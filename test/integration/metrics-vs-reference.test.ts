import { cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDemoData, surveysToCsv } from '../../functions/core/demo/generate.ts';
import * as commerce from '../reference/commerce.ts';
import * as reference from '../reference/metrics.ts';
import type { RefOrderEvent, RefSurveyEvent, ReferenceConfig } from '../reference/metrics.ts';
import { pipeline, queryCsv, temporaryDirectory } from '../support/cli.ts';
import { validDemoOrders } from '../support/events.ts';

/**
 * The pipeline's tables, read back through `pipeline query --format csv` exactly as a data
 * team (or a checker) would, against the reference implementation over generated data.
 */

const data = generateDemoData({ customers: 400, seed: 7, startDate: '2025-01-01', endDate: '2026-03-31' });

const validOrders = validDemoOrders<RefOrderEvent>(data.orderLines);
const validSurveys: RefSurveyEvent[] = data.surveys.map((survey) => ({
  event_id: String(survey['event_id']),
  customer_id: String(survey['customer_id']),
  occurred_at: String(survey['occurred_at']),
  score: Number(survey['score']),
}));

/** A timestamp as `pipeline query --format csv` prints it. */
const timestampText = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.000Z$/, '+00')
    .replace(/Z$/, '+00');

/** Booleans and timestamps as the CSV prints them; numbers, strings and nulls as they are. */
const asCsv = (row: object, timestamps: readonly string[] = []) =>
  Object.fromEntries(
    Object.entries(row).map(([key, value]) => [
      key,
      typeof value === 'boolean' ? String(value) : timestamps.includes(key) ? timestampText(value as number) : value,
    ]),
  );

/** The pipeline's predicted CLV per customer (checked in its own tests), for the tables that average it. */
async function predictedClvOf(lake: string, where: string): Promise<Map<string, number | null>> {
  const rows = await queryCsv(lake, `select customer_id, predicted_clv from customer_clv ${where}`);
  return new Map(rows.map((row) => [row['customer_id']!, row['predicted_clv'] === null ? null : Number(row['predicted_clv'])]));
}

function close(actual: string | null | undefined, expected: number | string | null, label: string): void {
  if (expected === null) {
    expect(actual ?? null, label).toBeNull();
    return;
  }
  expect(actual, label).not.toBeNull();
  if (typeof expected === 'string') {
    expect(actual, label).toBe(expected);
    return;
  }
  const value = Number(actual);
  const tolerance = 1e-9 * Math.max(1, Math.abs(expected));
  expect(Math.abs(value - expected), `${label}: got ${actual}, expected ${expected}`).toBeLessThanOrEqual(tolerance);
}

function compareRows(
  actual: Record<string, string | null>[],
  expected: Record<string, unknown>[],
  key: (row: Record<string, unknown>) => string,
  columns: readonly string[],
  table: string,
): void {
  expect(expected.length, `${table} reference rows`).toBeGreaterThan(0);
  expect(actual.length, `${table} row count`).toBe(expected.length);
  const byKey = new Map(actual.map((row) => [key(row), row]));
  for (const row of expected) {
    const found = byKey.get(key(row));
    expect(found, `${table} row ${key(row)}`).toBeDefined();
    for (const column of columns) {
      close(found![column], row[column] as number | string | null, `${table} ${key(row)} ${column}`);
    }
  }
}

const scenarios: { name: string; config: ReferenceConfig; asOfs: string[] }[] = [
  {
    name: 'defaults (UTC, months, 90-day window)',
    config: { businessTimezone: 'UTC', period: 'month', activityWindowDays: 90, npsTrailingWindowDays: 90 },
    asOfs: ['2026-03-31', '2025-11-17'],
  },
  {
    name: 'New York business days, weekly periods, 30-day window',
    config: { businessTimezone: 'America/New_York', period: 'week', activityWindowDays: 30, npsTrailingWindowDays: 28 },
    asOfs: ['2025-12-03'],
  },
  {
    name: 'Tokyo business days, quarters, 180-day window, RFM frequency from 2, 4, 7 and 10 purchases, 60 % margin',
    config: {
      businessTimezone: 'Asia/Tokyo',
      period: 'quarter',
      activityWindowDays: 180,
      npsTrailingWindowDays: 120,
      rfm: { frequencyThresholds: [2, 4, 7, 10] },
      grossMarginRate: 0.6,
    },
    asOfs: ['2026-02-28'],
  },
  {
    // A window shorter than a period: customers leave the base and come back within one
    // period, and a new customer can be out of the base again by its end.
    name: 'UTC, quarters, 10-day window',
    config: { businessTimezone: 'UTC', period: 'quarter', activityWindowDays: 10, npsTrailingWindowDays: 30 },
    asOfs: ['2026-03-31'],
  },
];

/** The events, ingested once: ingest does not depend on the config, and each scenario runs on a copy. */
let ingested: Awaited<ReturnType<typeof temporaryDirectory>>;

beforeAll(async () => {
  ingested = await temporaryDirectory();
  const ordersPath = join(ingested.path, 'orders.jsonl');
  const surveysPath = join(ingested.path, 'surveys.csv');
  const spendPath = join(ingested.path, 'spend.jsonl');
  await writeFile(ordersPath, `${data.orderLines.join('\n')}\n`);
  await writeFile(surveysPath, surveysToCsv(data));
  await writeFile(spendPath, `${data.spendLines.join('\n')}\n`);
  for (const [type, path] of [
    ['orders', ordersPath],
    ['surveys', surveysPath],
    ['spend', spendPath],
  ] as const) {
    const result = await pipeline('ingest', type, path, '--lake', join(ingested.path, 'lake'));
    expect(result.code, result.stderr).toBe(0);
  }
});

afterAll(async () => ingested?.cleanup());

describe.each(scenarios)('metric tables match the reference: $name', ({ config, asOfs }) => {
  let lake: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const directory = await temporaryDirectory();
    cleanup = directory.cleanup;
    lake = join(directory.path, 'lake');
    await cp(join(ingested.path, 'lake'), lake, { recursive: true });
    const configPath = join(directory.path, 'config.json');
    await writeFile(configPath, JSON.stringify(config));
    for (const args of asOfs.map((asOf) => ['run', '--as-of', asOf, '--config', configPath])) {
      const result = await pipeline(...args, '--lake', lake);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
    }
  });

  afterAll(async () => cleanup?.());

  describe.each(asOfs)('as of %s', (asOf) => {
    const purchases = reference.purchasesAsOf(validOrders, config, asOf);
    const responses = reference.responsesAsOf(validSurveys, config, asOf);
    const summary = reference.customerSummary(purchases, responses, asOf);
    const where = `where as_of = date '${asOf}'`;

    it('customer_summary', async () => {
      const rows = await queryCsv(lake, `select * from customer_summary ${where}`);
      expect(summary.length).toBeGreaterThan(50);
      compareRows(
        rows,
        summary.map((row) => ({
          ...row,
          first_purchase_at: timestampText(row.first_purchase_at),
          last_purchase_at: timestampText(row.last_purchase_at),
        })),
        (row) => String(row['customer_id']),
        [
          'purchases',
          'purchase_days',
          'net_revenue',
          'aov',
          'frequency',
          'recency_days',
          'tenure_days',
          'days_since_last_purchase',
          'avg_repeat_day_net_revenue',
          'last_nps_score',
          'first_purchase_at',
          'last_purchase_at',
        ],
        'customer_summary',
      );
    });

    const orders = commerce.customerOrders(validOrders, config, asOf);

    it('customer_orders', async () => {
      const rows = await queryCsv(lake, `select * from customer_orders ${where}`);
      const expected = orders.map(({ placed_at_ms, first_event_at_ms, items: _items, ...row }) =>
        asCsv({ ...row, placed_at: placed_at_ms, first_event_at: first_event_at_ms }, ['placed_at', 'first_event_at']),
      );
      expect(new Set(orders.map((order) => order.status)).size, 'every status occurs').toBe(4);
      compareRows(rows, expected, (row) => String(row['order_id']), Object.keys(expected[0]!), 'customer_orders');
    });

    it('order_lines', async () => {
      const rows = await queryCsv(lake, `select * from order_lines ${where}`);
      const expected = commerce.orderLines(orders).map((row) => asCsv(row));
      compareRows(rows, expected, (row) => `${row['order_id']}#${row['line_number']}`, Object.keys(expected[0]!), 'order_lines');
    });

    it('category_metrics', async () => {
      const rows = await queryCsv(lake, `select * from category_metrics ${where}`);
      const expected = commerce.categoryMetrics(commerce.orderLines(orders), config);
      compareRows(rows, expected, (row) => `${row['period_start']}/${row['category']}`, Object.keys(expected[0]!), 'category_metrics');
    });

    it('channel_metrics', async () => {
      const rows = await queryCsv(lake, `select * from channel_metrics ${where}`);
      // Predicted CLV is checked in its own tests: here, that each channel averages its customers'.
      const predicted = await predictedClvOf(lake, where);
      const expected = commerce.channelMetrics(orders, predicted, asOf);
      compareRows(rows, expected, (row) => String(row['acquisition_channel']), Object.keys(expected[0]!), 'channel_metrics');
    });

    it('referral_metrics', async () => {
      const rows = await queryCsv(lake, `select * from referral_metrics ${where}`);
      const predicted = await predictedClvOf(lake, where);
      const expected = commerce.referralMetrics(orders, predicted, config, asOf);
      compareRows(rows, expected, (row) => String(row['period_start']), Object.keys(expected[0]!), 'referral_metrics');
    });

    it('acquisition_metrics', async () => {
      const rows = await queryCsv(lake, `select * from acquisition_metrics ${where}`);
      // Predicted and classic CLV are checked in their own tests: here, how each group uses them.
      const predicted = await predictedClvOf(lake, where);
      const [classic] = await queryCsv(lake, `select purchase_frequency_per_year, expected_lifespan_years from clv_summary ${where}`);
      const number = (text: string | null | undefined) => (text === null || text === undefined ? null : Number(text));
      const spend = commerce.countedSpend(
        data.spendLines.map((line) => JSON.parse(line) as commerce.RefSpendEvent),
        asOf,
      );
      const expected = commerce.acquisitionMetrics(
        orders,
        spend,
        predicted,
        { frequency: number(classic!['purchase_frequency_per_year']), lifespan: number(classic!['expected_lifespan_years']) },
        config,
        asOf,
        config.grossMarginRate,
      );
      expect(expected.some((row) => row.payback_days !== null && row.acquisition_channel !== 'all')).toBe(true);
      compareRows(rows, expected, (row) => `${row['period_start']}/${row['acquisition_channel']}`, Object.keys(expected[0]!), 'acquisition_metrics');
    });

    it('cohort_retention', async () => {
      const rows = await queryCsv(lake, `select * from cohort_retention ${where}`);
      compareRows(
        rows,
        reference.cohortRetention(purchases, config, asOf),
        (row) => `${row['cohort_start']}+${row['period_offset']}`,
        ['cohort_size', 'active_customers', 'retention_rate'],
        'cohort_retention',
      );
    });

    it('period_metrics', async () => {
      const rows = await queryCsv(lake, `select * from period_metrics ${where}`);
      const expected = reference.periodMetrics(purchases, config, asOf);
      compareRows(rows, expected, (row) => String(row['period_start']), Object.keys(expected[0]!), 'period_metrics');
    });

    it('cohort_revenue', async () => {
      const rows = await queryCsv(lake, `select * from cohort_revenue ${where}`);
      const expected = commerce.cohortRevenue(purchases, config, asOf);
      compareRows(rows, expected, (row) => `${row['cohort_start']}+${row['period_offset']}`, Object.keys(expected[0]!), 'cohort_revenue');
    });

    it('revenue_retention', async () => {
      const rows = await queryCsv(lake, `select * from revenue_retention ${where}`);
      const expected = commerce.revenueRetention(purchases, config, asOf);
      compareRows(rows, expected, (row) => String(row['period_start']), Object.keys(expected[0]!), 'revenue_retention');
    });

    it('clv_summary', async () => {
      const rows = await queryCsv(lake, `select * from clv_summary ${where}`);
      const expected = reference.clvSummary(purchases, config, asOf);
      compareRows(rows, [expected], () => 'one', Object.keys(expected), 'clv_summary');
    });

    it('nps', async () => {
      const rows = await queryCsv(lake, `select * from nps ${where}`);
      const expected = reference.nps(responses, config, asOf);
      compareRows(rows, expected, (row) => String(row['period_start']), Object.keys(expected[0]!), 'nps');
    });

    it('rfm_segments', async () => {
      const rows = await queryCsv(lake, `select * from rfm_segments ${where}`);
      compareRows(
        rows,
        reference.rfmScores(summary, config.rfm?.frequencyThresholds),
        (row) => String(row['customer_id']),
        ['r_score', 'f_score', 'm_score', 'segment'],
        'rfm_segments',
      );
    });
  });
});

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDemoData } from '../../functions/core/demo/generate.ts';
import * as commerce from '../reference/commerce.ts';
import * as reference from '../reference/metrics.ts';
import type { RefOrderEvent, ReferenceConfig } from '../reference/metrics.ts';
import { pipeline, queryCsv, temporaryDirectory } from '../support/cli.ts';
import { validDemoOrders } from '../support/events.ts';

/**
 * The demo in two currencies: a third of the customers buy in GBP, whose rate to USD is
 * published on working days only (weekend orders take Friday's). Reported in USD, the tables
 * match the reference converting each order at its own rate.
 */

const asOf = '2025-12-31';
const data = generateDemoData({
  customers: 300,
  seed: 11,
  startDate: '2025-01-01',
  endDate: asOf,
  secondCurrency: { code: 'GBP', share: 0.3, startRate: 1.27 },
});
const events = validDemoOrders<RefOrderEvent>(data.orderLines);
const config: ReferenceConfig = { businessTimezone: 'UTC', period: 'month', activityWindowDays: 90, npsTrailingWindowDays: 90 };
const orders = commerce.customerOrders(events, config, asOf, { reportingCurrency: 'USD', rates: data.fxRates });

let directory: Awaited<ReturnType<typeof temporaryDirectory>>;
let lake: string;

beforeAll(async () => {
  directory = await temporaryDirectory();
  lake = join(directory.path, 'lake');
  const ordersPath = join(directory.path, 'orders.jsonl');
  const ratesPath = join(directory.path, 'rates.csv');
  const configPath = join(directory.path, 'config.json');
  await writeFile(ordersPath, `${data.orderLines.join('\n')}\n`);
  await writeFile(ratesPath, `${['date,currency,rate', ...data.fxRates.map((rate) => `${rate.date},${rate.currency},${rate.rate}`)].join('\n')}\n`);
  await writeFile(configPath, JSON.stringify({ reportingCurrency: 'USD' }));
  for (const [input, path] of [
    ['orders', ordersPath],
    ['fx-rates', ratesPath],
  ] as const) {
    const result = await pipeline('ingest', input, path, '--lake', lake);
    expect(result.code, result.stderr).toBe(0);
  }
  const run = await pipeline('run', '--as-of', asOf, '--config', configPath, '--lake', lake);
  expect(run.code, run.stderr).toBe(0);
});

afterAll(async () => directory?.cleanup());

/**
 * Rows of a table against the reference's, number by number within 1e-9 relative or 1e-5: the
 * tables sum money as decimals of 6 places, and converted amounts have more.
 */
function expectRows(actual: Record<string, string | null>[], expected: Record<string, unknown>[], key: (row: Record<string, unknown>) => string): void {
  expect(actual.length).toBe(expected.length);
  const byKey = new Map(actual.map((row) => [key(row), row]));
  for (const row of expected) {
    const found = byKey.get(key(row));
    expect(found, key(row)).toBeDefined();
    for (const [column, value] of Object.entries(row)) {
      if (typeof value === 'number')
        expect(Math.abs(Number(found![column]) - value), `${key(row)} ${column}`).toBeLessThanOrEqual(Math.max(1e-5, 1e-9 * Math.abs(value)));
      else expect(found![column], `${key(row)} ${column}`).toBe(value === null ? null : String(value));
    }
  }
}

describe('the demo in two currencies, reported in USD', () => {
  it('has orders in both, GBP ones on weekends too', () => {
    const gbp = orders.filter((order) => order.original_currency === 'GBP');
    expect(gbp.length).toBeGreaterThan(100);
    expect(orders.length - gbp.length).toBeGreaterThan(100);
    expect(gbp.some((order) => [0, 6].includes(new Date(`${order.order_date}T00:00:00Z`).getUTCDay()))).toBe(true);
  });

  it('converts each order at its rate: customer_orders', async () => {
    const rows = await queryCsv(lake, `select * from customer_orders where as_of = date '${asOf}'`);
    const expected = orders.map((order) => ({
      order_id: order.order_id,
      original_currency: order.original_currency,
      original_gross_amount: order.original_gross_amount,
      fx_rate: order.fx_rate,
      gross_amount: order.gross_amount,
      refunded_amount: order.refunded_amount,
      net_amount: order.net_amount,
    }));
    expectRows(rows, expected, (row) => String(row['order_id']));
  });

  it('sums converted money: order_lines, period_metrics and cohort_revenue', async () => {
    const lines = commerce
      .orderLines(orders)
      .map(({ order_id, line_number, unit_price, discount_amount, line_amount }) => ({ order_id, line_number, unit_price, discount_amount, line_amount }));
    expectRows(await queryCsv(lake, `select * from order_lines where as_of = date '${asOf}'`), lines, (row) => `${row['order_id']}#${row['line_number']}`);
    const purchases = orders
      .filter((order) => order.is_purchase)
      .map((order) => ({
        order_id: order.order_id,
        customer_id: order.customer_id,
        placed_at_ms: order.placed_at_ms,
        date: order.order_date,
        net: order.net_amount,
      }));
    const periods = reference
      .periodMetrics(purchases, config, asOf)
      .map(({ period_start, net_revenue, new_customer_revenue, returning_customer_revenue, aov }) => ({
        period_start,
        net_revenue,
        new_customer_revenue,
        returning_customer_revenue,
        aov,
      }));
    expectRows(await queryCsv(lake, `select * from period_metrics where as_of = date '${asOf}'`), periods, (row) => String(row['period_start']));
    const cohorts = commerce.cohortRevenue(purchases, config, asOf).map(({ cohort_start, period_offset, net_revenue, cumulative_revenue_per_customer }) => ({
      cohort_start,
      period_offset,
      net_revenue,
      cumulative_revenue_per_customer,
    }));
    expectRows(
      await queryCsv(lake, `select * from cohort_revenue where as_of = date '${asOf}'`),
      cohorts,
      (row) => `${row['cohort_start']}+${row['period_offset']}`,
    );
  });
});

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderEvent } from '../support/events.ts';
import { pipeline, queryCsv, temporaryDirectory, writeJsonLines } from '../support/cli.ts';

/**
 * Orders in three currencies reported in EUR, every conversion worked out in the comments:
 * the rate of the order date or the latest one up to 7 days before, a corrected rate, refunds
 * and lines at the order's rate, and the runs that must stop: a rate too old or missing, and a
 * second currency with no reporting currency set.
 */

const orders = [
  // EUR needs no rate: 100.
  orderEvent({ order_id: 'E1', customer_id: 'cust-e', occurred_at: '2024-01-03T10:00:00Z', total: 100, currency: 'EUR' }),
  // USD on 01-03: the 01-01 rate (0.9), two days before: 45.
  orderEvent({ order_id: 'U1', customer_id: 'cust-u', occurred_at: '2024-01-03T10:00:00Z', total: 50, currency: 'USD' }),
  // USD on 01-08: the 01-01 rate is exactly 7 days before, still usable: 18.
  orderEvent({ order_id: 'U3', customer_id: 'cust-u', occurred_at: '2024-01-08T10:00:00Z', total: 20, currency: 'USD' }),
  // USD on 01-10: that day's rate (0.8): 8; 5 USD refunded on 02-20, converted at the order's
  // rate, not the refund day's: 4, leaving 4.
  orderEvent({ order_id: 'U2', customer_id: 'cust-u', occurred_at: '2024-01-10T10:00:00Z', total: 10, currency: 'USD' }),
  orderEvent({
    order_id: 'U2',
    customer_id: 'cust-u',
    occurred_at: '2024-02-20T10:00:00Z',
    status: 'refunded',
    total: 10,
    refunded_amount: 5,
    currency: 'USD',
  }),
  // GBP on 01-06: the 01-05 rate as corrected by the second rates file (1.25, not 1.2): 12.5.
  // Its line: 2 x 4 GBP less 1 GBP = 7 GBP, which is 8.75 EUR.
  orderEvent({
    order_id: 'G1',
    customer_id: 'cust-g',
    occurred_at: '2024-01-06T10:00:00Z',
    total: 10,
    currency: 'GBP',
    items: [{ sku: 'tea', category: 'Food', quantity: 2, unit_price: 4, discount_amount: 1 }],
  }),
];

const rates = [
  { date: '2024-01-01', currency: 'USD', rate: 0.9 },
  { date: '2024-01-10', currency: 'USD', rate: 0.8 },
  // A rate dated after the orders it could convert never applies to them.
  { date: '2024-01-04', currency: 'GBP', rate: 3 },
  { date: '2024-01-05', currency: 'GBP', rate: 1.2 },
];

let directory: Awaited<ReturnType<typeof temporaryDirectory>>;
let lake: string;
let euroConfig: string;

beforeAll(async () => {
  directory = await temporaryDirectory();
  lake = join(directory.path, 'lake');
  euroConfig = join(directory.path, 'eur.json');
  await writeFile(euroConfig, JSON.stringify({ reportingCurrency: 'EUR' }));
  const ordersFile = await writeJsonLines(join(directory.path, 'orders.jsonl'), orders);
  const ratesFile = join(directory.path, 'rates.csv');
  await writeFile(ratesFile, `${['date,currency,rate', ...rates.map((rate) => `${rate.date},${rate.currency},${rate.rate}`)].join('\n')}\n`);
  const correction = await writeJsonLines(join(directory.path, 'correction.jsonl'), [{ date: '2024-01-05', currency: 'GBP', rate: 1.25, source: 'bank' }]);
  for (const args of [
    ['orders', ordersFile],
    ['fx-rates', ratesFile],
    ['fx-rates', correction],
  ]) {
    const result = await pipeline('ingest', ...args, '--lake', lake);
    expect(result.code, result.stderr).toBe(0);
  }
});

afterAll(async () => directory?.cleanup());

describe('a reporting currency', () => {
  beforeAll(async () => {
    const run = await pipeline('run', '--as-of', '2024-02-29', '--config', euroConfig, '--lake', lake);
    expect(run.code, run.stderr).toBe(0);
  });

  it("converts each order at the rate of its date or the latest up to 7 days before, refunds at the order's rate", async () => {
    const rows = await queryCsv(
      lake,
      "select order_id, original_currency, original_gross_amount, fx_rate, gross_amount, refunded_amount, net_amount from customer_orders where as_of = date '2024-02-29' order by order_id",
    );
    const row = (order: string, currency: string, original: number, rate: number, gross: number, refunded: number, net: number) => ({
      order_id: order,
      original_currency: currency,
      original_gross_amount: String(original),
      fx_rate: String(rate),
      gross_amount: String(gross),
      refunded_amount: String(refunded),
      net_amount: String(net),
    });
    expect(rows).toEqual([
      row('E1', 'EUR', 100, 1, 100, 0, 100),
      row('G1', 'GBP', 10, 1.25, 12.5, 0, 12.5),
      row('U1', 'USD', 50, 0.9, 45, 0, 45),
      row('U2', 'USD', 10, 0.8, 8, 4, 4),
      row('U3', 'USD', 20, 0.9, 18, 0, 18),
    ]);
  });

  it("adds every table's money up in the reporting currency, lines included", async () => {
    const [period] = await queryCsv(lake, "select net_revenue from period_metrics where as_of = date '2024-02-29' and period_start = date '2024-01-01'");
    expect(Number(period!['net_revenue'])).toBeCloseTo(100 + 12.5 + 45 + 4 + 18, 9);
    const [line] = await queryCsv(lake, "select unit_price, discount_amount, line_amount from order_lines where as_of = date '2024-02-29'");
    expect(line).toEqual({ unit_price: '5', discount_amount: '1.25', line_amount: '8.75' });
  });

  it('stops a run with an order that has no usable rate, naming each currency and dates, and publishes nothing', async () => {
    const late = await writeJsonLines(join(directory.path, 'late.jsonl'), [
      // 10 days after the last USD rate: too old.
      orderEvent({ order_id: 'U4', customer_id: 'cust-u', occurred_at: '2024-01-20T10:00:00Z', total: 10, currency: 'USD' }),
      orderEvent({ order_id: 'U5', customer_id: 'cust-u', occurred_at: '2024-01-21T10:00:00Z', total: 10, currency: 'USD' }),
      orderEvent({ order_id: 'U6', customer_id: 'cust-u', occurred_at: '2024-01-23T10:00:00Z', total: 10, currency: 'USD' }),
      // No JPY rate at all.
      orderEvent({ order_id: 'J1', customer_id: 'cust-j', occurred_at: '2024-01-15T10:00:00Z', total: 1000, currency: 'JPY' }),
    ]);
    expect((await pipeline('ingest', 'orders', late, '--lake', lake)).code).toBe(0);
    const run = await pipeline('run', '--as-of', '2024-03-31', '--config', euroConfig, '--lake', lake);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('nothing was published');
    expect(run.stderr).toContain('no JPY rate to EUR dated on or up to 7 days before 2024-01-15 (1 order): ingest them with pipeline ingest fx-rates');
    expect(run.stderr).toContain('no USD rate to EUR dated on or up to 7 days before 2024-01-20 to 2024-01-21 (2 orders)');
    expect(run.stderr).toContain('no USD rate to EUR dated on or up to 7 days before 2024-01-23 (1 order)');
    expect(await queryCsv(lake, "select count(*) as rows from customer_orders where as_of = date '2024-03-31'")).toEqual([{ rows: '0' }]);
  });
});

describe('refunds in another currency than their order', () => {
  it("stop the run, naming the order: a refund is read in its order's currency", async () => {
    const refundLake = join(directory.path, 'refund-lake');
    const file = await writeJsonLines(join(directory.path, 'refund.jsonl'), [
      orderEvent({ order_id: 'R1', customer_id: 'cust-r', occurred_at: '2024-01-03T10:00:00Z', total: 100, currency: 'EUR' }),
      orderEvent({
        order_id: 'R1',
        customer_id: 'cust-r',
        occurred_at: '2024-01-09T10:00:00Z',
        status: 'refunded',
        total: 100,
        refunded_amount: 30,
        currency: 'JPY',
      }),
    ]);
    expect((await pipeline('ingest', 'orders', file, '--lake', refundLake)).code).toBe(0);
    const run = await pipeline('run', '--as-of', '2024-01-31', '--lake', refundLake);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'refund amounts in JPY for 1 order placed in EUR (e.g. order R1, refunded 2024-01-09): a refund is read in the currency of its order; send it in EUR',
    );
  });
});

describe('no reporting currency', () => {
  // The lake by now holds the orders of every test above.
  it('stops a run that meets a second currency, naming them', async () => {
    const run = await pipeline('run', '--as-of', '2024-02-29', '--lake', lake);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'amounts are in more than one currency, EUR (1 order), GBP (1 order), JPY (1 order), USD (6 orders), and no reportingCurrency is set to convert them to',
    );
  });
});

describe('exchange-rate input', () => {
  it('refuses a bad rate naming the field, and two different rates for one day in one file', async () => {
    const file = await writeJsonLines(join(directory.path, 'bad-rates.jsonl'), [
      { date: '2024-02-30', currency: 'USD', rate: 1 },
      { date: '2024-02-01', currency: 'usd', rate: 1 },
      { date: '2024-02-01', currency: 'USD', rate: 0 },
      { date: '2024-02-01', currency: 'USD', rate: 0.7 },
      { date: '2024-02-01', currency: 'USD', rate: 0.71 },
    ]);
    const result = await pipeline('ingest', 'fx-rates', file, '--lake', join(directory.path, 'rates-lake'));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('received 5, accepted 1 (0 duplicates), rejected 4');
    const rejected = await queryCsv(join(directory.path, 'rates-lake'), 'select line_number, reason from rejected_events order by line_number');
    expect(rejected).toEqual([
      { line_number: '1', reason: 'date: must be a calendar date, YYYY-MM-DD (got "2024-02-30")' },
      { line_number: '2', reason: 'currency: must be a three-letter uppercase ISO 4217 code, like USD (got "usd")' },
      { line_number: '3', reason: 'rate: must be > 0 (got 0)' },
      { line_number: '5', reason: 'event_id: "USD/2024-02-01" was already received on line 4 of this file with different content' },
    ]);
  });
});

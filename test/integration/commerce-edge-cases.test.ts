import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderEvent } from '../support/events.ts';
import { pipeline, queryCsv, temporaryDirectory, writeJsonLines } from '../support/cli.ts';

/**
 * Hand-made orders for the commerce tables, every number worked out in the comments: a partial
 * refund, a cancelled order with lines, a category bought twice, an uncategorised line, two
 * purchases on one day, a refund dated before its order, and purchases on the first and last
 * moments of a period.
 *
 * The purchases by month (UTC): January P1 70 (cust-p's first); February P2 80 (cust-p), X2 40
 * (cust-x's first, 01-31 in New York but 02-01 in UTC), Q1 15 (cust-q's first); March S1 10 and
 * S2 10 (cust-s's first), P3 30 (cust-p).
 */

const shoe = (unitPrice: number, fields: Record<string, unknown> = {}) => ({ sku: 's1', category: 'Shoes', quantity: 1, unit_price: unitPrice, ...fields });

const orders = [
  // cust-p. P1 (web): 100 with two Shoes lines, 30 refunded on 01-20: partially_refunded, net 70.
  // Both lines are the first Shoes purchase, so both are new: 60, and 2 x 20 - 5 = 35.
  orderEvent({
    order_id: 'P1',
    customer_id: 'cust-p',
    occurred_at: '2024-01-10T10:00:00Z',
    total: 100,
    channel: 'web',
    items: [shoe(60), { sku: 's2', category: 'Shoes', name: 'Sock', quantity: 2, unit_price: 20, discount_amount: 5 }],
  }),
  orderEvent({ order_id: 'P1', customer_id: 'cust-p', occurred_at: '2024-01-20T10:00:00Z', status: 'refunded', total: 100, refunded_amount: 30 }),
  // P2 (app), 22 days later: Shoes again (not new), Hats (new), and a blank category (none).
  orderEvent({
    order_id: 'P2',
    customer_id: 'cust-p',
    occurred_at: '2024-02-01T10:00:00Z',
    total: 80,
    channel: 'app',
    items: [shoe(60), { sku: 'h1', category: ' Hats ', quantity: 1, unit_price: 15 }, { sku: 'x1', category: '  ', quantity: 1, unit_price: 5 }],
  }),
  // P3, in the last second of March: 59 days after P2 (February 2024 has 29 days).
  orderEvent({ order_id: 'P3', customer_id: 'cust-p', occurred_at: '2024-03-31T23:59:59Z', total: 30 }),
  // cust-x. X1 (store) is cancelled: no purchase, no lines. X2 (app), placed at 23:30 in New
  // York on 01-31, is 02-01 in UTC and the first purchase: its Shoes line is new.
  // X1 names cust-p as referrer, but it is cancelled: cust-x's first purchase X2 names none.
  orderEvent({
    order_id: 'X1',
    customer_id: 'cust-x',
    occurred_at: '2024-01-15T10:00:00Z',
    total: 50,
    channel: 'store',
    items: [shoe(50)],
    referred_by: 'cust-p',
  }),
  orderEvent({ order_id: 'X1', customer_id: 'cust-x', occurred_at: '2024-01-16T10:00:00Z', status: 'cancelled', total: 50 }),
  orderEvent({ order_id: 'X2', customer_id: 'cust-x', occurred_at: '2024-01-31T23:30:00-05:00', total: 40, channel: 'app', items: [shoe(40)] }),
  // After 03-31, for the channel windows of the 06-30 run: X4 is on day 89 after cust-x's first
  // purchase (inside 90 days), X3 on day 90 (outside).
  orderEvent({ order_id: 'X3', customer_id: 'cust-x', occurred_at: '2024-05-01T10:00:00Z', total: 5, channel: 'app' }),
  orderEvent({ order_id: 'X4', customer_id: 'cust-x', occurred_at: '2024-04-30T10:00:00Z', total: 7, channel: 'app' }),
  // cust-b and cust-c (store) are acquired 89 and 88 days before 06-30: b's 90 days are over
  // on 06-30, c's are not.
  orderEvent({ order_id: 'B1', customer_id: 'cust-b', occurred_at: '2024-04-02T10:00:00Z', total: 12, channel: 'store' }),
  orderEvent({ order_id: 'C1', customer_id: 'cust-c', occurred_at: '2024-04-03T10:00:00Z', total: 8, channel: 'store' }),
  // cust-r: the only order is refunded in full: no purchase, so no acquisition channel.
  orderEvent({ order_id: 'R1', customer_id: 'cust-r', occurred_at: '2024-01-05T10:00:00Z', total: 20, channel: 'web' }),
  orderEvent({ order_id: 'R1', customer_id: 'cust-r', occurred_at: '2024-01-06T10:00:00Z', status: 'refunded', total: 20 }),
  // cust-s: two purchases one hour apart on one day, no channel: 0 days between them.
  // S1 names a referrer the lake has never seen (referred); S2, a later purchase, names cust-q (no matter).
  orderEvent({ order_id: 'S1', customer_id: 'cust-s', occurred_at: '2024-03-01T08:00:00Z', total: 10, referred_by: 'ghost' }),
  orderEvent({ order_id: 'S2', customer_id: 'cust-s', occurred_at: '2024-03-01T09:00:00Z', total: 10, referred_by: 'cust-q' }),
  // cust-q: a refund of 5 dated the day before its order was placed (a producer's clock).
  // cust-q was referred by cust-p.
  orderEvent({ order_id: 'Q1', customer_id: 'cust-q', occurred_at: '2024-02-10T10:00:00Z', total: 20, referred_by: 'cust-p' }),
  orderEvent({ order_id: 'Q1', customer_id: 'cust-q', occurred_at: '2024-02-09T10:00:00Z', status: 'refunded', total: 20, refunded_amount: 5 }),
];

/** Spend (EUR): web 20 + 15 in January, app 100 in February, store 50 in March. */
const spend = [
  { event_id: 'sp1', spend_date: '2024-01-05', channel: 'web', amount: 20, currency: 'EUR' },
  { event_id: 'sp2', spend_date: '2024-01-20', channel: 'web', amount: 15, currency: 'EUR' },
  { event_id: 'sp3', spend_date: '2024-02-03', channel: 'app', amount: 100, currency: 'EUR' },
  { event_id: 'sp4', spend_date: '2024-03-15', channel: 'store', amount: 50, currency: 'EUR' },
];

let lake: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const directory = await temporaryDirectory();
  cleanup = directory.cleanup;
  lake = join(directory.path, 'lake');
  const file = await writeJsonLines(join(directory.path, 'orders.jsonl'), orders);
  expect((await pipeline('ingest', 'orders', file, '--lake', lake)).code).toBe(0);
  const spendFile = await writeJsonLines(join(directory.path, 'spend.jsonl'), spend);
  expect((await pipeline('ingest', 'spend', spendFile, '--lake', lake)).code).toBe(0);
  for (const asOf of ['2024-01-19', '2024-03-31', '2024-06-30']) {
    const run = await pipeline('run', '--as-of', asOf, '--lake', lake);
    expect(run.code, run.stderr).toBe(0);
  }
});

afterAll(async () => cleanup?.());

const at = (asOf: string) => `where as_of = date '${asOf}'`;

describe('customer_orders on hand-made orders', () => {
  it('gives each order its state, amounts, place among the purchases and channels', async () => {
    const rows = await queryCsv(
      lake,
      'select order_id, order_date, status, is_purchase, gross_amount, refunded_amount, net_amount, customer_order_number, is_first_purchase, ' +
        `days_since_previous_purchase, channel, acquisition_channel from customer_orders ${at('2024-03-31')} order by order_id`,
    );
    const row = (
      order: string,
      date: string,
      status: string,
      amounts: [number, number, number],
      number: number | null,
      days: number | null,
      channel: string | null,
      acquired: string | null,
    ) => ({
      order_id: order,
      order_date: date,
      status,
      is_purchase: String(number !== null),
      gross_amount: String(amounts[0]),
      refunded_amount: String(amounts[1]),
      net_amount: String(amounts[2]),
      customer_order_number: number === null ? null : String(number),
      is_first_purchase: String(number === 1),
      days_since_previous_purchase: days === null ? null : String(days),
      channel,
      acquisition_channel: acquired,
    });
    expect(rows).toEqual([
      row('P1', '2024-01-10', 'partially_refunded', [100, 30, 70], 1, null, 'web', 'web'),
      row('P2', '2024-02-01', 'placed', [80, 0, 80], 2, 22, 'app', 'web'),
      row('P3', '2024-03-31', 'placed', [30, 0, 30], 3, 59, null, 'web'),
      row('Q1', '2024-02-10', 'partially_refunded', [20, 5, 15], 1, null, null, null),
      row('R1', '2024-01-05', 'refunded', [20, 20, 0], null, null, 'web', null),
      row('S1', '2024-03-01', 'placed', [10, 0, 10], 1, null, null, null),
      row('S2', '2024-03-01', 'placed', [10, 0, 10], 2, 0, null, null),
      row('X1', '2024-01-15', 'cancelled', [50, 0, 0], null, null, 'store', 'app'),
      row('X2', '2024-02-01', 'placed', [40, 0, 40], 1, null, 'app', 'app'),
    ]);
  });

  it('shows an order as it stood at an earlier as_of: before its refund, and before later orders', async () => {
    const rows = await queryCsv(lake, `select order_id, status, net_amount from customer_orders ${at('2024-01-19')} order by order_id`);
    expect(rows).toEqual([
      { order_id: 'P1', status: 'placed', net_amount: '100' },
      { order_id: 'R1', status: 'refunded', net_amount: '0' },
      { order_id: 'X1', status: 'cancelled', net_amount: '0' },
    ]);
  });

  it('dates an order by its earliest event, even a refund dated before the placement', async () => {
    const [q1] = await queryCsv(lake, `select placed_at, first_event_at from customer_orders ${at('2024-03-31')} and order_id = 'Q1'`);
    expect(q1).toEqual({ placed_at: '2024-02-10 10:00:00+00', first_event_at: '2024-02-09 10:00:00+00' });
  });
});

describe('order_lines on hand-made orders', () => {
  it('lists the lines of purchases only, whole after a partial refund, and marks categories new to the customer', async () => {
    const rows = await queryCsv(
      lake,
      'select order_id, line_number, customer_order_number, sku, category, quantity, unit_price, discount_amount, line_amount, is_new_category_for_customer ' +
        `from order_lines ${at('2024-03-31')} order by order_id, line_number`,
    );
    const line = (
      order: string,
      number: number,
      purchase: number,
      sku: string,
      category: string | null,
      quantity: number,
      price: number,
      discount: number,
      amount: number,
      isNew: boolean | null,
    ) => ({
      order_id: order,
      line_number: String(number),
      customer_order_number: String(purchase),
      sku,
      category,
      quantity: String(quantity),
      unit_price: String(price),
      discount_amount: String(discount),
      line_amount: String(amount),
      is_new_category_for_customer: isNew === null ? null : String(isNew),
    });
    expect(rows).toEqual([
      line('P1', 1, 1, 's1', 'Shoes', 1, 60, 0, 60, true),
      line('P1', 2, 1, 's2', 'Shoes', 2, 20, 5, 35, true),
      line('P2', 1, 2, 's1', 'Shoes', 1, 60, 0, 60, false),
      line('P2', 2, 2, 'h1', 'Hats', 1, 15, 0, 15, true),
      line('P2', 3, 2, 'x1', null, 1, 5, 0, 5, null),
      line('X2', 1, 1, 's1', 'Shoes', 1, 40, 0, 40, true),
    ]);
  });
});

describe('revenue by period on hand-made orders', () => {
  it("splits each period's revenue and buyers between new and returning customers", async () => {
    const rows = await queryCsv(
      lake,
      `select period_start, purchasing_customers, repeat_purchase_rate, net_revenue, new_customer_revenue, returning_customer_revenue from period_metrics ${at('2024-03-31')} order by 1`,
    );
    expect(rows).toEqual([
      // January: cust-p's first purchase.
      {
        period_start: '2024-01-01',
        purchasing_customers: '1',
        repeat_purchase_rate: '0',
        net_revenue: '70',
        new_customer_revenue: '70',
        returning_customer_revenue: '0',
      },
      // February: cust-p returns (80); cust-x and cust-q are new (40 + 15).
      {
        period_start: '2024-02-01',
        purchasing_customers: '3',
        repeat_purchase_rate: String(1 / 3),
        net_revenue: '135',
        new_customer_revenue: '55',
        returning_customer_revenue: '80',
      },
      // March: cust-s is new (10 + 10), cust-p returns (30).
      {
        period_start: '2024-03-01',
        purchasing_customers: '2',
        repeat_purchase_rate: '0.5',
        net_revenue: '50',
        new_customer_revenue: '20',
        returning_customer_revenue: '30',
      },
    ]);
  });

  it("cumulates each cohort's revenue per customer, offset by offset", async () => {
    const rows = await queryCsv(
      lake,
      `select cohort_start, period_offset, is_complete, cohort_size, net_revenue, cumulative_revenue_per_customer from cohort_revenue ${at('2024-03-31')} order by 1, 2`,
    );
    const row = (cohort: string, offset: number, size: number, revenue: number, perCustomer: number) => ({
      cohort_start: cohort,
      period_offset: String(offset),
      is_complete: 'true',
      cohort_size: String(size),
      net_revenue: String(revenue),
      cumulative_revenue_per_customer: String(perCustomer),
    });
    expect(rows).toEqual([
      row('2024-01-01', 0, 1, 70, 70),
      row('2024-01-01', 1, 1, 80, 150),
      row('2024-01-01', 2, 1, 30, 180),
      row('2024-02-01', 0, 2, 55, 27.5),
      row('2024-02-01', 1, 2, 0, 27.5),
      row('2024-03-01', 0, 1, 20, 20),
    ]);
    // On 01-19 January is not over yet.
    expect(await queryCsv(lake, `select period_offset, is_complete, net_revenue from cohort_revenue ${at('2024-01-19')}`)).toEqual([
      { period_offset: '0', is_complete: 'false', net_revenue: '100' },
    ]);
  });

  it("sets each period's revenue from the previous period's buyers against theirs before", async () => {
    const rows = await queryCsv(lake, `select * from revenue_retention ${at('2024-03-31')} order by period_start`);
    expect(rows.map(({ as_of: _asOf, ...row }) => row)).toEqual([
      // February's base is January's buyer, cust-p: 70 then 80, so 10 of expansion.
      {
        period_start: '2024-02-01',
        is_complete: 'true',
        previous_period_start: '2024-01-01',
        base_customers: '1',
        returning_customers: '1',
        starting_revenue: '70',
        base_revenue: '80',
        expansion_revenue: '10',
        contraction_revenue: '0',
        churned_revenue: '0',
        net_revenue_retention: String(80 / 70),
        gross_revenue_retention: '1',
      },
      // March's base is February's buyers: cust-p 80 then 30 (50 of contraction); cust-x (40)
      // and cust-q (15) do not buy again (55 churned).
      {
        period_start: '2024-03-01',
        is_complete: 'true',
        previous_period_start: '2024-02-01',
        base_customers: '3',
        returning_customers: '1',
        starting_revenue: '135',
        base_revenue: '30',
        expansion_revenue: '0',
        contraction_revenue: '50',
        churned_revenue: '55',
        net_revenue_retention: String(30 / 135),
        gross_revenue_retention: String(30 / 135),
      },
    ]);
    // With one period of purchases there is no base yet.
    expect(await queryCsv(lake, `select * from revenue_retention ${at('2024-01-19')}`)).toEqual([]);
  });
});

describe('category_metrics on hand-made orders', () => {
  it('counts buyers once per category, repeat buyers of it, and newcomers by cross-sell', async () => {
    const rows = await queryCsv(lake, `select * from category_metrics ${at('2024-03-31')} order by period_start, category`);
    const row = (
      period: string,
      category: string,
      counts: [number, number, number],
      revenue: number,
      repeat: number,
      newcomers: number,
      crossSell: number,
    ) => ({
      period_start: period,
      category,
      customers: String(counts[0]),
      orders: String(counts[1]),
      units: String(counts[2]),
      line_revenue: String(revenue),
      repeat_customers: String(repeat),
      repeat_rate: String(repeat / counts[0]),
      new_to_category_customers: String(newcomers),
      cross_sell_customers: String(crossSell),
      cross_sell_rate: newcomers === 0 ? null : String(crossSell / newcomers),
      as_of: '2024-03-31',
    });
    expect(rows).toEqual([
      // P1's two Shoes lines: one customer, one order, 1 + 2 units, 60 + 35; adopted in her first order.
      row('2024-01-01', 'Shoes', [1, 1, 3], 95, 0, 1, 0),
      // cust-p comes to Hats from Shoes (cross-sell); the blank category of P2 is left out.
      row('2024-02-01', 'Hats', [1, 1, 1], 15, 0, 1, 1),
      // cust-p buys Shoes again (repeat); cust-x's first categorised order brings Shoes (no cross-sell).
      row('2024-02-01', 'Shoes', [2, 2, 2], 100, 1, 1, 0),
    ]);
  });
});

describe('channel_metrics on hand-made orders', () => {
  it('groups customers by their first purchase channel and waits until a window is over to report it', async () => {
    const rows = await queryCsv(
      lake,
      'select acquisition_channel, customers_acquired, repeat_customers, net_revenue_per_customer, customers_observed_90d, net_revenue_per_customer_90d, ' +
        `customers_observed_180d, net_revenue_per_customer_180d, mean_predicted_clv from channel_metrics ${at('2024-06-30')} order by 1`,
    );
    const row = (channel: string, customers: number, repeat: number, perCustomer: number, observed90: number, revenue90: number | null) => ({
      acquisition_channel: channel,
      customers_acquired: String(customers),
      repeat_customers: String(repeat),
      net_revenue_per_customer: String(perCustomer),
      customers_observed_90d: String(observed90),
      net_revenue_per_customer_90d: revenue90 === null ? null : String(revenue90),
      // Nobody was acquired 180 days before 06-30; and too few customers for a CLV model.
      customers_observed_180d: '0',
      net_revenue_per_customer_180d: null,
      mean_predicted_clv: null,
    });
    expect(rows).toEqual([
      // cust-q (15) and cust-s (10 + 10) gave no channel.
      row('(none)', 2, 1, 17.5, 2, 17.5),
      // cust-x: X2 40, X4 7 (day 89), X3 5 (day 90, outside the 90 days).
      row('app', 1, 1, 52, 1, 47),
      // cust-b (12) is observed 90 days, cust-c (8) not yet.
      row('store', 2, 0, 10, 1, 12),
      // cust-p: 70 + 80 + 30, all within 90 days of 01-10.
      row('web', 1, 1, 180, 1, 180),
    ]);
  });
});

describe('referral_metrics on hand-made orders', () => {
  it('counts a customer as referred when their first purchase names a referrer, known to the lake or not', async () => {
    const rows = await queryCsv(lake, `select * from referral_metrics ${at('2024-03-31')} order by period_start`);
    const row = (period: string, counts: [number, number, number], repeat: [string | null, string | null]) => ({
      period_start: period,
      new_customers: String(counts[0]),
      referred_new_customers: String(counts[1]),
      referral_rate: String(counts[1] / counts[0]),
      active_referrers: String(counts[2]),
      referred_repeat_purchase_rate: repeat[0],
      other_repeat_purchase_rate: repeat[1],
      // Too few customers for a CLV model.
      referred_mean_predicted_clv: null,
      other_mean_predicted_clv: null,
      as_of: '2024-03-31',
    });
    expect(rows).toEqual([
      // cust-p, not referred, has bought three times.
      row('2024-01-01', [1, 0, 0], [null, '1']),
      // cust-q (referred by cust-p, one purchase) and cust-x (X1's referral was cancelled with it; X2 is one purchase).
      row('2024-02-01', [2, 1, 1], ['0', '0']),
      // cust-s, referred by "ghost", bought twice; S2's referrer does not count.
      row('2024-03-01', [1, 1, 1], ['1', null]),
    ]);
  });
});

describe('acquisition_metrics on hand-made orders and spend', () => {
  it('sets spend against the customers each channel brought, and counts the days to pay it back', async () => {
    const rows = await queryCsv(
      lake,
      'select period_start, acquisition_channel, spend, new_customers, cac, first_purchase_revenue, net_revenue_per_customer, payback_days, ' +
        `mean_classic_clv, ltv_cac_predicted from acquisition_metrics ${at('2024-03-31')} order by period_start, acquisition_channel`,
    );
    const row = (
      period: string,
      channel: string,
      spent: number | null,
      customers: number,
      cac: number | null,
      first: number,
      perCustomer: number | null,
      payback: number | null,
    ) => ({
      period_start: period,
      acquisition_channel: channel,
      spend: spent === null ? null : String(spent),
      new_customers: String(customers),
      cac: cac === null ? null : String(cac),
      first_purchase_revenue: String(first),
      net_revenue_per_customer: perCustomer === null ? null : String(perCustomer),
      payback_days: payback === null ? null : String(payback),
      // No year of history for a lifespan, too few customers for a CLV model.
      mean_classic_clv: null,
      ltv_cac_predicted: null,
    });
    expect(rows).toEqual([
      // January: cust-p through web (35 spent); P1's 70 on 01-10 pays it back 9 days in.
      row('2024-01-01', 'all', 35, 1, 35, 70, 180, 9),
      row('2024-01-01', 'web', 35, 1, 35, 70, 180, 9),
      // February: cust-q without a channel (no spend recorded: no CAC) and cust-x through app,
      // whose 40 has not paid back its 100.
      row('2024-02-01', '(none)', null, 1, null, 15, 15, null),
      row('2024-02-01', 'all', 100, 2, 50, 55, 27.5, null),
      row('2024-02-01', 'app', 100, 1, 100, 40, 40, null),
      // March: cust-s without a channel; store spent 50 and brought nobody.
      row('2024-03-01', '(none)', null, 1, null, 10, 20, null),
      row('2024-03-01', 'all', 50, 1, 50, 10, 20, null),
      row('2024-03-01', 'store', 50, 0, null, 0, null, null),
    ]);
  });
});

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderEvent } from '../support/events.ts';
import { pipeline, queryCsv, temporaryDirectory, writeJsonLines } from '../support/cli.ts';

/**
 * Hand-made orders for the commerce tables, every number worked out in the comments: a partial
 * refund, a cancelled order with lines, a category bought twice, an uncategorised line, two
 * purchases on one day, a refund dated before its order, and a time zone at a period's edge.
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
  // cust-x. X1 (store) is cancelled: no purchase, no lines. X2 (app), placed at 23:30 in New
  // York on 01-31, is 02-01 in UTC and the first purchase: its Shoes line is new.
  orderEvent({ order_id: 'X1', customer_id: 'cust-x', occurred_at: '2024-01-15T10:00:00Z', total: 50, channel: 'store', items: [shoe(50)] }),
  orderEvent({ order_id: 'X1', customer_id: 'cust-x', occurred_at: '2024-01-16T10:00:00Z', status: 'cancelled', total: 50 }),
  orderEvent({ order_id: 'X2', customer_id: 'cust-x', occurred_at: '2024-01-31T23:30:00-05:00', total: 40, channel: 'app', items: [shoe(40)] }),
  // cust-r: the only order is refunded in full: no purchase, so no acquisition channel.
  orderEvent({ order_id: 'R1', customer_id: 'cust-r', occurred_at: '2024-01-05T10:00:00Z', total: 20, channel: 'web' }),
  orderEvent({ order_id: 'R1', customer_id: 'cust-r', occurred_at: '2024-01-06T10:00:00Z', status: 'refunded', total: 20 }),
  // cust-s: two purchases one hour apart on one day, no channel: 0 days between them.
  orderEvent({ order_id: 'S1', customer_id: 'cust-s', occurred_at: '2024-03-01T08:00:00Z', total: 10 }),
  orderEvent({ order_id: 'S2', customer_id: 'cust-s', occurred_at: '2024-03-01T09:00:00Z', total: 10 }),
  // cust-q: a refund of 5 dated the day before its order was placed (a producer's clock).
  orderEvent({ order_id: 'Q1', customer_id: 'cust-q', occurred_at: '2024-02-10T10:00:00Z', total: 20 }),
  orderEvent({ order_id: 'Q1', customer_id: 'cust-q', occurred_at: '2024-02-09T10:00:00Z', status: 'refunded', total: 20, refunded_amount: 5 }),
];

let lake: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const directory = await temporaryDirectory();
  cleanup = directory.cleanup;
  lake = join(directory.path, 'lake');
  const file = await writeJsonLines(join(directory.path, 'orders.jsonl'), orders);
  expect((await pipeline('ingest', 'orders', file, '--lake', lake)).code).toBe(0);
  for (const asOf of ['2024-01-19', '2024-03-31']) {
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
    const row = (order: string, date: string, status: string, amounts: [number, number, number], number: number | null, days: number | null, channel: string | null, acquired: string | null) => ({
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
    const line = (order: string, number: number, purchase: number, sku: string, category: string | null, quantity: number, price: number, discount: number, amount: number, isNew: boolean | null) => ({
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

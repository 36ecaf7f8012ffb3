import { describe, expect, it } from 'vitest';
import { Random } from '../../functions/core/demo/random.ts';
import { validateRecord, validateWithSchema } from '../../functions/core/ingest/validate.ts';
import type { RawRecord } from '../../functions/core/ingest/records.ts';

const json = (value: unknown, text = JSON.stringify(value)): RawRecord => ({ recordNumber: 1, lineNumber: 1, text, value, typed: true });
const csv = (value: Record<string, string>): RawRecord => ({ recordNumber: 1, lineNumber: 2, text: '', value, typed: false });

const order = {
  event_id: 'e1',
  order_id: 'o1',
  customer_id: 'c1',
  occurred_at: '2024-03-31T23:30:00-05:00',
  total: 12.5,
  currency: 'EUR',
};

describe('order events', () => {
  it('accepts a valid event, defaults the status and keeps extra fields', () => {
    const result = validateRecord('orders', json({ ...order, gift: { wrap: true }, coupon: 'X' }));
    expect(result).toEqual({
      ok: true,
      row: expect.objectContaining({
        status: 'placed',
        occurred_at_ms: Date.UTC(2024, 3, 1, 4, 30),
        refunded_amount: null,
        items: null,
        extras: JSON.stringify({ coupon: 'X', gift: { wrap: true } }),
      }),
    });
  });

  it('names only the field that is wrong: a bad price is not also reported as too big a discount', () => {
    const result = validateRecord('orders', json({ ...order, items: [{ sku: 'a', quantity: 1, unit_price: -1, discount_amount: 1 }] }));
    expect(result.ok ? '' : result.reason).toBe('items[0].unit_price: must be >= 0 (got -1)');
  });

  it('stores a category trimmed, a blank one as none: the SQL engines trim different spaces', () => {
    const items = [
      { sku: 'a', quantity: 1, unit_price: 1, category: ' Shoes\u00a0' },
      { sku: 'b', quantity: 1, unit_price: 1, category: '\u2028 ' },
      { sku: 'c', quantity: 1, unit_price: 1 },
    ];
    const result = validateRecord('orders', json({ ...order, items }));
    expect(result.ok && JSON.parse(result.row.items!)).toEqual([
      { sku: 'a', quantity: 1, unit_price: 1, category: 'Shoes' },
      { sku: 'b', quantity: 1, unit_price: 1, category: null },
      { sku: 'c', quantity: 1, unit_price: 1 },
    ]);
  });

  it('keeps the lines in their own column, each with its keys sorted and its extra fields', () => {
    const items = [
      { unit_price: 5, sku: 'a', quantity: 2, options: { size: 'M' } },
      { sku: 'b', category: 'Shoes', name: 'Runner', quantity: 1, unit_price: 0, discount_amount: null },
      { sku: 'c', quantity: 3, unit_price: 2, discount_amount: 6 },
    ];
    const result = validateRecord('orders', json({ ...order, items }));
    expect(result.ok && JSON.parse(result.row.items!)).toEqual(items);
    expect(result.ok && result.row.items).toMatch(/^\[\{"options":\{"size":"M"\},"quantity":2,"sku":"a","unit_price":5\}/);
    expect(result.ok && result.row.extras).toBeNull();
  });

  it.each([
    [[{ sku: 'a', quantity: 0, unit_price: 1 }], 'items[0].quantity: must be an integer >= 1 (got 0)'],
    [
      [
        { sku: 'a', quantity: 1, unit_price: 1 },
        { sku: 'b', quantity: 1.5, unit_price: 1 },
      ],
      'items[1].quantity: must be an integer >= 1 (got 1.5)',
    ],
    [[{ sku: 'a', quantity: 1, unit_price: 1 }, {}, { sku: ' ', quantity: 1, unit_price: -1 }], 'items[1].sku: is required'],
    [[{ sku: ' ', quantity: 1, unit_price: 1 }], 'items[0].sku: must not be empty'],
    [[{ sku: 'a', quantity: 1, unit_price: -1 }], 'items[0].unit_price: must be >= 0 (got -1)'],
    [[{ sku: 'a', quantity: 1, unit_price: 2e12 }], 'items[0].unit_price: must be <= 1000000000000'],
    [[{ sku: 'a', quantity: 2, unit_price: 3, discount_amount: 7 }], 'items[0].discount_amount: must not exceed quantity x unit_price (got 7)'],
    [[{ sku: 'a', quantity: 1, unit_price: 1, category: 'x\u0000' }], 'items[0].category: must not contain control characters'],
    [Array.from({ length: 1001 }, () => ({ sku: 'a', quantity: 1, unit_price: 1 })), 'items: must have at most 1000 entries'],
    [['sku-1'], 'items[0]: must be an object (got "sku-1")'],
    [{ sku: 'a' }, 'items: must be an array'],
  ])('refuses the order when a line is invalid, naming the line and field: %j', (items, reason) => {
    const result = validateRecord('orders', json({ ...order, items }));
    expect(result.ok ? '' : result.reason).toContain(reason);
  });

  it.each([
    [{ ...order, total: -5 }, 'total: must be >= 0 (got -5)'],
    [{ ...order, total: '12.50' }, 'total: must be a number (got "12.50")'],
    [{ ...order, customer_id: undefined }, 'customer_id: is required'],
    [{ ...order, event_id: '  ' }, 'event_id: must not be empty'],
    [{ ...order, status: 'shipped' }, 'status: must be one of "placed", "cancelled", "refunded" (got "shipped")'],
    [{ ...order, occurred_at: '2024-03-31' }, 'occurred_at: expected an ISO-8601 timestamp with offset'],
    [{ ...order, currency: 'usd' }, 'currency: must be a three-letter uppercase ISO 4217 code'],
    [{ ...order, currency: 'XYZ' }, 'currency: is not an ISO 4217 currency code'],
    [{ ...order, refunded_amount: -1, status: 'refunded' }, 'refunded_amount: must be >= 0'],
    [{ ...order, total: 1e300 }, 'total: must be <= 1000000000000 (got 1e+300)'],
    [{ ...order, customer_id: 42 }, 'customer_id: must be a string (got 42)'],
  ])('rejects %j naming the field', (input, reason) => {
    const result = validateRecord('orders', json(input));
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.reason).toContain(reason);
  });

  it('lists every problem of a record, not just the first', () => {
    const result = validateRecord('orders', json({ ...order, total: -1, currency: 'eur' }));
    expect(result.ok ? '' : result.reason).toMatch(/^total: .*; currency: /);
  });

  it('rejects values that are not objects and records that did not parse', () => {
    expect(validateRecord('orders', json([1, 2]))).toEqual({ ok: false, reason: 'record: must be a JSON object (got an array)' });
    expect(validateRecord('orders', json(7))).toEqual({ ok: false, reason: 'record: must be a JSON object (got 7)' });
    expect(validateRecord('orders', { recordNumber: 1, lineNumber: 1, text: '{', parseError: 'invalid JSON: x', typed: true })).toEqual({
      ok: false,
      reason: 'invalid JSON: x',
    });
  });

  it('reads the items of a CSV row as the JSON array in its cell', () => {
    const line = { sku: 'a', quantity: 2, unit_price: 5 };
    const good = validateRecord('orders', csv({ ...order, total: '10', items: JSON.stringify([line]) }));
    expect(good.ok && JSON.parse((good.row as { items: string }).items)).toEqual([line]);
    const empty = validateRecord('orders', csv({ ...order, total: '10', items: '' }));
    expect(empty.ok && (empty.row as { items: string | null }).items).toBeNull();
    const bad = validateRecord('orders', csv({ ...order, total: '10', items: 'sku-a x2' }));
    expect(bad.ok ? '' : bad.reason).toBe('items: must be an array (got "sku-a x2")');
  });

  it('reads numbers from CSV text but refuses text that is not a number', () => {
    const good = validateRecord('orders', csv({ ...order, total: '12.50', refunded_amount: '1e1' }));
    expect(good.ok && good.row.total).toBe(12.5);
    expect(good.ok && (good.row as { refunded_amount: number }).refunded_amount).toBe(10);
    const bad = validateRecord('orders', csv({ ...order, total: '12,50' }));
    expect(bad.ok ? '' : bad.reason).toContain('total: must be a number (got "12,50")');
  });
});

describe('referrals', () => {
  it('keeps the referrer of an order, who may be a customer never seen', () => {
    const result = validateRecord('orders', json({ ...order, referred_by: 'c-unknown' }));
    expect(result.ok && result.row.referred_by).toBe('c-unknown');
  });

  it.each([
    [{ ...order, referred_by: 'c1' }, 'referred_by: must not be the customer_id: a customer cannot refer themselves (got "c1")'],
    [{ ...order, referred_by: ' ' }, 'referred_by: must not be empty (got " ")'],
    [{ ...order, referred_by: 7 }, 'referred_by: must be a string (got 7)'],
  ])('refuses a bad referrer naming the field: %j', (input, reason) => {
    const result = validateRecord('orders', json(input));
    expect(result.ok ? '' : result.reason).toBe(reason);
  });
});

describe('spend events', () => {
  const spend = { event_id: 'sp1', spend_date: '2024-03-31', channel: 'web', amount: 120.5, currency: 'EUR' };

  it('files spend under its date, with its campaign and what it restates', () => {
    const result = validateRecord('spend', json({ ...spend, campaign: 'spring', replaces: 'sp0', invoice: 'A-7' }));
    expect(result).toEqual({
      ok: true,
      row: {
        event_id: 'sp1',
        occurred_at_ms: Date.UTC(2024, 2, 31),
        spend_date: Date.UTC(2024, 2, 31),
        channel: 'web',
        campaign: 'spring',
        amount: 120.5,
        currency: 'EUR',
        replaces: 'sp0',
        extras: '{"invoice":"A-7"}',
      },
    });
    const fromCsv = validateRecord('spend', csv({ ...spend, amount: '99.9' }));
    expect(fromCsv.ok && fromCsv.row.amount).toBe(99.9);
  });

  it.each([
    [{ ...spend, spend_date: '2024-02-30' }, 'spend_date: must be a calendar date, YYYY-MM-DD (got "2024-02-30")'],
    [{ ...spend, channel: undefined }, 'channel: is required'],
    [{ ...spend, amount: -1 }, 'amount: must be >= 0 (got -1)'],
    [{ ...spend, amount: 2e12 }, 'amount: must be <= 1000000000000 (got 2000000000000)'],
    [{ ...spend, currency: 'eur' }, 'currency: must be a three-letter uppercase ISO 4217 code, like USD (got "eur")'],
    [{ ...spend, replaces: 'sp1' }, 'replaces: must name another event, not this one (got "sp1")'],
  ])('refuses bad spend naming the field: %j', (input, reason) => {
    const result = validateRecord('spend', json(input));
    expect(result.ok ? '' : result.reason).toBe(reason);
  });
});

describe('survey events', () => {
  const survey = { event_id: 's1', customer_id: 'c1', occurred_at: '2024-03-31T10:00:00Z', score: 9 };

  it('accepts scores 0 to 10 and a numeric survey id', () => {
    for (const score of [0, 10]) expect(validateRecord('surveys', json({ ...survey, score })).ok).toBe(true);
    const result = validateRecord('surveys', json({ ...survey, survey_id: 12 }));
    expect(result.ok && result.row).toMatchObject({ survey_id: '12' });
  });

  it.each([
    [{ ...survey, score: 11 }, 'score: must be <= 10 (got 11)'],
    [{ ...survey, score: 7.5 }, 'score: '],
    [{ ...survey, score: -1 }, 'score: must be >= 0'],
    [{ ...survey, score: undefined }, 'score: is required'],
  ])('rejects %j', (input, reason) => {
    const result = validateRecord('surveys', json(input));
    expect(result.ok ? '' : result.reason).toContain(reason);
  });
});

describe('the plain-record path', () => {
  // Values per field, valid and not: every record below is a random pick of one per field.
  const pools: Record<string, unknown[]> = {
    event_id: ['e1', ' e2', '', '   ', 'x'.repeat(256), 'x'.repeat(257), 7, null, undefined, '\u00a0', 'e\u0000', 'e\u001b[2J', 'e\u0085'],
    order_id: ['o1', '', 5, undefined],
    customer_id: ['c1', 'ü-customer', ' ', null, 'c\u007f'],
    occurred_at: [
      '2024-03-31T23:30:00Z',
      '2024-03-31T23:30:00.123Z',
      '2024-03-31T23:30:00-05:00',
      '2024-02-30T00:00:00Z',
      '2024-03-31',
      '1969-12-31T23:59:59Z',
      '2100-01-01T00:00:00Z',
      17,
      undefined,
    ],
    status: ['placed', 'cancelled', 'refunded', 'shipped', undefined, null, 'PLACED'],
    total: [0, -0, 12.5, -1, '12.5', Number.POSITIVE_INFINITY, Number.NaN, undefined, null, 1e12, 1e12 + 1, 1e300],
    currency: ['EUR', 'eur', 'XYZ', 'EURO', 3, undefined],
    refunded_amount: [undefined, null, 0, 4.2, -3, '1', 2e12],
    channel: [undefined, null, 'web', 12, true, Number.NaN],
    score: [0, 10, 7, 11, -1, 3.5, '9', undefined],
    survey_id: [undefined, 's1', 42, {}],
    comment: [undefined, null, 'great', 5],
    coupon: [undefined, 'SPRING', { code: 1 }],
    referred_by: [undefined, 'c9', null, 'c1', '', 'ü-referrer', 5, 'r\u0000'],
    items: [
      undefined,
      [
        { sku: 'a', quantity: 1, unit_price: 9.5 },
        { sku: 'b', category: 'Tops', name: 'Tee', quantity: 2, unit_price: 3, discount_amount: 1, extra: [1] },
      ],
      null,
      [],
      [{ sku: 'a', quantity: 0, unit_price: 1 }],
      [{ sku: 'a', quantity: 2.5, unit_price: 1 }],
      [{ sku: '', quantity: 1, unit_price: 1 }],
      [{ sku: 'a', quantity: 1, unit_price: 1, discount_amount: 1.01 }],
      [{ sku: 'a', quantity: 1, unit_price: 1, category: 7 }],
      [{ sku: 'a', quantity: 1, unit_price: 1, category: '' }],
      [{ sku: 'a', quantity: 1, unit_price: 1, category: ' \u00a0Tops ' }],
      Array.from({ length: 1001 }, () => ({ sku: 'a', quantity: 1, unit_price: 1 })),
      [{ sku: 'a', quantity: 0, unit_price: -1, discount_amount: 5 }],
      [{ sku: 'a', quantity: 1e9 + 1, unit_price: 1 }],
      [{ sku: 'a', quantity: 1, unit_price: 1, name: 3 }],
      [{ sku: 'a', quantity: '1', unit_price: 1 }],
      [null],
      'a',
      {},
    ],
  };
  const random = new Random(2024);
  const pick = (field: string) => pools[field]![random.integer(0, pools[field]!.length - 1)];
  const recordOf = (value: Record<string, unknown>) => ({ recordNumber: 1, lineNumber: 1, text: JSON.stringify(value), value, typed: true });

  it.each(['orders', 'surveys'] as const)('gives the schema answer for every mix of valid and invalid %s fields', (type) => {
    const fields =
      type === 'orders'
        ? ['event_id', 'order_id', 'customer_id', 'occurred_at', 'status', 'total', 'currency', 'refunded_amount', 'channel', 'items', 'referred_by', 'coupon']
        : ['event_id', 'customer_id', 'occurred_at', 'score', 'survey_id', 'comment', 'channel', 'coupon'];
    let accepted = 0;
    for (let index = 0; index < 20_000; index += 1) {
      // Mostly valid values, so that both paths see many accepted records.
      const value: Record<string, unknown> = {};
      for (const field of fields) {
        const chosen = random.chance(0.7) ? pools[field]![0] : pick(field);
        if (chosen !== undefined) value[field] = chosen;
      }
      const result = validateRecord(type, recordOf(value));
      expect(result, JSON.stringify(value)).toEqual(validateWithSchema(type, value));
      if (result.ok) accepted += 1;
    }
    expect(accepted).toBeGreaterThan(1000);
  });
});

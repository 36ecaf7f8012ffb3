import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../../functions/adapters/duckdb-engine.ts';
import { forgetCustomers } from '../../functions/core/erasure/forget.ts';
import { withoutMentions } from '../../functions/core/erasure/landing-files.ts';
import { IdMatcher } from '../../functions/core/erasure/mentions.ts';
import { ErasedCustomers, keyedId, putErasureRequest } from '../../functions/core/erasure/register.ts';
import { screenRecord } from '../../functions/core/erasure/screen.ts';
import { ingestMessages } from '../../functions/core/ingest/ingest-messages.ts';
import { editParquetRows } from '../../functions/core/lake/parquet-rewrite.ts';
import { ColumnBatch, readParquetRows } from '../../functions/core/lake/parquet.ts';
import { rawColumns } from '../../functions/core/lake/raw-tables.ts';
import { orderEvent } from '../support/events.ts';
import { MemoryObjectStore } from '../support/memory-store.ts';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const record = (value: Record<string, unknown>) => ({ recordNumber: 1, lineNumber: 1, text: JSON.stringify(value), value, typed: true });

describe('naming a customer', () => {
  it('finds the id as a whole token, in JSON, in JSON inside JSON and in CSV, and not inside longer ids', () => {
    const matcher = new IdMatcher(new Set(['c1', 'a"b']));
    for (const mentions of [
      '{"customer_id":"c1"}',
      JSON.stringify({ payload: JSON.stringify({ customer_id: 'c1' }) }),
      'e1,c1,2024-01-01',
      'c1',
      JSON.stringify({ id: 'a"b' }),
      JSON.stringify({ payload: JSON.stringify({ id: 'a"b' }) }),
    ]) {
      expect(matcher.mentionsAny(mentions), mentions).toBe(true);
    }
    for (const other of ['{"customer_id":"c10"}', 'xc1', 'c1.5', 'c1@shop.example', '{"customer_id":"ab"}'])
      expect(matcher.mentionsAny(other), other).toBe(false);
  });

  it('keys ids with HMAC-SHA-256 (RFC 4231, test case 2)', () => {
    expect(keyedId(new TextEncoder().encode('Jefe'), 'what do ya want for nothing?')).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });
});

describe('the erasure register at ingest', () => {
  const key = new TextEncoder().encode('a lake key of thirty-two bytes!!');
  const erased = ErasedCustomers.of(key, new Map([[keyedId(key, 'gone'), '2026-12-01']]));
  const order = (fields: Partial<Record<string, unknown>>) => ({
    ...orderEvent({ event_id: 'e1', order_id: 'o1', customer_id: 'c1', occurred_at: '2026-11-01T10:00:00Z' }),
    ...fields,
  });

  it("refuses an erased customer's events, valid or not, without their payload", () => {
    for (const value of [order({ customer_id: 'gone' }), order({ customer_id: 'gone', total: -1 })]) {
      expect(screenRecord('orders', record(value), 0, erased)).toEqual({
        validation: { ok: false, reason: 'customer_id: erased on 2026-12-01' },
        keepPayload: false,
      });
    }
  });

  it("stores another customer's order without an erased referrer, and refuses a bad one without its payload", () => {
    const stored = screenRecord('orders', record(order({ referred_by: 'gone' })), 0, erased);
    expect(stored.validation.ok && stored.validation.row.referred_by).toBe(null);
    expect(screenRecord('orders', record(order({ referred_by: 'gone', total: -1 })), 0, erased)).toMatchObject({
      validation: { ok: false },
      keepPayload: false,
    });
    expect(screenRecord('orders', record(order({ referred_by: 'c2' })), 0, erased)).toMatchObject({
      validation: { ok: true, row: { referred_by: 'c2' } },
      keepPayload: true,
    });
  });

  it('is read from the lake, and refuses to guess when the key is missing', async () => {
    const store = new MemoryObjectStore();
    expect((await ErasedCustomers.load(store)).isEmpty).toBe(true);
    await putErasureRequest(store, {
      request_id: 'r1',
      requested_at: '2026-12-01T10:00:00Z',
      customers: [keyedId(key, 'gone')],
      completed_at: null,
      removed: null,
    });
    await expect(ErasedCustomers.load(store)).rejects.toThrow(/erasures\/key/);
    await store.put('erasures/key', key);
    expect((await ErasedCustomers.load(store)).erasedOn('gone')).toBe('2026-12-01');
  });

  it('holds for queue messages too: refused, counted, kept without the payload', async () => {
    const store = new MemoryObjectStore();
    await forgetCustomers(store, ['gone'], { now: () => new Date('2026-12-01T10:00:00Z') });
    const result = await ingestMessages(
      [
        { id: 'm1', eventType: 'orders', body: JSON.stringify(order({ customer_id: 'gone' })) },
        { id: 'm2', eventType: 'orders', body: JSON.stringify(order({ event_id: 'e2', order_id: 'o2' })) },
        { id: 'm3', eventType: 'returns', body: JSON.stringify(order({ customer_id: 'gone' })) },
      ],
      store,
    );
    expect(result).toMatchObject({ accepted: 1, rejected: 2 });
    const refused = [];
    for (const key of await store.list('rejected/'))
      refused.push(
        ...text(await store.get(key))
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line)),
      );
    expect(refused).toEqual([
      expect.objectContaining({ reason: 'customer_id: erased on 2026-12-01', payload: null }),
      expect.objectContaining({ reason: expect.stringMatching(/^event_type: /), payload: null }),
    ]);
  });
});

describe('what forget takes for a customer', () => {
  it("only the customer's own records and referrals: an id that is also a number elsewhere takes nothing else", async () => {
    const store = new MemoryObjectStore();
    const refused = (payload: object, reason: string) => JSON.stringify({ event_type: 'orders', reason, payload: JSON.stringify(payload), record_number: 42 });
    await store.put(
      'rejected/orders/dt=2026-11-02/part-i1-0001.jsonl',
      `${[refused({ customer_id: '42', total: -1 }, 'total: must be >= 0 (got -1)'), refused({ customer_id: 'c7', total: 42, score: 42 }, 'status: must be one of "placed" (got "x")')].join('\n')}\n`,
    );
    await store.put(
      'published/campaigns/as_of=2026-11-02/sent-p1-00000.jsonl',
      `${JSON.stringify({ customer_id: 'c7', priority: 42 })}\n${JSON.stringify({ customer_id: '42' })}\n`,
    );
    await store.put('landing/orders/o.jsonl', `${JSON.stringify({ customer_id: 'c7', total: 42 })}\n${JSON.stringify({ customer_id: 42 })}\n`);
    const { request } = await forgetCustomers(store, ['42']);
    expect(request.removed).toMatchObject({ rejected: 1, published: 1, landing: 1 });
    expect(text(await store.get('published/campaigns/as_of=2026-11-02/sent-p1-00000.jsonl'))).toBe(`${JSON.stringify({ customer_id: 'c7', priority: 42 })}\n`);
    expect(text(await store.get('landing/orders/o.jsonl'))).toBe(`${JSON.stringify({ customer_id: 'c7', total: 42 })}\n`);
    expect(text(await store.get('rejected/orders/dt=2026-11-02/part-i1-0001.jsonl'))).toContain('c7');
  });

  it('refuses ids no event could carry, and a new key when the register already names customers', async () => {
    const store = new MemoryObjectStore();
    for (const bad of ['', '   ', 'a\u0000b']) await expect(forgetCustomers(store, [bad])).rejects.toThrow(/is not a customer id/);
    await forgetCustomers(store, ['c1']);
    await store.delete(['erasures/key']);
    await expect(forgetCustomers(store, ['c2'])).rejects.toThrow(/restore the key/);
  });

  it('reports a landing file it cannot read through instead of stopping, and goes on', async () => {
    const store = new MemoryObjectStore();
    await store.put('landing/orders/broken.jsonl.gz', gzipSync('{"customer_id":"gone"}\n').subarray(0, 20));
    await store.put('landing/orders/fine.jsonl', '{"customer_id":"gone"}\n{"customer_id":"c2"}\n');
    const { request } = await forgetCustomers(store, ['gone']);
    expect(request.removed).toMatchObject({ landing: 1, unreadable: ['landing/orders/broken.jsonl.gz'] });
    expect(request.completed_at).not.toBeNull();
  });
});

describe('input files kept under landing/', () => {
  const matcher = new IdMatcher(new Set(['gone']));

  it('lose whole CSV records, quoted newlines and all, and keep the header and every other record as it was', async () => {
    const csv = 'event_id,customer_id,comment\r\ne1,c1,fine\r\ne2,gone,"two\nlines"\r\ne3,c3,"also\nfine"\r\n';
    const { removed, bytes } = await withoutMentions('landing/surveys/s.csv', new TextEncoder().encode(csv), matcher.ids, matcher);
    expect(removed).toBe(1);
    expect(text(bytes!)).toBe('event_id,customer_id,comment\r\ne1,c1,fine\r\ne3,c3,"also\nfine"\r\n');
  });

  it('stay gzip and JSON arrays, and go when nothing is left', async () => {
    const lines = `${JSON.stringify({ customer_id: 'c1' })}\n${JSON.stringify({ customer_id: 'gone' })}\n`;
    const gzip = await withoutMentions('landing/orders/o.jsonl.gz', gzipSync(lines), matcher.ids, matcher);
    expect(text(gunzipSync(gzip.bytes!))).toBe(`${JSON.stringify({ customer_id: 'c1' })}\n`);
    const array = await withoutMentions(
      'landing/orders/o.json',
      new TextEncoder().encode('[{"customer_id":"gone"},{"customer_id":"c2","total":1.10,"big":12345678901234567890}]'),
      matcher.ids,
      matcher,
    );
    // The kept element exactly as received: 1.10 and the big number are not rewritten.
    expect(text(array.bytes!)).toBe('[\n{"customer_id":"c2","total":1.10,"big":12345678901234567890}\n]\n');
    expect(await withoutMentions('landing/orders/o.jsonl', new TextEncoder().encode('{"customer_id":"gone"}\n'), matcher.ids, matcher)).toEqual({
      removed: 1,
      bytes: null,
    });
  });
});

describe('rewriting a Parquet file', () => {
  it('keeps every column type (decimal, date, timestamp, bigint) while dropping rows and clearing cells', async () => {
    const engine = await DuckDbEngine.open({ threads: 1 });
    try {
      const path = `${process.env['TMPDIR'] ?? '/tmp'}/erasure-types-${process.pid}.parquet`;
      await engine.execute(
        `copy (select * from (values ('c1', 'gone', 12.34::decimal(18, 2), date '2026-01-02', timestamptz '2026-01-02 03:04:05+00', 7::bigint), ` +
          `('gone', null, 1.00::decimal(18, 2), date '2026-01-03', timestamptz '2026-01-03 00:00:00+00', 8::bigint), ` +
          `('c3', 'c1', 2.50::decimal(18, 2), date '2026-01-04', timestamptz '2026-01-04 00:00:00+00', 9::bigint)) ` +
          `as t(customer_id, referred_by, amount, day, seen_at, n)) to '${path}' (format parquet)`,
      );
      const { readFile, writeFile } = await import('node:fs/promises');
      const edited = editParquetRows(await readFile(path), { drop: [false, true, false], clear: new Map([['referred_by', [true, false, false]]]) });
      await writeFile(path, edited!);
      const types = await engine.query(`select column_name, column_type from (describe select * from read_parquet('${path}'))`);
      expect(types.rows).toEqual([
        ['customer_id', 'VARCHAR'],
        ['referred_by', 'VARCHAR'],
        ['amount', 'DECIMAL(18,2)'],
        ['day', 'DATE'],
        ['seen_at', 'TIMESTAMP WITH TIME ZONE'],
        ['n', 'BIGINT'],
      ]);
      const rows = await engine.query(`select customer_id, referred_by, amount::varchar, day::varchar, epoch(seen_at), n from read_parquet('${path}')`);
      expect(rows.rows).toEqual([
        ['c1', null, '12.34', '2026-01-02', 1767323045, 7],
        ['c3', 'c1', '2.50', '2026-01-04', 1767484800, 9],
      ]);
    } finally {
      engine.close();
    }
  });

  it('of raw events through the store: an erased customer goes, a referral to them is cleared, the rest stays', async () => {
    const store = new MemoryObjectStore();
    const batch = new ColumnBatch(rawColumns.orders);
    const delivery = { received_at: Date.parse('2026-11-02T00:00:00Z'), ingest_id: 'i1', source: 'f', record_number: 1 };
    for (const [customer, referrer] of [
      ['gone', null],
      ['c2', 'gone'],
      ['c3', null],
    ] as const) {
      batch.append({
        ...orderEvent({ event_id: `e-${customer}`, order_id: `o-${customer}`, customer_id: customer, occurred_at: '2026-11-01T10:00:00Z' }),
        referred_by: referrer,
        occurred_at: Date.parse('2026-11-01T10:00:00Z'),
        ...delivery,
      });
    }
    await store.put('raw/orders/dt=2026-11-01/part-i1-0000.parquet', batch.toParquet());
    const { request, rewrittenKeys } = await forgetCustomers(store, ['gone']);
    expect(request.removed).toMatchObject({ raw: { orders: 1, surveys: 0 }, referralsCleared: 1, objectsRewritten: 1 });
    expect(rewrittenKeys).toEqual(['raw/orders/dt=2026-11-01/part-i1-0000.parquet']);
    const rows = readParquetRows(await store.get(rewrittenKeys[0]!));
    expect(rows.map((row) => [row['customer_id'], row['referred_by']])).toEqual([
      ['c2', null],
      ['c3', null],
    ]);
  });
});

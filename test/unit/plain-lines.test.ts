import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErasedCustomers, keyedId } from '../../functions/core/erasure/register.ts';
import { earliestEventMs } from '../../functions/core/events/timestamps.ts';
import { fingerprintOf } from '../../functions/core/ingest/deliveries.ts';
import { recordOfLine } from '../../functions/core/ingest/jsonl.ts';
import { lineOf } from '../../functions/core/ingest/lines.ts';
import { PlainLineReader, PlainRows } from '../../functions/core/ingest/plain-lines.ts';
import { screenRecord } from '../../functions/core/erasure/screen.ts';
import { SlotKind } from '../../functions/core/lake/parquet.ts';
import { rawColumns } from '../../functions/core/lake/raw-tables.ts';

/*
 * The fast path may decline any line; a line it takes must become exactly the row, the
 * fingerprint and the kept text that JSON.parse and validateRecord make of it. The lines are
 * made of raw JSON texts, plain and hostile, in any key order and spacing.
 */

const EARLIEST = earliestEventMs('2000-01-01');

const ids = [
  '"e-1"',
  '"CUST-000004743"',
  '"ORD-2024-0000000001"',
  '"  "',
  '""',
  `"${'x'.repeat(256)}"`,
  `"${'x'.repeat(257)}"`,
  '"caf\\u00e9"',
  '"café"',
  '"a\\"b"',
  '"\u007f"',
  '12',
  'null',
  'true',
  '["a"]',
  '{"a":1}',
];
const instants = [
  '"2024-02-14T07:27:15.245313+00:00"',
  '"2024-02-14T07:27:15Z"',
  '"2024-02-14 07:27+01:00"',
  '"2024-02-14T07:27:15.5-05:30"',
  // Edges of the shapes read from the line's bytes: a leap day, ten fraction digits, an empty
  // fraction, offsets at and past the range, the last instant, the first one refused.
  '"2024-02-29T23:59:59.999999999+14:00"',
  '"2023-02-29T00:00:00Z"',
  '"2024-02-14T07:27:15.1234567891Z"',
  '"2024-02-14T07:27:15.Z"',
  '"2024-02-14T07:27:15+15:00"',
  '"2099-12-31T23:59:59.999Z"',
  '"2100-01-01T00:00:00Z"',
  '"2024-02-14 07:27"',
  '"1999-12-31T23:00:00Z"',
  '"2024-02-30T00:00:00Z"',
  '"not a date"',
  '0',
  'null',
];
const amounts = [
  '10',
  '100.97',
  '0',
  '-0',
  '-0.0',
  '-1',
  '1e12',
  '1e13',
  '1000000000000.5',
  '1.5e3',
  '0.1',
  '0.30000000000000004',
  '123456789012345678',
  '3.14159265358979323846',
  '1E2',
  '01',
  '1.',
  '.5',
  '"10"',
  'null',
  '2.675',
  '9007199254740993',
];
const statuses = ['"placed"', '"cancelled"', '"refunded"', '"PLACED"', 'null', '1'];
const currencies = ['"USD"', '"EUR"', '"usd"', '"US"', '"ZZZ"', 'null', '1'];
const labels = ['"web"', '"store"', '""', '"  "', '3', 'null', '"caf\\u00e9"', 'true', '"a/b"'];
const scores = ['0', '10', '7', '7.0', '7.5', '11', '-1', '"7"', 'null', '1e1', '-0'];
const itemTexts = ['null', '[]', '[{"sku":"a","quantity":1,"unit_price":2}]'];
const extraKeys = ['store_id', 'note', 'zeta', 'a', 'B', '_x', '-a', 'referred_by', '1', '10', '9', '__proto__', 'é', 'a\\u0062', ''];
const extraValues = [
  '"s-5"',
  '"CUST-000004743"',
  '1.50',
  '1e2',
  '-0',
  '0',
  '12',
  '-12',
  'true',
  'false',
  'null',
  '123456789012345678901',
  '0.1',
  '1e21',
  '5e-324',
  '"\\/"',
  '{"a":1}',
  '[1,2]',
  '"caf\\u00e9"',
  '1e400',
];

const pick = (texts: readonly string[]) => fc.constantFrom(...texts);
/** Mostly one of the first (plain) texts, sometimes any: most lines are plain, most others wrong in one place. */
const mostly = (texts: readonly string[], plain: number) =>
  fc.oneof({ arbitrary: pick(texts.slice(0, plain)), weight: 19 }, { arbitrary: pick(texts), weight: 1 });
/** Now and then one of the texts, else none. */
const rarely = (texts: readonly string[]) => fc.oneof({ arbitrary: fc.constant(undefined), weight: 9 }, { arbitrary: pick(texts), weight: 1 });
const optional = (value: fc.Arbitrary<string>) => fc.option(value, { nil: undefined, freq: 3 });

const orderFields = fc.record({
  event_id: mostly(ids, 3),
  order_id: mostly(ids, 3),
  customer_id: mostly(ids, 3),
  occurred_at: mostly(instants, 4),
  status: optional(mostly(statuses, 3)),
  total: mostly(amounts, 3),
  currency: mostly(currencies, 2),
  refunded_amount: optional(mostly(amounts, 3)),
  channel: optional(mostly(labels, 2)),
  items: optional(pick(itemTexts)),
  referred_by: optional(fc.oneof(mostly(ids, 3), fc.constant('SAME'))),
});
const surveyFields = fc.record({
  event_id: mostly(ids, 3),
  customer_id: mostly(ids, 3),
  occurred_at: mostly(instants, 4),
  score: mostly(scores, 3),
  survey_id: optional(mostly(labels, 2)),
  comment: optional(mostly(labels, 2)),
  channel: optional(mostly(labels, 2)),
});
const spacing = fc.constantFrom('', '', ' ', '  ', '\t', '\r');

/** A line: the fields (some left out, one sometimes repeated), extra fields, in a shuffled order, spaced at random. */
function lineArbitrary(fields: fc.Arbitrary<Record<string, string | undefined>>) {
  return fc
    .tuple(
      fields,
      fc.array(fc.tuple(mostly(extraKeys, 8), mostly(extraValues, 16)), { maxLength: 4 }),
      rarely(['event_id', 'customer_id', 'total', 'score']),
      rarely(['event_id', 'occurred_at', 'total', 'currency', 'score']),
      fc.infiniteStream(spacing),
      fc.boolean(),
    )
    .chain(([values, extras, repeated, missing, spaces, carriageReturn]) => {
      const members: [string, string][] = [];
      for (const [key, value] of Object.entries(values)) {
        if (value === undefined || key === missing) continue;
        members.push([key, value === 'SAME' ? (values['customer_id'] ?? '"x"') : value]);
      }
      if (repeated && values[repeated] !== undefined) members.push([repeated, '"again"']);
      members.push(...extras);
      return fc.shuffledSubarray(members, { minLength: members.length, maxLength: members.length }).map((shuffled) => {
        const space = () => spaces.next().value as string;
        const body = shuffled.map(([key, value]) => `${space()}"${key}"${space()}:${space()}${value}${space()}`).join(',');
        return `${space()}{${body}}${space()}${carriageReturn ? '\r' : ''}`;
      });
    });
}

/** The row a fast-path row stands for, as validateRecord would make it. */
function rowOf(rows: PlainRows, row: number, type: 'orders' | 'surveys'): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  rawColumns[type].slice(0, rows.slots).forEach((column, slot) => {
    const index = row * rows.slots + slot;
    const kind = rows.kinds[index];
    const value =
      kind === SlotKind.null
        ? null
        : kind === SlotKind.number
          ? rows.numbers[index]
          : Buffer.from(rows.sourceOf(index).subarray(rows.starts[index], rows.ends[index])).toString('utf8');
    values[column.name === 'occurred_at' ? 'occurred_at_ms' : column.name] = value;
  });
  return values;
}

/** Reads lines one after the other into one chunk, then checks every row taken against the ordinary path. */
function checkChunk(type: 'orders' | 'surveys', lines: readonly string[], erased = ErasedCustomers.none): { taken: number; refusedByOrdinaryPath: number } {
  const chunk = Buffer.from(lines.join('\n'));
  const rows = new PlainRows(type, chunk, 2);
  const reader = new PlainLineReader(type, EARLIEST, erased);
  const takenLines: { row: number; start: number; end: number; index: number }[] = [];
  let start = 0;
  lines.forEach((line, index) => {
    const end = start + Buffer.byteLength(line);
    if (reader.read(rows, start, end)) takenLines.push({ row: rows.count - 1, start, end, index });
    start = end + 1;
  });
  let refusedByOrdinaryPath = 0;
  for (const [index, line] of lines.entries()) {
    const { validation } = screenRecord(type, recordOfLine(lineOf(Buffer.from(line), index + 1), index + 1)!, EARLIEST, erased);
    if (!validation.ok) refusedByOrdinaryPath += 1;
  }
  for (const { row, start: lineStart, end, index } of takenLines) {
    const record = recordOfLine(lineOf(chunk.subarray(lineStart, end), index + 1), index + 1)!;
    const { validation, keepPayload } = screenRecord(type, record, EARLIEST, erased);
    expect(validation, lines[index]).toMatchObject({ ok: true });
    expect(keepPayload, lines[index]).toBe(true);
    if (!validation.ok) continue;
    expect(rowOf(rows, row, type), lines[index]).toEqual(validation.row);
    expect(rows.fingerprints[row], lines[index]).toBe(fingerprintOf(validation.row));
    expect(rows.lineText(row)).toBe(record.text);
  }
  return { taken: takenLines.length, refusedByOrdinaryPath };
}

const registerKey = new Uint8Array(32).fill(7);
/** A register that erased one of the ids the lines are made of. */
const erasedRegister = ErasedCustomers.of(registerKey, new Map([[keyedId(registerKey, 'CUST-000004743'), '2024-05-01']]));

describe('the fast path of a parallel ingest (plain-lines.ts)', () => {
  it.each([
    ['orders', 'nobody', ErasedCustomers.none],
    ['surveys', 'nobody', ErasedCustomers.none],
    ['orders', 'a customer', erasedRegister],
    ['surveys', 'a customer', erasedRegister],
  ] as const)('takes a %s line only where the ordinary path stores the same row, fingerprint and text (%s erased)', (type, _erasedWho, erased) => {
    let taken = 0;
    let declined = 0;
    fc.assert(
      fc.property(fc.array(lineArbitrary(type === 'orders' ? orderFields : surveyFields), { minLength: 1, maxLength: 12 }), (lines) => {
        const chunk = checkChunk(type, lines, erased);
        taken += chunk.taken;
        declined += lines.length - chunk.taken;
      }),
      { numRuns: 400, seed: 20261203 },
    );
    // Neither way round may the property hold for nothing.
    expect(taken).toBeGreaterThan(100);
    expect(declined).toBeGreaterThan(100);
  });

  it('takes the lines other writers write plainly, in any key order and spacing', () => {
    const lines = [
      '{"customer_id": "CUST-000004743", "order_id": "ORD-1", "event_id": "6c66ea4a", "status": "placed", "occurred_at": "2024-02-14T07:27:15.245313+00:00", "currency": "USD", "total": 100.97, "channel": "store", "store_id": "store-5"}',
      '{"event_id":"e2","order_id":"o2","customer_id":"c2","occurred_at":"2024-02-14T07:27:15Z","total":0,"currency":"EUR","refunded_amount":null,"items":null}',
      '\t{ "event_id" : "e3" , "order_id" : "o3" , "customer_id" : "c3" , "occurred_at" : "2024-02-14 07:27Z" , "total" : 1.5e3 , "currency" : "EUR" , "zeta" : 1.50 , "a" : true , "B" : null }\r',
      '{"event_id":"e4","order_id":"o4","customer_id":"c4","occurred_at":"2024-02-14T07:27:15Z","total":12,"currency":"EUR","referred_by":"c1","status":"refunded","refunded_amount":12}',
    ];
    expect(checkChunk('orders', lines)).toEqual({ taken: 4, refusedByOrdinaryPath: 0 });
    const surveys = ['{"event_id": "f1", "customer_id": "CUST-1", "survey_id": "nps-2024", "score": 10, "occurred_at": "2025-07-19T13:38:53.282377+00:00"}'];
    expect(checkChunk('surveys', surveys)).toEqual({ taken: 1, refusedByOrdinaryPath: 0 });
  });

  it('leaves an event naming an erased customer, as buyer or referrer, to the ordinary path', () => {
    const key = new Uint8Array(32).fill(7);
    const register = ErasedCustomers.of(key, new Map([[keyedId(key, 'gone'), '2024-05-01']]));
    const order = (customer: string, referrer?: string) =>
      JSON.stringify({
        event_id: `e-${customer}-${referrer}`,
        order_id: 'o',
        customer_id: customer,
        occurred_at: '2024-02-14T07:27:15Z',
        total: 1,
        currency: 'EUR',
        referred_by: referrer,
      });
    expect(checkChunk('orders', [order('gone'), order('kept', 'gone'), order('kept', 'other')], register).taken).toBe(1);
  });
});

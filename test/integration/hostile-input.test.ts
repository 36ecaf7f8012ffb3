import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEPT_PREFIX_BYTES, MAX_RECORD_BYTES } from '../../functions/core/ingest/oversized.ts';
import { orderEvent, surveyEvent } from '../support/events.ts';
import { pipeline, queryCsv, temporaryDirectory } from '../support/cli.ts';

/**
 * Input a producer should never send, through `pipeline ingest` as a user runs it: every case
 * ends with each record either stored or kept with a reason that says what is wrong, and the
 * command exits normally. (Memory with a 50 MB line is measured in test/stress.)
 */

let directory: string;
let cleanup: () => Promise<void>;
let caseNumber = 0;

beforeAll(async () => {
  ({ path: directory, cleanup } = await temporaryDirectory('hostile-'));
});
afterAll(async () => cleanup());

const valid = (id: string, fields: Partial<Record<string, unknown>> = {}) =>
  orderEvent({ event_id: id, order_id: `o-${id}`, customer_id: `c-${id}`, occurred_at: '2024-03-01T10:00:00Z', ...fields });

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
  lake: string;
  stored: string[];
  rejected: { line_number: string; reason: string; payload: string }[];
}

/** Ingests one file into a fresh lake and reads back what was stored and what was refused. */
async function ingestFile(name: string, content: string | Uint8Array, type: 'orders' | 'surveys' = 'orders'): Promise<Outcome> {
  caseNumber += 1;
  const caseDirectory = join(directory, `case-${caseNumber}`);
  await mkdir(caseDirectory);
  const file = join(caseDirectory, name);
  await writeFile(file, content);
  const lake = join(caseDirectory, 'lake');
  const result = await pipeline('ingest', type, file, '--lake', lake);
  const stored = (await queryCsv(lake, `select event_id from ${type} order by event_id`)).map((row) => row['event_id']!);
  const rejected = (await queryCsv(lake, 'select line_number, reason, payload from rejected_events order by record_number')) as Outcome['rejected'];
  return { ...result, lake, stored, rejected };
}

const jsonLines = (records: readonly (object | string)[]) =>
  `${records.map((record) => (typeof record === 'string' ? record : JSON.stringify(record))).join('\n')}\n`;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('a record over the size limit', () => {
  // Twice the limit: a blob pasted into a field. The field must sit near the start so that the
  // kept prefix shows what the record was.
  const huge = JSON.stringify({ ...valid('big'), note: 'x'.repeat(2 * MAX_RECORD_BYTES) });

  it.each([
    ['JSON Lines', 'orders.jsonl', () => jsonLines([valid('a'), huge, valid('b')])],
    ['gzipped JSON Lines', 'orders.jsonl.gz', () => gzipSync(jsonLines([valid('a'), huge, valid('b')]))],
    ['a JSON array', 'orders.json', () => `[${JSON.stringify(valid('a'))},\n${huge},\n${JSON.stringify(valid('b'))}]`],
  ])('in %s is refused with its size and digest, its first bytes kept, the records around it stored', async (_, name, content) => {
    const outcome = await ingestFile(name, content());
    expect(outcome.code).toBe(0);
    expect(outcome.stored).toEqual(['a', 'b']);
    expect(outcome.rejected).toHaveLength(1);
    const [refused] = outcome.rejected;
    expect(refused!.line_number).toBe('2');
    expect(refused!.reason).toContain(`is ${Buffer.byteLength(huge).toLocaleString('en-US')} bytes, over the 1,048,576-byte limit for one record`);
    expect(refused!.reason).toContain(`sha256 of all of it: ${sha256(huge)}`);
    expect(refused!.payload).toBe(huge.slice(0, KEPT_PREFIX_BYTES));
  });

  it('in CSV is refused alone, even inside an open quote, and the rows after it are read', async () => {
    const header = 'event_id,order_id,customer_id,occurred_at,total,currency';
    const row = (id: string) => `${id},o-${id},c-${id},2024-03-01T10:00:00Z,10,EUR`;
    const hugeRow = `big,o-big,c-big,2024-03-01T10:00:00Z,10,${'Y'.repeat(2 * MAX_RECORD_BYTES)}`;
    const outcome = await ingestFile('orders.csv', `${[header, row('a'), 'open,"quote never closed', hugeRow, row('b')].join('\n')}\n`);
    expect(outcome.code).toBe(0);
    expect(outcome.stored).toEqual(['a', 'b']);
    expect(outcome.rejected.map((refused) => [refused.line_number, refused.reason])).toEqual([
      ['3', 'unterminated quoted field starting on line 3'],
      ['4', expect.stringContaining(`line is ${Buffer.byteLength(hugeRow).toLocaleString('en-US')} bytes, over the 1,048,576-byte limit`)],
    ]);
  });

  it('in a quoted CSV field spanning lines counts bytes, not characters', async () => {
    const header = 'event_id,order_id,customer_id,occurred_at,total,currency,channel';
    // Two lines of 400,000 two-byte characters: each under the limit, together under it in
    // characters (800,000) but over it in UTF-8 (1.6 MB).
    const wide = 'é'.repeat(400_000);
    const outcome = await ingestFile(
      'orders.csv',
      `${[header, `a,o-a,c-a,2024-03-01T10:00:00Z,10,EUR,"${wide}`, `${wide}"`, 'b,o-b,c-b,2024-03-01T10:00:00Z,10,EUR,web'].join('\n')}\n`,
    );
    expect(outcome.stored).toEqual(['b']);
    expect(outcome.rejected.map((refused) => [refused.line_number, refused.reason])).toEqual([
      ['2', 'unterminated quoted field starting on line 2'],
      ['3', 'has 1 fields but the header has 7'],
    ]);
  });

  it('is refused even when it is nothing but spaces, so line and record numbers stay exact', async () => {
    const outcome = await ingestFile('orders.jsonl', jsonLines([valid('a'), ' '.repeat(MAX_RECORD_BYTES + 1), '', valid('b')]));
    expect(outcome.stored).toEqual(['a', 'b']);
    expect(outcome.rejected.map((refused) => refused.line_number)).toEqual(['2']);
  });
});

describe('deeply nested JSON', () => {
  const depth = 100_000;
  const nestedArray = '['.repeat(depth) + ']'.repeat(depth);
  const base = JSON.stringify(valid('deep')).slice(0, -1);

  it('is refused naming the field, whether it is an extra field, a known one or the whole record', async () => {
    const outcome = await ingestFile(
      'orders.jsonl',
      jsonLines([
        `${base},"gift":${nestedArray}}`,
        `${JSON.stringify({ ...valid('t'), total: undefined }).slice(0, -1)},"total":${nestedArray}}`,
        nestedArray,
        valid('ok', { items: [{ sku: 'a', quantity: 1, unit_price: 2, options: { size: 'M' } }] }),
      ]),
    );
    expect(outcome.code).toBe(0);
    expect(outcome.stored).toEqual(['ok']);
    expect(outcome.rejected.map((refused) => refused.reason)).toEqual([
      'gift: nested more than 32 levels deep',
      'total: must be a number (got a value nested too deeply to show)',
      'record: must be a JSON object (got an array)',
    ]);
  });

  it('keeps extra fields up to the depth limit as JSON', async () => {
    let nested: unknown = 'leaf';
    for (let level = 0; level < 31; level += 1) nested = [nested];
    const outcome = await ingestFile('orders.jsonl', jsonLines([valid('a', { gift: nested })]));
    expect(outcome.stored).toEqual(['a']);
    const [row] = await queryCsv(outcome.lake, 'select extras from orders');
    expect(JSON.parse(row!['extras']!)).toEqual({ gift: nested });
  });
});

describe('bytes and characters that do not belong', () => {
  it('refuses the line with invalid UTF-8 and only that line', async () => {
    const encoder = new TextEncoder();
    const bad = encoder.encode(jsonLines([valid('bad', { channel: 'X' })]));
    bad[bad.indexOf(0x58)] = 0xff; // the "X": a byte that starts no UTF-8 character
    const outcome = await ingestFile('orders.jsonl', Buffer.concat([encoder.encode(jsonLines([valid('a')])), bad, encoder.encode(jsonLines([valid('b')]))]));
    expect(outcome.stored).toEqual(['a', 'b']);
    expect(outcome.rejected.map((refused) => [refused.line_number, refused.reason])).toEqual([['2', 'not valid UTF-8']]);
  });

  it('refuses raw control characters in JSON and escaped ones in ids, keeps them in free text and escapes them on screen', async () => {
    const outcome = await ingestFile(
      'surveys.jsonl',
      jsonLines([
        `{"event_id":"s1","customer_id":"c\u0001","occurred_at":"2024-03-01T10:00:00Z","score":9}`,
        surveyEvent({ event_id: 's2', customer_id: 'c\u001b[2J', occurred_at: '2024-03-01T10:00:00Z', score: 9 }),
        surveyEvent({ event_id: 's3\u0000', customer_id: 'c3', occurred_at: '2024-03-01T10:00:00Z', score: 9 }),
        surveyEvent({ event_id: 's4', customer_id: 'c4', occurred_at: '2024-03-01T10:00:00Z', score: 2, comment: 'bell\u0007 and\ttab' } as never),
      ]),
      'surveys',
    );
    expect(outcome.code).toBe(0);
    expect(outcome.stored).toEqual(['s4']);
    expect(outcome.rejected.map((refused) => refused.reason)).toEqual([
      expect.stringMatching(/^invalid JSON: Bad control character in string literal/),
      'customer_id: must not contain control characters (got "c\\u001b[2J")',
      'event_id: must not contain control characters (got "s3\\u0000")',
    ]);
    const [row] = await queryCsv(outcome.lake, 'select comment from surveys');
    expect(row!['comment']).toBe('bell\u0007 and\ttab');
    const table = await pipeline('query', 'select comment from surveys', '--lake', outcome.lake);
    expect(table.stdout).toContain('bell\\u0007 and\\u0009tab');
    expect(table.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
  });
});

describe('CSV', () => {
  it('reads quoted fields holding separators, doubled quotes and newlines; refuses a stray quote alone', async () => {
    const header = 'event_id,order_id,customer_id,occurred_at,total,currency,channel';
    const outcome = await ingestFile(
      'orders.csv',
      `${[
        header,
        'a,o-a,c-a,2024-03-01T10:00:00Z,10,EUR,"web, ""beta""\nsecond line"',
        'b,o-b,c-b,2024-03-01T10:00:00Z,10,EUR,sto"re',
        'c,o-c,c-c,2024-03-01T10:00:00Z,"12.50",EUR,app',
        'd,o-d,c-d,2024-03-01T10:00:00Z,"12,50",EUR,app',
      ].join('\r\n')}\r\n`,
    );
    expect(outcome.code).toBe(0);
    expect(outcome.stored).toEqual(['a', 'b', 'c']);
    const rows = await queryCsv(outcome.lake, 'select event_id, channel, total from orders order by event_id');
    expect(rows).toEqual([
      { event_id: 'a', channel: 'web, "beta"\nsecond line', total: '10' },
      { event_id: 'b', channel: 'sto"re', total: '10' },
      { event_id: 'c', channel: 'app', total: '12.5' },
    ]);
    expect(outcome.rejected.map((refused) => [refused.line_number, refused.reason])).toEqual([['6', 'total: must be a number (got "12,50")']]);
  });
});

describe('types and timestamps', () => {
  it('refuses numbers sent as strings in JSON and timestamps outside 1970-2099, and stores a date far ahead as given', async () => {
    const outcome = await ingestFile(
      'orders.jsonl',
      jsonLines([
        valid('text-total', { total: '12.50' }),
        valid('future', { occurred_at: '9999-12-31T23:59:59Z' }),
        valid('before-1970', { occurred_at: '1969-12-31T23:59:59Z' }),
        valid('no-offset', { occurred_at: '2024-03-01T10:00:00' }),
        valid('far-ahead', { occurred_at: '2099-06-30T23:00:00-05:00' }),
      ]),
    );
    expect(outcome.stored).toEqual(['far-ahead']);
    expect(outcome.rejected.map((refused) => refused.reason)).toEqual([
      'total: must be a number (got "12.50")',
      expect.stringMatching(/^occurred_at: .*1970.*2100|^occurred_at: .*year/),
      expect.stringMatching(/^occurred_at: .*1970.*2100|^occurred_at: .*year/),
      expect.stringMatching(/^occurred_at: .*offset/),
    ]);
    // Stored with its own instant; filed, as every row, under the day it was received.
    const [row] = await queryCsv(
      outcome.lake,
      "select strftime(occurred_at at time zone 'UTC', '%Y-%m-%d %H:%M') as occurred, dt = cast(received_at at time zone 'UTC' as date) as filed_when_received from orders",
    );
    expect(row).toEqual({ occurred: '2099-07-01 04:00', filed_when_received: 'true' });
  });
});

describe('empty and damaged files', () => {
  it.each(['orders.jsonl', 'orders.csv', 'orders.json', 'orders.jsonl.gz'])('reads a zero-byte %s as no records', async (name) => {
    const outcome = await ingestFile(name, '');
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toContain('received 0');
    expect(outcome.stored).toEqual([]);
    expect(outcome.rejected).toEqual([]);
  });

  it.each([
    ['orders.jsonl.gz', () => jsonLines(Array.from({ length: 2000 }, (_, index) => valid(`e${String(index).padStart(4, '0')}`)))],
    [
      'orders.csv.gz',
      () =>
        [
          'event_id,order_id,customer_id,occurred_at,total,currency',
          ...Array.from({ length: 2000 }, (_, index) => `e${String(index).padStart(4, '0')},o,c,2024-03-01T10:00:00Z,10,EUR`),
        ].join('\n'),
    ],
    ['orders.json.gz', () => `[${Array.from({ length: 2000 }, (_, index) => JSON.stringify(valid(`e${String(index).padStart(4, '0')}`))).join(',\n')}]`],
  ])('stores what a truncated %s holds and keeps the unreadable end as one refused record', async (name, content) => {
    const gzipped = gzipSync(content());
    const outcome = await ingestFile(name, gzipped.subarray(0, Math.floor(gzipped.length * 0.6)));
    expect(outcome.code).toBe(0);
    expect(outcome.stored.length).toBeGreaterThan(100);
    expect(outcome.stored.length).toBeLessThan(2000);
    expect(outcome.rejected.map((refused) => refused.reason)).toEqual([expect.stringMatching(/^input ended unexpectedly/)]);
    expect(outcome.stdout).toMatch(
      new RegExp(`received ${(outcome.stored.length + 1).toLocaleString('en-US')}, accepted ${outcome.stored.length.toLocaleString('en-US')}`),
    );
  });

  it('refuses every line of a binary file, each with a reason, and exits normally', async () => {
    const bytes = new Uint8Array(64 * 1024);
    let state = 12345;
    for (let index = 0; index < bytes.length; index += 1) {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      bytes[index] = state >> 23;
    }
    const outcome = await ingestFile('orders.jsonl', bytes);
    expect(outcome.code).toBe(0);
    expect(outcome.stored).toEqual([]);
    expect(outcome.rejected.length).toBeGreaterThan(100);
    expect(outcome.rejected.every((refused) => /^(invalid JSON|not valid UTF-8|record: must be)/.test(refused.reason))).toBe(true);
  });
});

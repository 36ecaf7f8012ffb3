import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRecords, recordsOf } from '../../functions/core/ingest/open-input.ts';
import type { InputFormat, RawRecord } from '../../functions/core/ingest/records.ts';
import { temporaryDirectory } from '../support/cli.ts';

async function collect(batches: AsyncIterable<readonly RawRecord[]>): Promise<RawRecord[]> {
  const records: RawRecord[] = [];
  for await (const batch of batches) records.push(...batch);
  return records;
}

/** Feeds bytes in small chunks so that records straddle chunk boundaries. */
async function* chunked(bytes: Uint8Array, size = 7): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

const read = (format: InputFormat, text: string | Uint8Array) =>
  collect(recordsOf(format, chunked(typeof text === 'string' ? new TextEncoder().encode(text) : text)));

describe('JSON Lines', () => {
  it('reads one record per line, skips blank lines, keeps line numbers and CRLF-free text', async () => {
    const records = await read('jsonl', '{"a":1}\r\n\r\n{"a":2}\n{bad\n{"a":3}');
    expect(records.map((record) => [record.recordNumber, record.lineNumber, record.text])).toEqual([
      [1, 1, '{"a":1}'],
      [2, 3, '{"a":2}'],
      [3, 4, '{bad'],
      [4, 5, '{"a":3}'],
    ]);
    expect(records[2]!.parseError).toMatch(/^invalid JSON: /);
    expect(records[3]!.value).toEqual({ a: 3 });
  });

  it('taints only the line with invalid UTF-8', async () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('{"a":"ok"}\n{"a":"'), 0xff, 0xfe, ...new TextEncoder().encode('"}\n{"a":"é"}\n')]);
    const records = await read('jsonl', bytes);
    expect(records.map((record) => record.parseError ?? 'ok')).toEqual(['ok', 'not valid UTF-8', 'ok']);
    expect(records[2]!.value).toEqual({ a: 'é' });
  });

  it('reads a long line that spans many chunks', async () => {
    const long = JSON.stringify({ comment: 'x'.repeat(200_000) });
    const records = await collect(recordsOf('jsonl', chunked(new TextEncoder().encode(`${long}\n{"b":1}\n`), 1024)));
    expect(records).toHaveLength(2);
    expect((records[0]!.value as { comment: string }).comment).toHaveLength(200_000);
  });
});

describe('CSV', () => {
  it('handles a BOM, CRLF, quoted separators, doubled quotes and newlines inside quotes', async () => {
    const text = '\uFEFFevent_id,comment,score\r\ne1,"fast, cheap",9\r\ne2,"said ""wow""",10\r\ne3,"two\r\nlines",8\r\ne4,,7\r\n';
    const records = await read('csv', text);
    expect(records.map((record) => record.value)).toEqual([
      { event_id: 'e1', comment: 'fast, cheap', score: '9' },
      { event_id: 'e2', comment: 'said "wow"', score: '10' },
      { event_id: 'e3', comment: 'two\nlines', score: '8' },
      { event_id: 'e4', score: '7' },
    ]);
    expect(records.map((record) => record.lineNumber)).toEqual([2, 3, 4, 6]);
    expect(records.every((record) => record.typed === false)).toBe(true);
  });

  it('rejects a malformed record alone and keeps reading the ones after it', async () => {
    const records = await read('csv', 'a,b\n1,"x"y\n2,3\n4\n5,6,7\n8,9\n');
    expect(records.map((record) => record.parseError ?? record.value)).toEqual([
      'unexpected character "y" after a closing quote in field 2',
      { a: '2', b: '3' },
      'has 1 fields but the header has 2',
      'has 3 fields but the header has 2',
      { a: '8', b: '9' },
    ]);
  });

  it('does not let a stray quote glue the records after it into one', async () => {
    const text = 'id,customer,channel\ne2,c2,web\ne3,"c3,web\ne4,c4,web\ne5,c5,"web"\ne6,c6,web\n';
    const records = await read('csv', text);
    expect(records.map((record) => record.parseError ?? record.value)).toEqual([
      { id: 'e2', customer: 'c2', channel: 'web' },
      'unterminated quoted field starting on line 3',
      { id: 'e4', customer: 'c4', channel: 'web' },
      { id: 'e5', customer: 'c5', channel: 'web' },
      { id: 'e6', customer: 'c6', channel: 'web' },
    ]);
  });

  it('refuses a file whose header cannot be read', async () => {
    await expect(read('csv', 'event_id,"order_id\n1,2\n')).rejects.toThrow(/CSV header on line 1: unterminated quoted field/);
  });

  it('reports an unterminated quote at the end of the file as a record', async () => {
    const records = await read('csv', 'a,b\n1,2\n3,"never closed\n');
    expect(records).toHaveLength(2);
    expect(records[1]!.parseError).toBe('unterminated quoted field starting on line 3');
  });
});

describe('JSON arrays', () => {
  it('streams the elements of a top-level array', async () => {
    const records = await read('json', ' [\n {"a": "x, ]"},\n {"b": [1, {"c": 2}]},\n 3 ]\n');
    expect(records.map((record) => record.value)).toEqual([{ a: 'x, ]' }, { b: [1, { c: 2 }] }, 3]);
    expect(records.map((record) => record.lineNumber)).toEqual([2, 3, 4]);
  });

  it('rejects a broken element alone, and a truncated array at its last element', async () => {
    const records = await read('json', '[{"a":1},{"a":},{"a":3},{"a":');
    expect(records.map((record) => record.parseError ?? 'ok')).toEqual([
      'ok',
      expect.stringMatching(/^invalid JSON/),
      'ok',
      'the array ends before this element does',
    ]);
  });

  it('ends a broken element at its line so that the elements after it are still read', async () => {
    const text = ['[', '{"id":"b1","note":"never closed},', '{"id":"b2"},', '{"id":"b3","list":[1,2}},', '{"id":"b4"}', ']'].join('\n');
    const records = await read('json', text);
    expect(records.map((record) => record.parseError ?? record.value)).toEqual([
      'a string is not closed before the end of line 2',
      { id: 'b2' },
      '"}" on line 4 does not close what is open',
      { id: 'b4' },
    ]);
    expect(records.map((record) => record.lineNumber)).toEqual([2, 3, 4, 5]);
  });

  it('reads a minified array split across many chunks, with multi-byte characters', async () => {
    const elements = Array.from({ length: 500 }, (_, index) => ({ id: index, name: `é€${index}` }));
    const records = await collect(recordsOf('json', chunked(new TextEncoder().encode(JSON.stringify(elements)), 13)));
    expect(records.map((record) => record.value)).toEqual(elements);
  });

  it('keeps content after the closing bracket as a rejected record', async () => {
    const records = await read('json', '[{"a":1}] trailing');
    expect(records.map((record) => record.parseError ?? 'ok')).toEqual(['ok', 'content after the closing "]" of the array']);
  });

  it('reads an empty array as no records', async () => {
    expect(await read('json', '[ ]')).toEqual([]);
  });
});

describe('files', () => {
  let directory: { path: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    directory = await temporaryDirectory();
  });
  afterAll(async () => directory.cleanup());

  it('detects gzip by its magic bytes and the format by name or first character', async () => {
    const lines = '{"a":1}\n{"a":2}\n';
    const gz = join(directory.path, 'events.jsonl.gz');
    const noName = join(directory.path, 'events.bin');
    const array = join(directory.path, 'events.json');
    const csv = join(directory.path, 'events.csv.gz');
    await writeFile(gz, gzipSync(lines));
    await writeFile(noName, gzipSync('[{"a":1}]'));
    await writeFile(array, '[{"a":1},{"a":2}]');
    await writeFile(csv, gzipSync('a\n1\n'));
    expect((await collect(await openRecords(gz))).map((record) => record.value)).toEqual([{ a: 1 }, { a: 2 }]);
    expect((await collect(await openRecords(noName))).map((record) => record.value)).toEqual([{ a: 1 }]);
    expect((await collect(await openRecords(array))).map((record) => record.value)).toEqual([{ a: 1 }, { a: 2 }]);
    expect((await collect(await openRecords(csv))).map((record) => record.value)).toEqual([{ a: '1' }]);
  });

  it('fails with a clear error for a missing file', async () => {
    await expect(openRecords(join(directory.path, 'nope.jsonl'))).rejects.toThrow(/cannot read .*nope\.jsonl: no such file/);
  });
});

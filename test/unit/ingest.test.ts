import { readFile, readdir } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../../functions/adapters/duckdb-engine.ts';
import { FilesystemObjectStore } from '../../functions/adapters/filesystem-store.ts';
import { ingestRecords } from '../../functions/core/ingest/ingest.ts';
import { recordsOf } from '../../functions/core/ingest/open-input.ts';
import { orderEvent } from '../support/events.ts';
import { temporaryDirectory } from '../support/cli.ts';

async function* bytesOf(text: string | Uint8Array): AsyncGenerator<Uint8Array> {
  yield typeof text === 'string' ? new TextEncoder().encode(text) : text;
}

const lines = (records: readonly (object | string)[]) =>
  `${records.map((record) => (typeof record === 'string' ? record : JSON.stringify(record))).join('\n')}\n`;

let directory: { path: string; cleanup: () => Promise<void> };
let store: FilesystemObjectStore;

beforeEach(async () => {
  directory = await temporaryDirectory();
  store = new FilesystemObjectStore(directory.path);
});
afterEach(async () => directory.cleanup());

const receivedAt = new Date('2024-04-02T08:00:00Z');
const ingest = (text: string | Uint8Array, options: { rowsPerFlush?: number } = {}) =>
  ingestRecords(recordsOf('jsonl', bytesOf(text)), { eventType: 'orders', source: 'test.jsonl', store, receivedAt, ingestId: 'batch1', ...options });

describe('ingest', () => {
  it('stores accepted events of any date under the day the batch was received and keeps every refused record with its reason', async () => {
    const result = await ingest(
      lines([
        orderEvent({ event_id: 'e1', order_id: 'o1', customer_id: 'c1', occurred_at: '2024-03-31T23:30:00-05:00' }),
        orderEvent({ event_id: 'e2', order_id: 'o2', customer_id: 'c1', occurred_at: '2024-03-31T10:00:00Z', total: 5.5 }),
        '{"event_id": "broken"',
        orderEvent({ event_id: 'e3', order_id: 'o3', customer_id: 'c2', occurred_at: '2024-03-30T10:00:00Z', total: -1 }),
      ]),
    );
    expect(result).toMatchObject({ received: 4, accepted: 2, rejected: 2, duplicates: 0, stored: 2 });
    // Events of 2024-03-31 and 2024-04-01 (UTC), received on 2024-04-02: one file, in that day's partition.
    expect(result.keys.map((key) => key.replace(/-\d{4}\./, '-N.')).sort()).toEqual([
      'raw/orders/dt=2024-04-02/part-batch1-N.parquet',
      'rejected/orders/dt=2024-04-02/part-batch1-N.jsonl',
    ]);
    const rejectedKey = result.keys.find((key) => key.startsWith('rejected/'))!;
    const rejected = (await readFile(join(directory.path, rejectedKey), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(rejected).toEqual([
      expect.objectContaining({ event_type: 'orders', line_number: 3, payload: '{"event_id": "broken"', reason: expect.stringMatching(/^invalid JSON/) }),
      expect.objectContaining({ line_number: 4, reason: 'total: must be >= 0 (got -1)', received_at: '2024-04-02T08:00:00.000Z', source: 'test.jsonl' }),
    ]);
  });

  it('writes Parquet that DuckDB reads back with the values and types of the contract', async () => {
    await ingest(
      lines([
        orderEvent({
          event_id: 'e1',
          order_id: 'o1',
          customer_id: 'c1',
          occurred_at: '2024-03-31T23:30:00-05:00',
          total: 12.25,
          channel: 'web',
          gift: true,
        } as never),
      ]),
    );
    const engine = await DuckDbEngine.open();
    try {
      const glob = join(directory.path, 'raw/orders/*/*.parquet');
      const result = await engine.query(
        `select event_id, occurred_at, total, status, extras, channel, record_number, typeof(occurred_at) as occurred_type, dt from read_parquet('${glob}', hive_partitioning = true)`,
      );
      expect(result.rows).toEqual([['e1', '2024-04-01 04:30:00+00', 12.25, 'placed', '{"gift":true}', 'web', 1, 'TIMESTAMP WITH TIME ZONE', '2024-04-02']]);
      const metadata = await engine.query(`select distinct compression from parquet_metadata('${glob}')`);
      expect(metadata.rows).toEqual([['ZSTD']]);
    } finally {
      engine.close();
    }
  });

  it('stores an exact re-delivery once and refuses a conflicting one with the earlier line', async () => {
    const event = orderEvent({ event_id: 'e1', order_id: 'o1', customer_id: 'c1', occurred_at: '2024-03-31T10:00:00Z', total: 10 });
    const result = await ingest(lines([event, event, { ...event, total: 11 }]));
    expect(result).toMatchObject({ received: 3, accepted: 2, duplicates: 1, stored: 1, rejected: 1 });
    expect(result.sampleRejections[0]!.reason).toBe('event_id: "e1" was already received on line 1 of this file with different content');
  });

  it('treats a re-delivery with its extra fields or line fields in another order as the same event', async () => {
    const base = { event_id: 'e1', order_id: 'o1', customer_id: 'c1', occurred_at: '2024-03-31T10:00:00Z', total: 10, currency: 'EUR' };
    const result = await ingest(
      lines([
        { ...base, coupon: 'X', gift: [1], items: [{ sku: 'a', quantity: 1, unit_price: 10 }] },
        { ...base, items: [{ unit_price: 10, quantity: 1, sku: 'a' }], gift: [1], coupon: 'X' },
      ]),
    );
    expect(result).toMatchObject({ received: 2, accepted: 2, duplicates: 1, rejected: 0 });
  });

  it('flushes in bounded batches: many files, same rows, received = accepted + rejected', async () => {
    const events = Array.from({ length: 25 }, (_, index) =>
      orderEvent({
        event_id: `e${index}`,
        order_id: `o${index}`,
        customer_id: 'c',
        occurred_at: `2024-03-${String(1 + (index % 3)).padStart(2, '0')}T10:00:00Z`,
      }),
    );
    const result = await ingest(lines(events), { rowsPerFlush: 4 });
    expect(result.received).toBe(result.accepted + result.rejected);
    expect(result.stored).toBe(25);
    expect(result.keys.length).toBeGreaterThan(6);
    const engine = await DuckDbEngine.open();
    try {
      const counted = await engine.query(`select count(*), count(distinct event_id) from read_parquet('${join(directory.path, 'raw/orders/*/*.parquet')}')`);
      expect(counted.rows).toEqual([[25, 25]]);
    } finally {
      engine.close();
    }
  });

  it('keeps the unreadable tail of a truncated gzip file as one rejected record', async () => {
    const text = lines(
      Array.from({ length: 200 }, (_, index) =>
        orderEvent({ event_id: `e${index}`, order_id: `o${index}`, customer_id: 'c', occurred_at: '2024-03-01T10:00:00Z' }),
      ),
    );
    const zipped = gzipSync(text);
    const truncated = zipped.subarray(0, Math.floor(zipped.length / 2));
    const { createGunzip } = await import('node:zlib');
    const { Readable } = await import('node:stream');
    const stream = Readable.from([truncated]).pipe(createGunzip());
    const result = await ingestRecords(recordsOf('jsonl', stream), { eventType: 'orders', source: 't.jsonl.gz', store, receivedAt });
    expect(result.received).toBe(result.accepted + result.rejected);
    expect(result.rejected).toBeGreaterThanOrEqual(1);
    expect(result.sampleRejections.at(-1)!.reason).toMatch(/^input ended unexpectedly: /);
  });

  it('leaves no temporary files behind', async () => {
    await ingest(lines([orderEvent({ order_id: 'o1', customer_id: 'c1', occurred_at: '2024-03-31T10:00:00Z' })]));
    const names = await readdir(join(directory.path, 'raw/orders/dt=2024-04-02'));
    expect(names.every((name) => name.endsWith('.parquet'))).toBe(true);
  });
});

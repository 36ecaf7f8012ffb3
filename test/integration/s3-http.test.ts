import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../functions/adapters/aws/s3-store.ts';
import { ingestRecords } from '../../functions/core/ingest/ingest.ts';
import { recordsFromStream } from '../../functions/core/ingest/open-input.ts';
import { readParquetRows } from '../../functions/core/lake/parquet.ts';
import { orderEvent } from '../support/events.ts';
import { temporaryDirectory } from '../support/cli.ts';
import { startS3Server } from '../support/s3-server.ts';

/**
 * The S3 store over real HTTP, against s3rver (a local S3-compatible server) started and
 * stopped here: the SDK's signing, paging, streaming and error handling as they go over the
 * wire, which the client mocks of the unit tests skip. What s3rver cannot show (docs/aws.md, "What
 * the tests cannot show"): conditional writes, KMS, versioning, bucket policies and TLS, throttling.
 */
let stopServer: () => Promise<void>;
let store: S3ObjectStore;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const directory = await temporaryDirectory();
  cleanup = directory.cleanup;
  const server = await startS3Server(join(directory.path, 's3'), ['lake']);
  stopServer = server.stop;
  const client = new S3Client({
    endpoint: server.endpoint,
    forcePathStyle: true,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  store = new S3ObjectStore(client, 'lake', { maxAttempts: 2, baseDelayMs: 10 });
});

afterAll(async () => {
  await stopServer?.();
  await cleanup?.();
});

describe('the S3 object store over HTTP', () => {
  it('puts and gets objects byte for byte, text and binary', async () => {
    const binary = Uint8Array.from({ length: 256 }, (_, index) => index);
    await store.put('raw/orders/dt=2024-01-01/part-1.parquet', binary);
    await store.put('published/campaigns/as_of=2024-01-01/sent-1.jsonl', 'é ✓ "quoted"\n');
    expect(await store.get('raw/orders/dt=2024-01-01/part-1.parquet')).toEqual(binary);
    expect(new TextDecoder().decode(await store.get('published/campaigns/as_of=2024-01-01/sent-1.jsonl'))).toBe('é ✓ "quoted"\n');
    await expect(store.get('raw/orders/dt=2024-01-01/missing.parquet')).rejects.toMatchObject({ name: 'NoSuchKey' });
  });

  it('lists every key under a prefix across pages of 1,000, sorted, and deletes in batches of 1,000', async () => {
    const keys = Array.from({ length: 1_250 }, (_, index) => `locks/many/${String(index).padStart(5, '0')}.json`);
    for (let start = 0; start < keys.length; start += 100) await Promise.all(keys.slice(start, start + 100).map((key) => store.put(key, '{}')));
    await store.put('locks/manyother/x.json', '{}');
    expect(await store.list('locks/many/')).toEqual(keys);
    await store.delete([...keys.slice(0, 1_100), 'locks/many/not-there.json']);
    expect(await store.list('locks/many/')).toEqual(keys.slice(1_100));
  }, 60_000);

  it('streams a large object in pieces and copies it server-side', async () => {
    const size = 24 * 1024 * 1024;
    const large = new Uint8Array(size);
    for (let index = 0; index < size; index += 4096) large[index] = index % 251;
    await store.put('landing/orders/large.bin', large);
    let bytes = 0;
    let chunks = 0;
    let checksum = 0;
    for await (const chunk of await store.stream('landing/orders/large.bin')) {
      for (let index = (4096 - (bytes % 4096)) % 4096; index < chunk.length; index += 4096) checksum += chunk[index]!;
      bytes += chunk.length;
      chunks += 1;
    }
    expect(bytes).toBe(size);
    expect(chunks).toBeGreaterThan(1);
    expect(checksum).toBe(Array.from({ length: size / 4096 }, (_, index) => (index * 4096) % 251).reduce((a, b) => a + b, 0));
    await store.copy('landing/orders/large.bin', 'landing/orders/copy.bin');
    expect((await store.get('landing/orders/copy.bin')).length).toBe(size);
  }, 60_000);

  it('ingests a gzipped file dropped under landing/ as the file function does, streaming it from S3 into raw/ and rejected/', async () => {
    const lines = Array.from({ length: 20_000 }, (_, index) =>
      index % 1000 === 999
        ? '{"broken": '
        : JSON.stringify(
            orderEvent({
              order_id: `o${index}`,
              customer_id: `c${index % 700}`,
              occurred_at: `2024-03-${String(1 + (index % 28)).padStart(2, '0')}T10:00:00Z`,
            }),
          ),
    );
    await store.put('landing/orders/2024-03.jsonl.gz', gzipSync(`${lines.join('\n')}\n`));
    const result = await ingestRecords(recordsFromStream('landing/orders/2024-03.jsonl.gz', await store.stream('landing/orders/2024-03.jsonl.gz')), {
      eventType: 'orders',
      source: 'landing/orders/2024-03.jsonl.gz',
      store,
      ingestId: 'http-1',
    });
    expect(result).toMatchObject({ received: 20_000, accepted: 19_980, rejected: 20 });
    // A month of events, received today: one file under today's partition.
    const rawKeys = (await store.list('raw/orders/')).filter((key) => key.includes('/part-http-1-'));
    expect(rawKeys).toEqual([expect.stringMatching(/^raw\/orders\/dt=\d{4}-\d{2}-\d{2}\/part-http-1-0000\.parquet$/)]);
    let rows = 0;
    for (const key of rawKeys) rows += readParquetRows(await store.get(key)).length;
    expect(rows).toBe(19_980);
    expect(await store.list('rejected/orders/')).toHaveLength(1);
  }, 60_000);
});

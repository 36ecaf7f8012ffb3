import { gzipSync } from 'node:zlib';
import { ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../functions/adapters/aws/s3-store.ts';
import { ErasedCustomers } from '../../functions/core/erasure/register.ts';
import { ingestMessages } from '../../functions/core/ingest/ingest-messages.ts';
import { ColumnBatch } from '../../functions/core/lake/parquet.ts';
import { rawColumns } from '../../functions/core/lake/raw-tables.ts';
import { orderEvent } from '../support/events.ts';
import { importHandler, lambdaContext, lambdaEnvironment, sqsRecord } from '../support/lambda.ts';
import { VersionedBucket } from '../support/versioned-s3.ts';

const s3 = mockClient(S3Client);
// The mocks patch the client classes for the whole process: put them back for the next file.
afterAll(() => {
  s3.restore();
});
let bucket: VersionedBucket;

beforeAll(() => {
  Object.assign(process.env, lambdaEnvironment);
});

beforeEach(() => {
  s3.reset();
  bucket = new VersionedBucket(s3);
});

const encoder = new TextEncoder();
const mentions = (body: Uint8Array, id: string) => Buffer.from(body).toString('latin1').includes(id);

/** Raw orders of two customers as ingest writes them, and a gzip landing file naming both. */
function lakeWithTwoCustomers() {
  const orders = new ColumnBatch(rawColumns.orders);
  for (const customer of ['gone', 'stays']) {
    orders.append({
      ...orderEvent({ event_id: `e-${customer}`, order_id: `o-${customer}`, customer_id: customer, occurred_at: '2026-11-01T10:00:00Z' }),
      occurred_at: Date.parse('2026-11-01T10:00:00Z'),
      received_at: Date.parse('2026-11-02T00:00:00Z'),
      ingest_id: 'i1',
      source: 'orders.jsonl',
      record_number: 1,
    });
  }
  // An earlier version of the raw file (as a compaction or a re-ingest leaves one), then the current one.
  bucket.add('raw/orders/dt=2026-11-01/part-i1-0000.parquet', orders.toParquet());
  bucket.add('raw/orders/dt=2026-11-01/part-i1-0000.parquet', orders.toParquet());
  bucket.add('landing/orders/orders.jsonl.gz', gzipSync(`${JSON.stringify({ customer_id: 'gone' })}\n${JSON.stringify({ customer_id: 'stays' })}\n`));
  bucket.add('runs/customer_summary/run_id=r1/part-0.parquet', encoder.encode('a run output naming gone'));
}

describe('deleting older versions', () => {
  it('goes through every page of versions and deletes only the noncurrent ones', async () => {
    bucket = new VersionedBucket(s3, 2);
    for (const key of ['raw/a.parquet', 'raw/b.parquet', 'raw/c.parquet'])
      for (let version = 0; version < 3; version += 1) bucket.add(key, encoder.encode(`${key} ${version}`));
    bucket.add('curated/t/as_of=2026-01-01/data.parquet', encoder.encode('only version'));
    const { deleteNoncurrentVersions } = await import('../../functions/adapters/aws/s3-versions.ts');
    expect(await deleteNoncurrentVersions(new S3Client({}), 'lake', ['raw/', 'curated/'])).toBe(6);
    expect(s3.commandCalls(ListObjectVersionsCommand).length).toBeGreaterThan(3);
    for (const key of ['raw/a.parquet', 'raw/b.parquet', 'raw/c.parquet']) {
      expect(bucket.objects.get(key)).toHaveLength(1);
      expect(new TextDecoder().decode(bucket.current(key))).toBe(`${key} 2`);
    }
    expect(bucket.objects.get('curated/t/as_of=2026-01-01/data.parquet')).toHaveLength(1);
  });
});

describe('erase-customers handler', () => {
  it('erases through S3, deletes the older versions that still hold the customer, and keeps everyone else', async () => {
    lakeWithTwoCustomers();
    const { handler } = await importHandler('erase-customers');
    const response = await handler({ Records: [sqsRecord('m1', JSON.stringify({ customer_ids: ['gone'] }), null)] }, lambdaContext());
    expect(response).toEqual({ batchItemFailures: [] });
    // No object, and no version of one, still names the customer: the register holds a keyed id only.
    expect(
      bucket
        .allBodies()
        .filter(({ body }) => mentions(body, 'gone'))
        .map(({ key }) => key),
    ).toEqual([]);
    expect(bucket.allBodies().some(({ body }) => mentions(body, 'stays'))).toBe(true);
    expect(bucket.current('runs/customer_summary/run_id=r1/part-0.parquet')).toBeUndefined();
    // Only noncurrent versions were deleted by version id, never a current one.
    expect(s3.commandCalls(ListObjectVersionsCommand).length).toBeGreaterThan(0);
    expect(bucket.current('raw/orders/dt=2026-11-01/part-i1-0000.parquet')).toBeDefined();
    expect(bucket.objects.get('raw/orders/dt=2026-11-01/part-i1-0000.parquet')).toHaveLength(1);
    // The run lease was taken and given back.
    expect(bucket.keys().filter((key) => key.startsWith('locks/'))).toEqual([
      'locks/publish/000000000001.json',
      'locks/publish/000000000001.released',
      'locks/run/000000000001.json',
      'locks/run/000000000001.released',
    ]);
    // Ingest through the same bucket now refuses the customer.
    const store = new S3ObjectStore(new S3Client({}), 'lake');
    expect((await ErasedCustomers.load(store)).erasedOn('gone')).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const ingested = await ingestMessages(
      [
        {
          id: 'q1',
          eventType: 'orders',
          body: JSON.stringify(orderEvent({ event_id: 'e9', order_id: 'o9', customer_id: 'gone', occurred_at: '2026-11-05T00:00:00Z' })),
        },
      ],
      store,
    );
    expect(ingested).toMatchObject({ accepted: 0, rejected: 1 });
  });

  it('does it once per request: a redelivered message keeps the register entry, and the rewritten landing file is not ingested again', async () => {
    lakeWithTwoCustomers();
    const { handler } = await importHandler('erase-customers');
    const message = { Records: [sqsRecord('m1', JSON.stringify({ customer_ids: ['gone'] }), null)] };
    await handler(message, lambdaContext());
    const entry = bucket.current('erasures/register/sqs-m1.json')!;
    expect(JSON.parse(new TextDecoder().decode(entry)).removed.landing).toBe(1);
    expect(await handler(message, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(bucket.current('erasures/register/sqs-m1.json')).toEqual(entry);
    // S3 tells the file-ingest function about the rewrite; it skips the file.
    const { handler: ingestFile } = await importHandler('ingest-file');
    const before = bucket.keys();
    await ingestFile({
      Records: [{ eventTime: '2026-12-03T00:00:00.000Z', s3: { object: { key: 'landing/orders/orders.jsonl.gz', eTag: 'e2' } } }],
    } as unknown as S3Event);
    expect(bucket.keys()).toEqual(before);
  });

  it('refuses a request whose ids no event could carry, without repeating them anywhere', async () => {
    const { handler } = await importHandler('erase-customers');
    const response = await handler({ Records: [sqsRecord('blank', JSON.stringify({ customer_ids: ['  '] }), null)] }, lambdaContext());
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'blank' }] });
    expect(bucket.keys()).toEqual([]);
  });

  it('leaves a request for later while a run holds the lake, and refuses a malformed one', async () => {
    bucket.add(
      'locks/run/000000000001.json',
      encoder.encode(
        JSON.stringify({
          holder: 'arn:aws:states:x:execution:JobGraph:e1',
          nonce: 'n',
          acquired_at: '2026-01-01T00:00:00Z',
          expires_at: '2099-01-01T00:00:00Z',
        }),
      ),
    );
    const { handler } = await importHandler('erase-customers');
    const response = await handler(
      { Records: [sqsRecord('busy', JSON.stringify({ customer_ids: ['gone'] }), null), sqsRecord('bad', '{"customer_id": "gone"}', null)] },
      lambdaContext(),
    );
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'busy' }, { itemIdentifier: 'bad' }] });
    expect(bucket.keys().filter((key) => key.startsWith('erasures/'))).toEqual([]);
  });
});

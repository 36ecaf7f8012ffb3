import { Readable } from 'node:stream';
import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { PutObjectCommandInput } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import type { S3Event, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { audienceQueryResult, importHandler, lambdaContext, sqsRecord } from '../support/lambda.ts';

/**
 * Issue 8, security: the Lambdas log ids, keys and counts, never the content of an event
 * (customer ids, free text, extras). CloudWatch logs are read by more people, and kept under
 * other rules, than the lake. Every payload field below carries a marker; the test captures
 * everything the process writes (Powertools Logger and Metrics write JSON to process.stdout and
 * process.stderr, the batch processor to the global console) at the most verbose level, and
 * looks for the marker.
 */

const MARKER = 'SECRET';

const s3 = mockClient(S3Client);
const athena = mockClient(AthenaClient);
const sqs = mockClient(SQSClient);
// The mocks patch the client classes for the whole process: put them back for the next file.
afterAll(() => {
  s3.restore();
  athena.restore();
  sqs.restore();
});

let output: string[] = [];
const record = (chunk: unknown) => {
  output.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
  return true;
};
const spies: { mockRestore: () => void }[] = [];

beforeAll(() => {
  Object.assign(process.env, {
    LAKE_BUCKET: 'test-lake',
    CAMPAIGN_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/campaigns',
    ATHENA_WORKGROUP: 'pipeline',
    GLUE_DATABASE: 'marketing',
    POWERTOOLS_LOG_LEVEL: 'DEBUG',
    AWS_LAMBDA_LOG_LEVEL: 'DEBUG',
  });
  // Installed before any handler is imported: loggers keep references to what they write to.
  spies.push(vi.spyOn(process.stdout, 'write').mockImplementation(record));
  spies.push(vi.spyOn(process.stderr, 'write').mockImplementation(record));
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    spies.push(vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void record(args.map(String).join(' '))));
  }
});

afterAll(() => {
  for (const spy of spies) spy.mockRestore();
});

beforeEach(() => {
  s3.reset();
  // An empty lake by default; ingest lists the erasure register before it starts.
  s3.on(ListObjectsV2Command).resolves({ Contents: [] });
  athena.reset();
  sqs.reset();
  output = [];
});

const logged = () => output.join('');
/** The structured log entries (one JSON object per line) with a given message. */
const entries = (message: string) =>
  logged()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry['message'] === message);
const puts = () => s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input as PutObjectCommandInput);
const body = (bytes: Uint8Array) => Object.assign(Readable.from([bytes]), { transformToByteArray: async () => bytes });

const order = {
  event_id: 'evt-1',
  order_id: `${MARKER}-ORDER-1`,
  customer_id: `${MARKER}-CUSTOMER-123`,
  occurred_at: '2024-01-01T10:00:00Z',
  total: 42,
  currency: 'EUR',
  channel: `${MARKER}-CHANNEL`,
  coupon: `${MARKER}-COUPON`,
};
const refusedOrder = { ...order, event_id: 'evt-2', total: -1, comment: `${MARKER}-COMMENT` };
const brokenLine = `{"event_id": "evt-3", "customer_id": "${MARKER}-BROKEN`;

describe('ingest-file handler', () => {
  const event = {
    Records: [{ eventTime: '2024-01-02T00:00:00.000Z', s3: { bucket: { name: 'test-lake' }, object: { key: 'landing/orders/batch-7.jsonl', eTag: 'abc' } } }],
  } as unknown as S3Event;
  const file = new TextEncoder().encode([JSON.stringify(order), JSON.stringify(refusedOrder), brokenLine].join('\n'));

  it('logs the key and the counts of a file, not its events', async () => {
    s3.on(GetObjectCommand).callsFake(() => ({ Body: body(file) }));
    s3.on(PutObjectCommand).resolves({});
    const { handler } = await importHandler('ingest-file');
    await handler(event);
    // The payloads did go through the handler: the refused ones are kept, verbatim, in the lake.
    expect(puts().some((input) => input.Key!.startsWith('rejected/') && String(input.Body).includes(`${MARKER}-COMMENT`))).toBe(true);
    expect(entries('ingested file')).toEqual([expect.objectContaining({ key: 'landing/orders/batch-7.jsonl', received: 3, accepted: 1, rejected: 2 })]);
    expect(logged()).not.toContain(MARKER);
  });

  it('fails without putting event content in the error, which Lambda logs', async () => {
    s3.on(GetObjectCommand).callsFake(() => ({ Body: body(file) }));
    s3.on(PutObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    const { handler } = await importHandler('ingest-file');
    const error = (await handler(event).catch((caught: unknown) => caught)) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(`${error.message}\n${error.stack}`).not.toContain(MARKER);
    expect(logged()).not.toContain(MARKER);
  });
});

describe('ingest-queue handler', () => {
  const context = lambdaContext();
  const event = {
    Records: [
      sqsRecord('m1', JSON.stringify(order)),
      sqsRecord('m2', JSON.stringify(refusedOrder)),
      sqsRecord('m3', brokenLine),
      sqsRecord('m4', JSON.stringify(order), null),
    ],
  } as SQSEvent;

  it('logs counts, not messages, also when a record cannot be stored', async () => {
    const { handler } = await importHandler('ingest-queue');
    s3.on(PutObjectCommand).resolves({});
    await handler(event, context);
    expect(entries('ingested batch')).toEqual([expect.objectContaining({ records: 4, accepted: 1, rejected: 3, failed: 0 })]);
    // The event's own file cannot be written: that record comes back as a batch item failure.
    s3.on(PutObjectCommand).callsFake((input: PutObjectCommandInput) => {
      if (input.Key!.startsWith('raw/')) throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
      return {};
    });
    expect((await handler(event, context)).batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    // Nothing can be written: the whole batch fails, and Lambda logs the error it throws.
    s3.on(PutObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    const error = (await handler(event, context).catch((caught: unknown) => caught)) as Error & { errors?: Error[] };
    expect(error).toBeInstanceOf(Error);
    const thrown = [error, ...(error.errors ?? [])].map((item) => `${item.message}\n${item.stack}`).join('\n');
    expect(thrown).not.toContain(MARKER);
    expect(logged()).not.toContain(MARKER);
  });
});

describe('publish handler', () => {
  it('logs what it sent as counts, not the customers it sent to', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q1' });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
    const row = (customer: string) => ['win_back', customer, '80', `${MARKER}-REASON`, '1', '120.5', '3', '120', '9', 'at_risk', '2024-03-31'];
    athena.on(GetQueryResultsCommand).resolves(audienceQueryResult([`${MARKER}-CUSTOMER-123`, `${MARKER}-CUSTOMER-456`].map(row)));
    s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    s3.on(PutObjectCommand).resolves({});
    // The first message is delivered, the second refused by SQS: the run fails and says how many.
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({
      Successful: [{ Id: input.Entries![0]!.Id, MessageId: 'x', MD5OfMessageBody: 'y' }],
      Failed: input.Entries!.slice(1).map((entry) => ({ Id: entry.Id, SenderFault: true, Code: 'InvalidParameterValue', Message: 'refused' })),
    }));
    const { handler } = await importHandler('publish');
    const error = (await handler({ as_of: '2024-03-31' }).catch((caught: unknown) => caught)) as Error;
    expect(error.message).toMatch(/^1 campaign messages could not be sent/);
    expect(`${error.message}\n${error.stack}`).not.toContain(MARKER);
    // The customers did reach the queue: that is where their ids belong.
    expect(sqs.commandCalls(SendMessageBatchCommand)[0]!.args[0].input.Entries![0]!.MessageBody).toContain(`${MARKER}-CUSTOMER`);
    expect(entries('published campaign audience')).toEqual([expect.objectContaining({ as_of: '2024-03-31', audience: 2, sent: 1, failed: 1 })]);
    expect(logged()).not.toContain(MARKER);
  });
});

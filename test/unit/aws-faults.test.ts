import { Readable } from 'node:stream';
import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand, StopQueryExecutionCommand } from '@aws-sdk/client-athena';
import type { QueryExecutionState } from '@aws-sdk/client-athena';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { PutObjectCommandInput } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AthenaQueryEngine, QueryCancelledError, QueryTimeoutError } from '../../functions/adapters/aws/athena-engine.ts';
import { RetriesExhaustedError } from '../../functions/adapters/aws/retry.ts';
import { S3ObjectStore, StreamInterruptedError } from '../../functions/adapters/aws/s3-store.ts';
import { readParquetRows } from '../../functions/core/lake/parquet.ts';
import { orderEvent, surveyEvent } from '../support/events.ts';
import { importHandler, lambdaContext, lambdaEnvironment, sqsRecord } from '../support/lambda.ts';

/*
 * AWS faults the adapters and the ingest-queue Lambda must survive: throttling, 5xx and
 * timeouts are retried with backoff and end in an error that names the call; a broken stream
 * never silently repeats or drops bytes; a stopped or timed-out query publishes nothing; and no
 * SQS record is acknowledged unless its data (or its rejection) is in the lake.
 */

const s3 = mockClient(S3Client);
const athena = mockClient(AthenaClient);
const sqs = mockClient(SQSClient);
// The mocks patch the client classes for the whole process: put them back for the next file.
afterAll(() => {
  s3.restore();
  athena.restore();
  sqs.restore();
});

beforeAll(() => {
  Object.assign(process.env, lambdaEnvironment);
});

beforeEach(() => {
  s3.reset();
  // An empty lake by default; ingest lists the erasure register before it starts.
  s3.on(ListObjectsV2Command).resolves({ Contents: [] });
  athena.reset();
  sqs.reset();
});

const named = (name: string, status?: number) =>
  Object.assign(new Error(`${name} happened`), { name, ...(status ? { $metadata: { httpStatusCode: status } } : {}) });
const coded = (code: string) => Object.assign(new Error(`socket ${code}`), { code });
const denied = () => named('AccessDenied', 403);
const bytes = (text: string) => new TextEncoder().encode(text);
/** A GetObject body whose stream yields `chunks` and then, if given, fails. */
function body(chunks: string[], failure?: Error) {
  const stream = Readable.from(
    (async function* () {
      for (const chunk of chunks) yield bytes(chunk);
      if (failure) throw failure;
    })(),
  );
  return Object.assign(stream, {
    transformToByteArray: async () => {
      const parts: Uint8Array[] = [];
      for await (const part of stream) parts.push(part);
      return new Uint8Array(Buffer.concat(parts));
    },
  });
}

describe('S3 object store under faults', () => {
  const sleeps: number[] = [];
  const store = (maxAttempts = 4) =>
    new S3ObjectStore(new S3Client({ region: 'eu-west-1' }), 'lake', { maxAttempts, sleep: async (ms) => void sleeps.push(ms) });
  beforeEach(() => void (sleeps.length = 0));

  it('retries a 503 SlowDown on a later list page with the same continuation token, listing each key once', async () => {
    s3.on(ListObjectsV2Command)
      .resolvesOnce({ Contents: [{ Key: 'p/a' }], IsTruncated: true, NextContinuationToken: 't1' })
      .rejectsOnce(named('SlowDown', 503))
      .resolves({ Contents: [{ Key: 'p/b' }], IsTruncated: false });
    expect(await store().list('p/')).toEqual(['p/a', 'p/b']);
    expect(s3.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input.ContinuationToken)).toEqual([undefined, 't1', 't1']);
  });

  const timeouts = {
    TimeoutError: named('TimeoutError'),
    RequestTimeout: named('RequestTimeout', 400),
    ETIMEDOUT: coded('ETIMEDOUT'),
    ECONNRESET: coded('ECONNRESET'),
  };
  const operations = [
    { name: 'put', command: PutObjectCommand, ok: {}, act: (target: S3ObjectStore) => target.put('raw/k', 'x'), expected: undefined },
    {
      name: 'list',
      command: ListObjectsV2Command,
      ok: { Contents: [{ Key: 'raw/k' }] },
      act: (target: S3ObjectStore) => target.list('raw/'),
      expected: ['raw/k'],
    },
    { name: 'get', command: GetObjectCommand, ok: undefined, act: (target: S3ObjectStore) => target.get('raw/k'), expected: bytes('data') },
  ] as const;

  for (const operation of operations) {
    for (const [label, timeout] of Object.entries(timeouts)) {
      it(`${operation.name}: retries ${label} with growing delays, then succeeds`, async () => {
        s3.on(operation.command as typeof PutObjectCommand)
          .rejectsOnce(timeout)
          .rejectsOnce(timeout)
          .callsFake(() => operation.ok ?? { Body: body(['da', 'ta']) });
        expect(await operation.act(store())).toEqual(operation.expected);
        expect(s3.commandCalls(operation.command as typeof PutObjectCommand)).toHaveLength(3);
        // Jittered between half and all of 200 ms, then of 400 ms.
        expect(sleeps[0]).toBeGreaterThanOrEqual(100);
        expect(sleeps[0]).toBeLessThanOrEqual(200);
        expect(sleeps[1]).toBeGreaterThanOrEqual(200);
        expect(sleeps[1]).toBeLessThanOrEqual(400);
      });
    }

    it(`${operation.name}: gives up after the attempt limit with an error naming the call`, async () => {
      s3.on(operation.command as typeof PutObjectCommand).rejects(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));
      const failure = operation.act(store(4));
      await expect(failure).rejects.toBeInstanceOf(RetriesExhaustedError);
      await expect(failure).rejects.toThrow(/^S3 \w+ s3:\/\/lake\/raw\/k? failed after 4 attempts: TimeoutError: socket hang up$/);
      expect(s3.commandCalls(operation.command as typeof PutObjectCommand)).toHaveLength(4);
    });
  }

  it('get: a body that breaks off halfway is read again from the start', async () => {
    s3.on(GetObjectCommand)
      .resolvesOnce({ Body: body(['da'], coded('ECONNRESET')) as never })
      .resolves({ Body: body(['da', 'ta']) as never });
    expect(new TextDecoder().decode(await store().get('raw/k'))).toBe('data');
  });

  const readAll = async (chunks: AsyncIterable<Uint8Array>) => {
    let text = '';
    for await (const chunk of chunks) text += new TextDecoder().decode(chunk);
    return text;
  };

  it('stream: a break before the first byte reaches the reader reopens the object', async () => {
    s3.on(GetObjectCommand)
      .resolvesOnce({ Body: body([], coded('ECONNRESET')) as never })
      .resolves({ Body: body(['da', 'ta']) as never });
    expect(await readAll(await store().stream('landing/orders/big.jsonl'))).toBe('data');
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(2);
  });

  it('stream: a break after bytes reached the reader is a clear error, never a silent restart that repeats them', async () => {
    s3.on(GetObjectCommand).callsFake(() => ({ Body: body(['abc', 'def'], coded('ECONNRESET')) }));
    const failure = readAll(await store().stream('landing/orders/big.jsonl'));
    await expect(failure).rejects.toBeInstanceOf(StreamInterruptedError);
    await expect(failure).rejects.toThrow('S3 GetObject s3://lake/landing/orders/big.jsonl broke off after 6 bytes: socket ECONNRESET');
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(1);
  });

  it('stream: a reader that stops early closes the connection', async () => {
    const open = body(['abc', 'def', 'ghi']);
    s3.on(GetObjectCommand).resolves({ Body: open as never });
    for await (const chunk of await store().stream('k')) if (chunk.length > 0) break;
    expect(open.destroyed).toBe(true);
  });
});

describe('Athena query engine under faults', () => {
  const sleeps: number[] = [];
  const engine = (options: Partial<ConstructorParameters<typeof AthenaQueryEngine>[0]> = {}) =>
    new AthenaQueryEngine({
      client: new AthenaClient({ region: 'eu-west-1' }),
      workGroup: 'pipeline',
      database: 'lake',
      sleep: async (ms) => void sleeps.push(ms),
      ...options,
    });
  const status = (State: QueryExecutionState, extra: object = {}) => ({ QueryExecution: { QueryExecutionId: 'q1', Status: { State, ...extra } } });
  beforeEach(() => {
    sleeps.length = 0;
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q1' });
  });
  afterEach(() => void vi.useRealTimers());

  it('backs off throttled polls (TooManyRequestsException, ThrottlingException) and keeps waiting for the query', async () => {
    athena
      .on(GetQueryExecutionCommand)
      .rejectsOnce(named('TooManyRequestsException', 400))
      .rejectsOnce(named('ThrottlingException', 400))
      .resolvesOnce(status('RUNNING'))
      .resolves(status('SUCCEEDED'));
    await engine().execute('select 1');
    expect(sleeps).toEqual([500, 1000, 2000]);
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(1);
  });

  it('re-reads a throttled result page with the same token, so no row is lost or repeated', async () => {
    athena.on(GetQueryExecutionCommand).resolves(status('SUCCEEDED'));
    const ResultSetMetadata = { ColumnInfo: [{ Name: 'customer_id', Type: 'varchar' }] };
    athena
      .on(GetQueryResultsCommand)
      .resolvesOnce({
        ResultSet: { ResultSetMetadata, Rows: [{ Data: [{ VarCharValue: 'customer_id' }] }, { Data: [{ VarCharValue: 'c1' }] }] },
        NextToken: 'page2',
      })
      .rejectsOnce(named('ThrottlingException', 400))
      .resolvesOnce({ ResultSet: { ResultSetMetadata, Rows: [{ Data: [{ VarCharValue: 'c2' }] }] } });
    expect((await engine().query('select customer_id from x')).rows).toEqual([['c1'], ['c2']]);
    expect(athena.commandCalls(GetQueryResultsCommand).map((call) => call.args[0].input.NextToken)).toEqual([undefined, 'page2', 'page2']);
  });

  it('gives up on results throttled past the attempt limit with an error naming the call', async () => {
    athena.on(GetQueryExecutionCommand).resolves(status('SUCCEEDED'));
    athena.on(GetQueryResultsCommand).rejects(named('TooManyRequestsException', 400));
    await expect(engine().query('select 1')).rejects.toThrow('Athena GetQueryResults q1 failed after 6 attempts: TooManyRequestsException happened');
  });

  /** A clock that moves only when the engine sleeps, so the timeout is reached in no real time. */
  const virtualClock = () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    return { sleep: async (ms: number) => void vi.setSystemTime(Date.now() + ms) };
  };

  it('stops a query still running at the timeout and says so', async () => {
    const clock = virtualClock();
    athena.on(GetQueryExecutionCommand).resolves(status('RUNNING'));
    athena.on(StopQueryExecutionCommand).resolves({});
    const failure = engine({ timeoutMs: 10_000, ...clock }).execute('select 1');
    await expect(failure).rejects.toBeInstanceOf(QueryTimeoutError);
    await expect(failure).rejects.toThrow('Athena query q1 did not finish within 10000 ms (last state RUNNING); asked Athena to stop it');
    expect(athena.commandCalls(StopQueryExecutionCommand).map((call) => call.args[0].input.QueryExecutionId)).toEqual(['q1']);
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(1);
  });

  it('holds every query of an invocation to one deadline, retries included', async () => {
    const clock = virtualClock();
    athena.on(GetQueryExecutionCommand).resolvesOnce(status('SUCCEEDED')).resolves(status('RUNNING'));
    athena.on(StopQueryExecutionCommand).resolves({});
    const invocation = engine({ deadline: Date.now() + 20_000, ...clock });
    await invocation.execute('select 1');
    await clock.sleep(15_000);
    // The second query has 5 s left, not a fresh timeout of its own.
    await expect(invocation.execute('select 2')).rejects.toThrow(
      /Athena query q1 did not finish within 5000 ms \(last state RUNNING\); asked Athena to stop it/,
    );
  });

  it('gives each invocation its own tokens, so a rerun never gets back a query an earlier one stopped', async () => {
    athena.on(GetQueryExecutionCommand).resolves(status('SUCCEEDED'));
    const tokenOf = async (tokenScope?: string) => {
      athena.resetHistory();
      await engine({ ...(tokenScope && { tokenScope }) }).execute('select 1');
      return athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input.ClientRequestToken;
    };
    expect(await tokenOf('request-1')).toBe(await tokenOf('request-1'));
    expect(await tokenOf('request-1')).not.toBe(await tokenOf('request-2'));
  });

  it('still reports the timeout when the stop itself is refused, and when every poll was throttled', async () => {
    const clock = virtualClock();
    athena.on(GetQueryExecutionCommand).rejects(named('ThrottlingException', 400));
    athena.on(StopQueryExecutionCommand).rejects(denied());
    const failure = engine({ timeoutMs: 10_000, ...clock }).execute('select 1');
    await expect(failure).rejects.toThrow(
      'Athena query q1 did not finish within 10000 ms (last state unknown, last poll ThrottlingException happened); could not stop it: AccessDenied happened',
    );
  });

  it('a query CANCELLED at the bytes-scanned cutoff fails query() before any result is read', async () => {
    athena.on(GetQueryExecutionCommand).resolves(status('CANCELLED', { StateChangeReason: 'Query exhausted the BytesScannedCutoffPerQuery limit' }));
    await expect(engine().query('select * from campaign_audience')).rejects.toBeInstanceOf(QueryCancelledError);
    expect(athena.commandCalls(GetQueryResultsCommand)).toHaveLength(0);
  });

  it('publish: an audience query CANCELLED at the cutoff sends no message and records nothing as published', async () => {
    athena.on(GetQueryExecutionCommand).resolves(status('CANCELLED', { StateChangeReason: 'Query exhausted the BytesScannedCutoffPerQuery limit' }));
    s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    s3.on(PutObjectCommand).resolves({});
    const { handler } = await importHandler('publish');
    await expect(handler({ as_of: '2024-03-31' })).rejects.toBeInstanceOf(QueryCancelledError);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });
});

describe('ingest-queue Lambda under faults', () => {
  const context = lambdaContext();
  const order = (eventId: string, occurredAt: string, total = 10) =>
    JSON.stringify(orderEvent({ event_id: eventId, order_id: `o-${eventId}`, customer_id: 'c1', occurred_at: occurredAt, total }));

  /** Puts succeed, except for keys that start with one of `failing`; returns what was stored. */
  function lake(failing: readonly string[] = []) {
    const stored = new Map<string, PutObjectCommandInput['Body']>();
    s3.on(PutObjectCommand).callsFake((input: PutObjectCommandInput) => {
      if (failing.some((prefix) => input.Key!.startsWith(prefix))) throw denied();
      stored.set(input.Key!, input.Body);
    });
    const raw = () =>
      [...stored]
        .filter(([key]) => key.startsWith('raw/'))
        .flatMap(([key, data]) => readParquetRows(data as Uint8Array).map((row): Record<string, unknown> & { key: string } => ({ ...row, key })));
    const rejected = () =>
      [...stored]
        .filter(([key]) => key.startsWith('rejected/'))
        .flatMap(([, data]) =>
          String(data)
            .trim()
            .split('\n')
            .map((line) => JSON.parse(line) as { source: string; reason: string }),
        );
    return { raw, rejected };
  }

  /** The item identifiers the queue would deliver again: all of them when the handler throws. */
  async function redelivered(event: SQSEvent): Promise<string[]> {
    const { handler } = await importHandler('ingest-queue');
    try {
      return (await handler(event, context)).batchItemFailures.map((failure) => failure.itemIdentifier);
    } catch (error) {
      expect((error as Error).name).toBe('FullBatchFailureError');
      return event.Records.map((record) => record.messageId);
    }
  }

  it('keeps a repeat of an event_id with other content and another date under rejected/, naming the first message', async () => {
    const { raw, rejected } = lake();
    const event = { Records: [sqsRecord('m1', order('evt-x', '2024-01-01T10:00:00Z')), sqsRecord('m2', order('evt-x', '2024-01-05T10:00:00Z', 99))] };
    expect(await redelivered(event)).toEqual([]);
    expect(raw().map((row) => [row.key.split('/')[1], row['source']])).toEqual([['orders', 'message:m1']]);
    expect(rejected()).toEqual([
      expect.objectContaining({ source: 'message:m2', reason: 'event_id: "evt-x" was already received in message m1 of this batch with different content' }),
    ]);
  });

  it('reports the records whose rejected/ object could not be written, and only them', async () => {
    lake(['rejected/']);
    const event = {
      Records: [
        sqsRecord('m1', order('evt-1', '2024-01-01T10:00:00Z')),
        sqsRecord('m2', '{"broken'),
        sqsRecord('m3', order('evt-1', '2024-01-02T10:00:00Z', 5)),
        sqsRecord('m4', '{}', null),
      ],
    };
    expect((await redelivered(event)).sort()).toEqual(['m2', 'm3', 'm4']);
  });

  it('acknowledges an exact repeat only with the file that stores its first delivery', async () => {
    lake(['raw/orders/']);
    const first = order('evt-1', '2024-01-01T10:00:00Z');
    const survey = JSON.stringify(surveyEvent({ event_id: 'evt-2', customer_id: 'c1', occurred_at: '2024-01-02T10:00:00Z', score: 9 }));
    const event = { Records: [sqsRecord('m1', first), sqsRecord('m2', survey, 'surveys'), sqsRecord('m3', first)] };
    expect((await redelivered(event)).sort()).toEqual(['m1', 'm3']);
  });

  it('when no put succeeds, fails the whole batch so that every record comes back', async () => {
    lake(['raw/', 'rejected/']);
    const { handler } = await importHandler('ingest-queue');
    const event = { Records: [sqsRecord('m1', order('evt-1', '2024-01-01T10:00:00Z')), sqsRecord('m2', '{"broken')] };
    await expect(handler(event, context)).rejects.toThrow('All records failed processing');
  });

  const DATES = ['2024-01-01', '2024-01-02', '2024-01-03'];
  const PREFIXES = [
    // A batch writes one raw file per event type, under the day it was received.
    'raw/orders/',
    'raw/surveys/',
    'rejected/orders/',
    'rejected/surveys/',
    'rejected/unknown/',
  ];
  const eventId = fc.constantFrom('e1', 'e2', 'e3');
  const date = fc.constantFrom(...DATES);
  const message = fc.oneof(
    fc.record({ eventId, date, total: fc.constantFrom(10, 20) }).map((m) => ({ type: 'orders', body: order(m.eventId, `${m.date}T10:00:00Z`, m.total) })),
    fc.record({ eventId, date, score: fc.constantFrom(0, 10) }).map((m) => ({
      type: 'surveys',
      body: JSON.stringify(surveyEvent({ event_id: m.eventId, customer_id: 'c1', occurred_at: `${m.date}T10:00:00Z`, score: m.score })),
    })),
    fc.record({ eventId, date }).map((m) => ({ type: 'orders', body: order(m.eventId, `${m.date}T10:00:00Z`, -1) })),
    fc.constant({ type: 'orders', body: '{"event_id": "e1"' }),
    fc.constant({ type: 'nonsense', body: '{}' }),
  );
  // Exact duplicates: some entries repeat the body of an earlier one.
  const batch = fc
    .array(fc.tuple(message, fc.option(fc.nat(), { nil: undefined })), { minLength: 1, maxLength: 12 })
    .map((entries) => entries.map(([entry, copyOf], index) => (copyOf !== undefined && index > 0 ? entries[copyOf % index]![0] : entry)));

  it('never acknowledges a record that is neither stored nor rejected with a reason, and reports no empty identifier', async () => {
    await fc.assert(
      fc.asyncProperty(batch, fc.subarray(PREFIXES), async (messages, failing) => {
        s3.reset();
        const { raw, rejected } = lake(failing);
        const records = messages.map((entry, index) => sqsRecord(`m${index}`, entry.body, entry.type));
        const failures = await redelivered({ Records: records });
        expect(failures.every((id) => id !== '' && records.some((record) => record.messageId === id))).toBe(true);
        const rows = raw();
        const reasons = new Map(rejected().map((line) => [line.source, line.reason]));
        for (const [index, record] of records.entries()) {
          if (failures.includes(record.messageId)) continue;
          if (reasons.get(`message:${record.messageId}`)) continue;
          // Stored: a raw row of its type with its event_id and its content (an exact repeat's row is the first delivery's).
          const sent = JSON.parse(record.body) as Record<string, unknown>;
          const kept = rows.filter((row) => row.key.startsWith(`raw/${messages[index]!.type}/`) && row['event_id'] === sent['event_id']);
          expect(kept, `message ${record.messageId}`).toHaveLength(1);
          expect(kept[0]).toMatchObject({
            occurred_at: Date.parse(String(sent['occurred_at'])),
            ...(sent['total'] !== undefined ? { total: sent['total'] } : { score: sent['score'] }),
          });
        }
      }),
      { numRuns: 150 },
    );
  });
});

import { Readable } from 'node:stream';
import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { CopyObjectCommand, DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { PutObjectCommandInput } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import type { S3Event, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ColumnBatch, readParquetRows } from '../../functions/core/lake/parquet.ts';
import { orderEvent, surveyEvent } from '../support/events.ts';
import { audienceQueryResult, importHandler, lambdaContext, lambdaEnvironment, sqsRecord } from '../support/lambda.ts';
import { simulateBgNbd } from '../support/simulate-clv.ts';
import { GRADIENT_WARM_START_SAMPLE } from '../../functions/core/clv/optimize.ts';

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

const context = lambdaContext();
/** An execution, and generation 1 of the run lease as its first state took it. */
const HOLDER = 'arn:aws:states:eu-west-1:123456789012:execution:JobGraph:e1';
const heldLease = new TextEncoder().encode(
  JSON.stringify({ holder: HOLDER, nonce: 'n', acquired_at: '2026-01-01T00:00:00Z', expires_at: '2099-01-01T00:00:00Z' }),
);
const puts = () => s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input as PutObjectCommandInput);
const body = (bytes: Uint8Array) => Object.assign(Readable.from([bytes]), { transformToByteArray: async () => bytes });

describe('ingest-queue handler', () => {
  const event: SQSEvent = {
    Records: [
      sqsRecord('m1', JSON.stringify(orderEvent({ order_id: 'o1', customer_id: 'c1', occurred_at: '2024-01-01T10:00:00Z' }))),
      sqsRecord('m2', '{"event_id": "broken"'),
      sqsRecord('m3', JSON.stringify(orderEvent({ order_id: 'o3', customer_id: 'c3', occurred_at: '2024-01-02T10:00:00Z' }))),
      sqsRecord('m4', JSON.stringify({ hello: 'world' }), null),
      sqsRecord('m5', JSON.stringify(surveyEvent({ customer_id: 'c1', occurred_at: '2024-01-01T12:00:00Z', score: 9 })), 'surveys'),
    ],
  };
  /** The UTC dates the handler may run on (a test that runs over midnight takes either). */
  const today = () => new Date().toISOString().slice(0, 10);

  it('stores good records, keeps bad ones with their reason, and reports no failure', async () => {
    s3.on(PutObjectCommand).resolves({});
    const { handler } = await importHandler('ingest-queue');
    const before = today();
    const response = await handler(event, context);
    expect(response.batchItemFailures).toEqual([]);
    const keys = puts()
      .map((input) => input.Key!)
      .sort();
    // One file per event type, under the day the batch was received, whatever the events' dates.
    const raw = keys.filter((key) => key.startsWith('raw/'));
    expect(raw.map((key) => key.split('/').slice(1, 3).join('/'))).toSatisfy((partitions: string[]) =>
      [before, today()].some((date) => partitions.join() === `orders/dt=${date},surveys/dt=${date}`),
    );
    const stored = puts().find((input) => input.Key!.startsWith('raw/orders/'))!;
    expect(readParquetRows(stored.Body as Uint8Array).map((row) => row['order_id'])).toEqual(['o1', 'o3']);
    const rejected = puts().filter((input) => input.Key!.startsWith('rejected/'));
    expect(rejected.map((input) => input.Key!.split('/')[1]).sort()).toEqual(['orders', 'unknown']);
    const reasons = rejected.flatMap((input) =>
      String(input.Body)
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).reason),
    );
    expect(reasons).toEqual(
      expect.arrayContaining([expect.stringMatching(/^invalid JSON/), expect.stringMatching(/^event_type: message attribute must be one of orders, surveys/)]),
    );
  });

  it('reports exactly the records whose data could not be stored, never an empty identifier', async () => {
    s3.on(PutObjectCommand).callsFake((input: PutObjectCommandInput) => {
      if (input.Key!.startsWith('raw/surveys/')) throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
      return {};
    });
    const { handler } = await importHandler('ingest-queue');
    const response = await handler(event, context);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm5' }]);
  });
});

describe('ingest-file handler', () => {
  it('streams a landing file through the ingest core with a batch id stable across redeliveries', async () => {
    const lines = [
      JSON.stringify(orderEvent({ order_id: 'o1', customer_id: 'c1', occurred_at: '2024-01-01T10:00:00Z' })),
      JSON.stringify(orderEvent({ order_id: 'o2', customer_id: 'c2', occurred_at: '2024-01-01T11:00:00Z', total: -1 })),
    ].join('\n');
    s3.on(GetObjectCommand).callsFake(() => ({ Body: body(new TextEncoder().encode(lines)) }));
    s3.on(PutObjectCommand).resolves({});
    const { handler } = await importHandler('ingest-file');
    const event = {
      Records: [{ eventTime: '2024-01-02T00:00:00.000Z', s3: { bucket: { name: 'test-lake' }, object: { key: 'landing/orders/day+1.jsonl', eTag: 'abc' } } }],
    } as unknown as S3Event;
    await handler(event);
    const firstKeys = puts()
      .map((input) => input.Key!)
      .sort();
    expect(s3.commandCalls(GetObjectCommand)[0]!.args[0].input.Key).toBe('landing/orders/day 1.jsonl');
    // The S3 event's time is when the file was received: its events go under that day.
    expect(firstKeys.some((key) => key.startsWith('raw/orders/dt=2024-01-02/'))).toBe(true);
    expect(firstKeys.some((key) => key.startsWith('rejected/orders/dt=2024-01-02/'))).toBe(true);
    s3.resetHistory();
    await handler(event);
    expect(
      puts()
        .map((input) => input.Key!)
        .sort(),
    ).toEqual(firstKeys);
  });

  it('takes the input from the landing folder: exchange rates under landing/fx-rates/', async () => {
    s3.on(GetObjectCommand).callsFake(() => ({ Body: body(new TextEncoder().encode('date,currency,rate\n2024-01-01,USD,0.9\n')) }));
    s3.on(PutObjectCommand).resolves({});
    const { handler, eventTypeOfKey } = await importHandler('ingest-file');
    expect(['landing/fx-rates/a.csv', 'landing/fx_rates/a.csv', 'landing/returns/a.csv', 'raw/orders/a.csv'].map(eventTypeOfKey)).toEqual([
      'fx_rates',
      'fx_rates',
      undefined,
      undefined,
    ]);
    await handler({
      Records: [{ eventTime: '2024-01-02T00:00:00.000Z', s3: { bucket: { name: 'test-lake' }, object: { key: 'landing/fx-rates/rates.csv', eTag: 'r1' } } }],
    } as unknown as S3Event);
    expect(
      puts()
        .map((input) => input.Key!)
        .filter((key) => key.startsWith('raw/')),
    ).toEqual([expect.stringMatching(/^raw\/fx_rates\/dt=2024-01-02\/part-.+\.parquet$/)]);
  });
});

describe('prepare-run handler', () => {
  it('plans every SQL step of a date as an UNLOAD to the run prefix, reading earlier outputs of the same run', async () => {
    const { handler } = await importHandler('prepare-run');
    const plan = await handler({ as_of: '2024-03-31', execution: 'exec-1' });
    expect(plan.run_id).toBe('exec-1-20240331');
    expect(Object.keys(plan.queries)).toContain('campaign_audience');
    expect(plan.queries['stg_orders']).toMatch(/^unload \(/);
    expect(plan.queries['stg_orders']).toContain("to 's3://test-lake/runs/stg_orders/run_id=exec-1-20240331/' with (format = 'PARQUET', compression = 'ZSTD')");
    expect(plan.queries['stg_orders']).toContain("from (select * from run_stg_order_events where run_id = 'exec-1-20240331') as stg_order_events");
    expect(plan.queries['stg_order_events']).toContain("at time zone 'Europe/Berlin'");
    expect(plan.queries['campaign_audience']).toContain("(select * from run_customer_clv where run_id = 'exec-1-20240331') as customer_clv");
    expect(plan.queries['campaign_audience']).toContain('from published_messages');
    expect(plan.tokens['stg_orders']).toMatch(/^[0-9a-f]{64}$/);
    // The plan sits in each date's state (256 KiB at most) with the date and, on failure, the error: room is left for them.
    expect(JSON.stringify(plan).length).toBeLessThan(192 * 1024);
    // Each date of a backfill has a run of its own.
    expect((await handler({ as_of: '2024-04-01', execution: 'exec-1' })).run_id).toBe('exec-1-20240401');
  });
});

describe('fit-clv handler', () => {
  it("fits on the run's customer_summary and writes clv_model, the purchase curves and P(alive) for the run", async () => {
    const summary = new ColumnBatch([
      { name: 'customer_id', kind: 'string', nullable: false },
      { name: 'frequency', kind: 'int32', nullable: false },
      { name: 'recency_days', kind: 'int32', nullable: false },
      { name: 'tenure_days', kind: 'int32', nullable: false },
      { name: 'avg_repeat_day_net_revenue', kind: 'float64', nullable: true },
      { name: 'net_revenue', kind: 'float64', nullable: false },
    ]);
    const simulated = simulateBgNbd({ r: 0.5, alpha: 5, a: 0.8, b: 3 }, 400, 3, [20, 60]);
    simulated.forEach((history, index) => {
      summary.append({
        customer_id: `c${index}`,
        frequency: history.x,
        recency_days: Math.round(history.tx * 7),
        tenure_days: Math.round(history.T * 7),
        avg_repeat_day_net_revenue: history.x > 0 ? 20 + (index % 30) : null,
        net_revenue: 50 + index,
      });
    });
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'runs/customer_summary/run_id=r1/part-0.parquet' }] });
    s3.on(GetObjectCommand).callsFake(() => ({ Body: body(summary.toParquet()) }));
    s3.on(PutObjectCommand).resolves({});
    const { handler } = await importHandler('fit-clv');
    const result = await handler({ as_of: '2024-03-31', run_id: 'r1' });
    const written = Object.fromEntries(puts().map((input) => [input.Key!, readParquetRows(input.Body as Uint8Array)]));
    expect(Object.keys(written).sort()).toEqual([
      'runs/clv_model/run_id=r1/part-00000.parquet',
      'runs/stg_clv_probability_alive/run_id=r1/part-00000.parquet',
      'runs/stg_clv_purchase_curves/run_id=r1/part-00000.parquet',
    ]);
    const models = written['runs/clv_model/run_id=r1/part-00000.parquet']!;
    expect(models.map((row) => row['model'])).toEqual(['bg_nbd', 'mbg_nbd', 'pareto_nbd', 'gamma_gamma']);
    expect(models[0]).toMatchObject({ time_unit: 'week', converged: true, customers: 400 });
    expect(models.filter((row) => row['selected'] === true)).toHaveLength(1);
    const curves = written['runs/stg_clv_purchase_curves/run_id=r1/part-00000.parquet']!;
    const distinct = new Set(simulated.map((history) => `${history.x}|${Math.round(history.T * 7)}`));
    const histories = new Set(simulated.map((history) => `${history.x}|${Math.round(history.tx * 7)}|${Math.round(history.T * 7)}`));
    expect(result.rows).toEqual({ clv_model: 4, stg_clv_purchase_curves: distinct.size, stg_clv_probability_alive: histories.size });
    expect(curves.every((curve) => Number(curve['purchases_if_alive']) > 0 && curve['as_of'] === Date.parse('2024-03-31'))).toBe(true);
  });
});

describe('fit-clv handler on Athena output read in any order', () => {
  it('fits the same models from the same customers, however UNLOAD split and listed the part files', async () => {
    // Over twice the warm-start sample of repeat buyers, where the Gamma-Gamma fit starts from
    // an even sample of them: read in file order, the model changed with the files' order.
    const simulated = simulateBgNbd({ r: 3, alpha: 4, a: 0.3, b: 6 }, 15_000, 8, [40, 80]);
    const rows = simulated.map((history, index) => ({
      customer_id: `c${String(index).padStart(5, '0')}`,
      frequency: history.x,
      recency_days: Math.round(history.tx * 7),
      tenure_days: Math.round(history.T * 7),
      avg_repeat_day_net_revenue: history.x > 0 ? 10 + ((index * 7919) % 97) : null,
    }));
    expect(rows.filter((row) => row.frequency > 0).length).toBeGreaterThan(2 * GRADIENT_WARM_START_SAMPLE);
    const part = (slice: typeof rows) => {
      const batch = new ColumnBatch([
        { name: 'customer_id', kind: 'string', nullable: false },
        { name: 'frequency', kind: 'int32', nullable: false },
        { name: 'recency_days', kind: 'int32', nullable: false },
        { name: 'tenure_days', kind: 'int32', nullable: false },
        { name: 'avg_repeat_day_net_revenue', kind: 'float64', nullable: true },
      ]);
      for (const row of slice) batch.append(row);
      return batch.toParquet();
    };
    const { handler } = await importHandler('fit-clv');
    const fitFrom = async (parts: Uint8Array[]) => {
      s3.reset();
      s3.on(ListObjectsV2Command).resolves({ Contents: parts.map((_, index) => ({ Key: `runs/customer_summary/run_id=r1/part-${index}.parquet` })) });
      s3.on(GetObjectCommand).callsFake((input: { Key: string }) => ({ Body: body(parts[Number(/part-(\d+)/.exec(input.Key)![1])]!) }));
      s3.on(PutObjectCommand).resolves({});
      await handler({ as_of: '2024-03-31', run_id: 'r1' });
      return readParquetRows(puts().find((input) => input.Key!.startsWith('runs/clv_model/'))!.Body as Uint8Array);
    };
    const inOrder = await fitFrom([part(rows.slice(0, 5_000)), part(rows.slice(5_000))]);
    // The same customers as three parts, each in its own order, listed in another order.
    const reversed = [...rows].reverse();
    const shuffled = await fitFrom([
      part(reversed.slice(0, 4_000)),
      part(reversed.slice(4_000, 10_000).sort((a, b) => a.tenure_days - b.tenure_days)),
      part(reversed.slice(10_000)),
    ]);
    expect(inOrder.find((model) => model['model'] === 'gamma_gamma')).toMatchObject({ converged: true, customers: expect.any(Number) });
    expect(shuffled).toEqual(inOrder);
  }, 60_000);
});

describe('promote-run handler', () => {
  it("replaces each curated partition with the run's output as one file, then removes what else was there", async () => {
    s3.on(ListObjectsV2Command).callsFake((input: { Prefix: string }) => {
      if (input.Prefix === 'locks/run/') return { Contents: [{ Key: 'locks/run/000000000001.json' }] };
      if (input.Prefix === 'runs/nps/run_id=r1/') return { Contents: [{ Key: 'runs/nps/run_id=r1/part-a.parquet' }] };
      if (input.Prefix === 'curated/nps/as_of=2024-03-31/')
        return { Contents: [{ Key: 'curated/nps/as_of=2024-03-31/data.parquet' }, { Key: 'curated/nps/as_of=2024-03-31/old.parquet' }] };
      return { Contents: [] };
    });
    s3.on(DeleteObjectsCommand).resolves({});
    s3.on(CopyObjectCommand).resolves({});
    s3.on(GetObjectCommand).callsFake(() => ({ Body: body(heldLease) }));
    const { handler } = await importHandler('promote-run');
    expect(await handler({ as_of: '2024-03-31', run_id: 'r1', execution: HOLDER, lease_generation: 1 })).toMatchObject({ files: 1 });
    expect(puts()).toEqual([]);
    const copy = s3.commandCalls(CopyObjectCommand)[0]!.args[0].input;
    expect(copy.Key).toBe('curated/nps/as_of=2024-03-31/data.parquet');
    expect(decodeURIComponent(copy.CopySource!)).toBe('test-lake/runs/nps/run_id=r1/part-a.parquet');
    // The stale file goes only after the new one is in place; the promoted file stays.
    expect(s3.commandCalls(DeleteObjectsCommand).map((call) => call.args[0].input.Delete!.Objects!.map((object) => object.Key))).toEqual([
      ['curated/nps/as_of=2024-03-31/old.parquet'],
    ]);
    const order = s3
      .calls()
      .map((call) => call.args[0].constructor.name)
      .filter((name) => name !== 'ListObjectsV2Command');
    expect(order.indexOf('CopyObjectCommand')).toBeLessThan(order.indexOf('DeleteObjectsCommand'));
  });
});

describe('publish handler', () => {
  it('reads the audience with Athena, sends it to the queue and logs what it sent', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q1' });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
    const values = ['win_back', 'c1', '80', 'lapsed', '1', '120.5', '3', '120', undefined, 'at_risk', '2024-03-31'];
    athena.on(GetQueryResultsCommand).resolves(audienceQueryResult([values]));
    s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    s3.on(PutObjectCommand).resolves({});
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({
      Successful: input.Entries!.map((entry) => ({ Id: entry.Id, MessageId: 'x', MD5OfMessageBody: 'y' })),
    }));
    const { handler } = await importHandler('publish');
    // c1 is not in win_back's holdout at the default salt and share (see test/integration/holdout-parity.test.ts).
    expect(await handler({ as_of: '2024-03-31' })).toEqual({ as_of: '2024-03-31', sent: 1, held_out: 0, already_sent: 0 });
    const message = JSON.parse(sqs.commandCalls(SendMessageBatchCommand)[0]!.args[0].input.Entries![0]!.MessageBody!);
    expect(message).toMatchObject({ campaign: 'win_back', customer_id: 'c1', as_of: '2024-03-31', metrics: { net_revenue: 120.5, last_nps_score: null } });
    // The publish lease first (a conditional write), then the log of what was sent.
    expect(puts()[0]).toMatchObject({ Key: 'locks/publish/000000000001.json', IfNoneMatch: '*' });
    expect(JSON.parse(String(puts()[0]!.Body))).toMatchObject({ holder: 'publish function request outside Lambda' });
    expect(
      puts()
        .map((input) => input.Key!)
        .filter((key) => !key.startsWith('locks/'))[0],
    ).toMatch(/^published\/campaigns\/as_of=2024-03-31\/sent-/);
  });

  it('gives its query a token of its own invocation, so a rerun never picks up a query an earlier one stopped', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q1' });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
    athena.on(GetQueryResultsCommand).resolves({ ResultSet: { ResultSetMetadata: { ColumnInfo: [] }, Rows: [] } });
    s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    const { handler } = await importHandler('publish');
    for (const id of ['request-1', 'request-2']) await handler({ as_of: '2024-03-31' }, lambdaContext(id, 600_000));
    const tokens = athena.commandCalls(StartQueryExecutionCommand).map((call) => call.args[0].input.ClientRequestToken);
    expect(new Set(tokens).size).toBe(2);
  });
});

describe('write-report handler', () => {
  it('queries the curated tables of the as_of with Athena and writes the HTML report to reports/', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q1' });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
    athena.on(GetQueryResultsCommand).resolves({
      ResultSet: {
        ResultSetMetadata: { ColumnInfo: [{ Name: 'customers', Type: 'bigint' }] },
        Rows: [{ Data: [{ VarCharValue: 'customers' }] }, { Data: [{ VarCharValue: '42' }] }],
      },
    });
    s3.on(PutObjectCommand).resolves({});
    const { handler } = await importHandler('write-report');
    expect(await handler({ as_of: '2024-03-31' })).toEqual({ as_of: '2024-03-31', key: 'reports/as_of=2024-03-31/report.html' });
    const queries = athena.commandCalls(StartQueryExecutionCommand).map((call) => call.args[0].input.QueryString!);
    expect(queries.every((sql) => sql.includes("as_of = date '2024-03-31'"))).toBe(true);
    const html = String(puts()[0]!.Body);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('Customer report');
    expect(html).toContain('<canvas id="retention"');
  });
});

describe('compact-raw handler', () => {
  it('merges a partition of several raw files into one, in delivery order, and deletes the files it replaces', async () => {
    const { rawColumns } = await import('../../functions/core/lake/raw-tables.ts');
    const file = (ingestId: string, receivedAt: number, events: string[]) => {
      const batch = new ColumnBatch(rawColumns.orders);
      for (const [index, eventId] of events.entries()) {
        batch.append({
          event_id: eventId,
          order_id: `o-${eventId}`,
          customer_id: 'c1',
          occurred_at: Date.parse('2024-03-31T10:00:00Z'),
          status: 'placed',
          total: 10 + index,
          currency: 'EUR',
          refunded_amount: null,
          channel: null,
          extras: null,
          received_at: receivedAt,
          ingest_id: ingestId,
          source: `${ingestId}.jsonl`,
          record_number: index + 1,
        });
      }
      return batch.toParquet();
    };
    const files: Record<string, Uint8Array> = {
      'raw/orders/dt=2024-03-31/part-b-0000.parquet': file('b', Date.parse('2024-04-02T00:00:00Z'), ['e2', 'e3']),
      'raw/orders/dt=2024-03-31/part-a-0000.parquet': file('a', Date.parse('2024-04-01T00:00:00Z'), ['e1', 'e2']),
      'raw/orders/dt=2024-04-01/part-a-0001.parquet': file('a', Date.parse('2024-04-01T00:00:00Z'), ['e9']),
      // The run lease, generation 1, as the execution's first state took it.
      'locks/run/000000000001.json': heldLease,
    };
    s3.on(ListObjectsV2Command).callsFake((input: { Prefix: string }) => ({
      Contents: Object.keys(files)
        .filter((key) => key.startsWith(input.Prefix))
        .sort()
        .map((Key) => ({ Key })),
    }));
    s3.on(GetObjectCommand).callsFake((input: { Key: string }) => ({ Body: body(files[input.Key]!) }));
    s3.on(PutObjectCommand).resolves({});
    s3.on(DeleteObjectsCommand).resolves({});
    const { handler } = await importHandler('compact-raw');
    const { results } = await handler({ execution: HOLDER, lease_generation: 1 });
    expect(results).toEqual([
      { type: 'orders', partitions: 1, filesBefore: 3, filesAfter: 2 },
      { type: 'surveys', partitions: 0, filesBefore: 0, filesAfter: 0 },
      { type: 'fx_rates', partitions: 0, filesBefore: 0, filesAfter: 0 },
      { type: 'spend', partitions: 0, filesBefore: 0, filesAfter: 0 },
    ]);
    const [written] = puts();
    expect(written!.Key).toMatch(/^raw\/orders\/dt=2024-03-31\/part-.+-compacted-0000\.parquet$/);
    expect(readParquetRows(written!.Body as Uint8Array).map((row) => [row['ingest_id'], row['event_id']])).toEqual([
      ['a', 'e1'],
      ['a', 'e2'],
      ['b', 'e2'],
      ['b', 'e3'],
    ]);
    const deleted = s3.commandCalls(DeleteObjectsCommand).flatMap((call) => call.args[0].input.Delete!.Objects!.map((object) => object.Key));
    expect(deleted.sort()).toEqual(['raw/orders/dt=2024-03-31/part-a-0000.parquet', 'raw/orders/dt=2024-03-31/part-b-0000.parquet']);
    // The merged file exists before the files it replaces are gone.
    const order = s3.calls().map((call) => call.args[0].constructor.name);
    expect(order.indexOf('PutObjectCommand')).toBeLessThan(order.indexOf('DeleteObjectsCommand'));
  });
});

import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import type { QueryExecutionState } from '@aws-sdk/client-athena';
import { ListObjectsV2Command, PutObjectCommand, S3Client, DeleteObjectsCommand } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { AthenaQueryEngine, QueryCancelledError } from '../../functions/adapters/aws/athena-engine.ts';
import { S3ObjectStore } from '../../functions/adapters/aws/s3-store.ts';
import { QueryFailedError } from '../../functions/core/errors.ts';

const s3 = mockClient(S3Client);
const athena = mockClient(AthenaClient);
// The mocks patch the client classes for the whole process: put them back for the next file.
afterAll(() => {
  s3.restore();
  athena.restore();
});
const noWait = { sleep: async () => {} };

const serviceError = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status }, $fault: 'server' });

beforeEach(() => {
  s3.reset();
  athena.reset();
});

describe('S3 object store', () => {
  const store = () => new S3ObjectStore(new S3Client({ region: 'eu-west-1' }), 'lake', noWait);

  it('retries a 503 SlowDown and then succeeds', async () => {
    s3.on(PutObjectCommand).rejectsOnce(serviceError('SlowDown', 503)).resolves({});
    await store().put('raw/orders/dt=2024-01-01/part-1.parquet', new Uint8Array([1, 2, 3]));
    const calls = s3.commandCalls(PutObjectCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.args[0].input).toMatchObject({ Bucket: 'lake', Key: 'raw/orders/dt=2024-01-01/part-1.parquet' });
  });

  it('creates an object only if absent: If-None-Match *, false on 412, tried again on a 409 conflict', async () => {
    const clientError = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status }, $fault: 'client' });
    s3.on(PutObjectCommand)
      .resolvesOnce({})
      .rejectsOnce(clientError('PreconditionFailed', 412))
      .rejectsOnce(clientError('ConditionalRequestConflict', 409))
      .resolves({});
    expect(await store().putIfAbsent('locks/run/000000000001.json', '{}')).toBe(true);
    expect(s3.commandCalls(PutObjectCommand)[0]!.args[0].input).toMatchObject({ Bucket: 'lake', Key: 'locks/run/000000000001.json', IfNoneMatch: '*' });
    expect(await store().putIfAbsent('locks/run/000000000001.json', '{}')).toBe(false);
    expect(await store().putIfAbsent('locks/run/000000000002.json', '{}')).toBe(true);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(4);
  });

  it('does not retry an access error', async () => {
    s3.on(PutObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    await expect(store().put('x', 'y')).rejects.toThrow('Access Denied');
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(1);
  });

  it('lists every page, sorted', async () => {
    s3.on(ListObjectsV2Command)
      .resolvesOnce({ Contents: [{ Key: 'p/b' }, { Key: 'p/a' }], IsTruncated: true, NextContinuationToken: 't1' })
      .resolvesOnce({ Contents: [{ Key: 'p/c' }], IsTruncated: false });
    expect(await store().list('p/')).toEqual(['p/a', 'p/b', 'p/c']);
    expect(s3.commandCalls(ListObjectsV2Command)[1]!.args[0].input.ContinuationToken).toBe('t1');
  });

  it('reports objects it could not delete', async () => {
    s3.on(DeleteObjectsCommand).resolves({ Errors: [{ Key: 'p/a', Code: 'AccessDenied' }] });
    await expect(store().delete(['p/a'])).rejects.toThrow('could not delete 1 objects, first p/a: AccessDenied');
  });
});

describe('Athena query engine', () => {
  const engine = (options: Partial<ConstructorParameters<typeof AthenaQueryEngine>[0]> = {}) =>
    new AthenaQueryEngine({ client: new AthenaClient({ region: 'eu-west-1' }), workGroup: 'pipeline', database: 'lake', ...noWait, ...options });
  const status = (State: QueryExecutionState, extra: object = {}) => ({ QueryExecution: { QueryExecutionId: 'q1', Status: { State, ...extra } } });

  it('polls QUEUED -> RUNNING -> QUEUED -> SUCCEEDED and starts the query once, in the workgroup, with a token', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q1' });
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce(status('QUEUED'))
      .resolvesOnce(status('RUNNING'))
      .resolvesOnce(status('QUEUED'))
      .resolvesOnce(status('SUCCEEDED'));
    await engine().execute('select 1');
    const start = athena.commandCalls(StartQueryExecutionCommand);
    expect(start).toHaveLength(1);
    expect(start[0]!.args[0].input).toMatchObject({ WorkGroup: 'pipeline', QueryExecutionContext: { Database: 'lake' }, QueryString: 'select 1' });
    expect(start[0]!.args[0].input.ClientRequestToken).toMatch(/^[0-9a-f]{64}$/);
    expect(athena.commandCalls(GetQueryExecutionCommand)).toHaveLength(4);
  });

  it('retries a FAILED query that Athena marks retryable, with a new token', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q1' });
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce(status('FAILED', { AthenaError: { ErrorCategory: 1, Retryable: true, ErrorMessage: 'internal' } }))
      .resolvesOnce(status('SUCCEEDED'));
    await engine().execute('select 1');
    const tokens = athena.commandCalls(StartQueryExecutionCommand).map((call) => call.args[0].input.ClientRequestToken);
    expect(tokens).toHaveLength(2);
    expect(tokens[0]).not.toBe(tokens[1]);
  });

  it('surfaces a FAILED query that is not retryable with its error category', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q1' });
    athena
      .on(GetQueryExecutionCommand)
      .resolves(
        status('FAILED', { AthenaError: { ErrorCategory: 2, Retryable: false, ErrorMessage: "COLUMN_NOT_FOUND: line 1:8: Column 'x' cannot be resolved" } }),
      );
    const failure = engine().execute('select x');
    await expect(failure).rejects.toBeInstanceOf(QueryFailedError);
    await expect(failure).rejects.toThrow("Athena user error in query q1: COLUMN_NOT_FOUND: line 1:8: Column 'x' cannot be resolved");
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(1);
  });

  it('backs off when StartQueryExecution is throttled', async () => {
    athena
      .on(StartQueryExecutionCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException', $metadata: { httpStatusCode: 400 } }))
      .resolves({ QueryExecutionId: 'q1' });
    athena.on(GetQueryExecutionCommand).resolves(status('SUCCEEDED'));
    await engine().execute('select 1');
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(2);
  });

  it('stops at CANCELLED (the bytes-scanned cutoff) without retrying', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q1' });
    athena.on(GetQueryExecutionCommand).resolves(status('CANCELLED', { StateChangeReason: 'Query exhausted the BytesScannedCutoffPerQuery limit' }));
    const cancelled = engine().execute('select * from orders');
    await expect(cancelled).rejects.toBeInstanceOf(QueryCancelledError);
    await expect(cancelled).rejects.toThrow(/BytesScannedCutoffPerQuery/);
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(1);
  });

  it('reads every page of results, typed by column', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q1' });
    athena.on(GetQueryExecutionCommand).resolves(status('SUCCEEDED'));
    const metadata = {
      ColumnInfo: [
        { Name: 'campaign', Type: 'varchar' },
        { Name: 'priority', Type: 'integer' },
        { Name: 'score', Type: 'double' },
      ],
    };
    athena
      .on(GetQueryResultsCommand)
      .resolvesOnce({
        ResultSet: {
          ResultSetMetadata: metadata,
          Rows: [
            { Data: [{ VarCharValue: 'campaign' }, { VarCharValue: 'priority' }, { VarCharValue: 'score' }] },
            { Data: [{ VarCharValue: 'win_back' }, { VarCharValue: '80' }, {}] },
          ],
        },
        NextToken: 'next',
      })
      .resolvesOnce({
        ResultSet: { ResultSetMetadata: metadata, Rows: [{ Data: [{ VarCharValue: 'churn_risk' }, { VarCharValue: '90' }, { VarCharValue: '0.5' }] }] },
      });
    const result = await engine().query('select * from campaign_audience');
    expect(result.columns.map((column) => column.name)).toEqual(['campaign', 'priority', 'score']);
    expect(result.rows).toEqual([
      ['win_back', 80, null],
      ['churn_risk', 90, 0.5],
    ]);
  });
});

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { PutObjectCommandInput } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../../functions/adapters/duckdb-engine.ts';
import { CAMPAIGN_NAMES } from '../../functions/core/campaigns/campaigns.ts';
import type { PublishedRecord } from '../../functions/core/lake/raw-tables.ts';
import { FilesystemObjectStore } from '../../functions/adapters/filesystem-store.ts';
import { sqlString } from '../../functions/adapters/lake-views.ts';
import { importHandler, lambdaContext, lambdaEnvironment } from '../support/lambda.ts';
import { pipeline, temporaryDirectory } from '../support/cli.ts';

/**
 * The holdout is drawn when publishing, by the same code in both places: a local `pipeline
 * publish` and the AWS publish Lambda, given the same audience and the same config, must hold
 * out exactly the same customers and log them the same way.
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
const AS_OF = '2024-03-31';

const audience = Array.from({ length: 600 }, (_, index) => ({
  campaign: CAMPAIGN_NAMES[index % CAMPAIGN_NAMES.length]!,
  customer_id: `cust-${String(index).padStart(4, '0')}`,
  priority: 50 + (index % CAMPAIGN_NAMES.length),
  reason: 'test',
  rank_in_campaign: Math.floor(index / CAMPAIGN_NAMES.length) + 1,
  net_revenue: index * 1.5,
  purchases: 2,
  days_since_last_purchase: 40,
  last_nps_score: 8,
  segment: 'champions',
}));

beforeAll(() => {
  Object.assign(process.env, lambdaEnvironment);
});

/** The AWS side: Athena returns the audience, the log goes to S3, messages to SQS. */
async function publishOnAws(): Promise<PublishedRecord[]> {
  const columns = Object.keys(audience[0]!);
  athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q1' });
  athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
  athena.on(GetQueryResultsCommand).resolves({
    ResultSet: {
      ResultSetMetadata: {
        ColumnInfo: columns.map((Name) => ({
          Name,
          Type: ['campaign', 'customer_id', 'reason', 'segment'].includes(Name) ? 'varchar' : Name === 'net_revenue' ? 'double' : 'integer',
        })),
      },
      Rows: [
        { Data: columns.map((VarCharValue) => ({ VarCharValue })) },
        ...audience.map((row) => ({ Data: Object.values(row).map((value) => ({ VarCharValue: String(value) })) })),
      ],
    },
  });
  s3.on(ListObjectsV2Command).resolves({ Contents: [] });
  s3.on(PutObjectCommand).resolves({});
  sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({
    Successful: input.Entries!.map((entry) => ({ Id: entry.Id, MessageId: 'x', MD5OfMessageBody: 'y' })),
  }));
  const { handler } = await importHandler('publish');
  const result = await handler({ as_of: AS_OF }, lambdaContext('parity', 600_000));
  const sentToQueue = sqs.commandCalls(SendMessageBatchCommand).flatMap((call) => call.args[0].input.Entries!);
  expect(sentToQueue).toHaveLength(result.sent);
  return s3
    .commandCalls(PutObjectCommand)
    .map((call) => call.args[0].input as PutObjectCommandInput)
    .filter((input) => input.Key!.startsWith(`published/campaigns/as_of=${AS_OF}/`))
    .flatMap((input) =>
      String(input.Body)
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as PublishedRecord),
    );
}

/** The local side: the same rows as the date's campaign_audience partition, published to the outbox. */
async function publishLocally(root: string): Promise<PublishedRecord[]> {
  const lake = join(root, 'lake');
  const partition = join(lake, 'curated', 'campaign_audience', `as_of=${AS_OF}`);
  await mkdir(partition, { recursive: true });
  const engine = await DuckDbEngine.open();
  try {
    const types = { net_revenue: 'double', campaign: 'varchar', customer_id: 'varchar', reason: 'varchar', segment: 'varchar' } as const;
    const columns = Object.keys(audience[0]!).map((name) => ({ name, type: types[name as keyof typeof types] ?? ('integer' as const) }));
    await engine.createTableFromRows('audience_rows', columns, audience);
    await engine.execute(`copy (select *, date '${AS_OF}' as as_of from audience_rows) to ${sqlString(join(partition, 'data.parquet'))} (format parquet)`);
  } finally {
    engine.close();
  }
  const config = join(root, 'config.json');
  await writeFile(config, lambdaEnvironment.PIPELINE_CONFIG);
  const published = await pipeline('publish', '--as-of', AS_OF, '--lake', lake, '--config', config);
  expect(published.code, published.stderr).toBe(0);
  const store = new FilesystemObjectStore(lake);
  const records: PublishedRecord[] = [];
  for (const key of await store.list(`published/campaigns/as_of=${AS_OF}/`)) {
    for (const line of new TextDecoder()
      .decode(await store.get(key))
      .trim()
      .split('\n'))
      records.push(JSON.parse(line) as PublishedRecord);
  }
  return records;
}

describe('holdout assignment, locally and on AWS', () => {
  it('holds out the same customers from the same audience and logs both groups alike', async () => {
    const directory = await temporaryDirectory();
    try {
      const local = await publishLocally(directory.path);
      const aws = await publishOnAws();
      const groups = (records: PublishedRecord[]) =>
        records.map((record) => `${record.campaign}|${record.customer_id}|${record.message_id}|${record.is_holdout}`).sort();
      expect(local).toHaveLength(600);
      expect(groups(aws)).toEqual(groups(local));
      const held = local.filter((record) => record.is_holdout).length;
      // The default share is 10 %: about 60 of 600, every campaign represented.
      expect(held).toBeGreaterThan(35);
      expect(held).toBeLessThan(90);
      expect(new Set(local.filter((record) => record.is_holdout).map((record) => record.campaign)).size).toBe(CAMPAIGN_NAMES.length);
    } finally {
      await directory.cleanup();
    }
  });
});

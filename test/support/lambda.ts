import { expect } from 'vitest';
import type { GetQueryResultsCommandOutput } from '@aws-sdk/client-athena';
import type { Context, SQSRecord } from 'aws-lambda';

/**
 * What the handler tests share: the environment every pipeline Lambda reads at import time,
 * an invocation context, SQS records as the ingest queue delivers them, and the campaign
 * audience as Athena returns it to the publisher.
 */
export const lambdaEnvironment = {
  LAKE_BUCKET: 'test-lake',
  CAMPAIGN_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/campaigns',
  ATHENA_WORKGROUP: 'pipeline',
  GLUE_DATABASE: 'marketing',
  PIPELINE_CONFIG: JSON.stringify({ businessTimezone: 'Europe/Berlin' }),
  POWERTOOLS_METRICS_DISABLED: 'true',
  // Tracing is for Lambda: off here even where AWS_EXECUTION_ENV is set (ECS, Cloud9 runners).
  POWERTOOLS_TRACE_ENABLED: 'false',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  CHART_JS_PATH: new URL('../../node_modules/chart.js/dist/chart.umd.min.js', import.meta.url).pathname,
};

/** The Lambda handlers, by the name of their folder under functions/handlers/. */
interface Handlers {
  'compact-raw': typeof import('../../functions/handlers/compact-raw/index.ts');
  'erase-customers': typeof import('../../functions/handlers/erase-customers/index.ts');
  'fit-clv': typeof import('../../functions/handlers/fit-clv/index.ts');
  'ingest-file': typeof import('../../functions/handlers/ingest-file/index.ts');
  'ingest-queue': typeof import('../../functions/handlers/ingest-queue/index.ts');
  'prepare-run': typeof import('../../functions/handlers/prepare-run/index.ts');
  'promote-run': typeof import('../../functions/handlers/promote-run/index.ts');
  publish: typeof import('../../functions/handlers/publish/index.ts');
  'run-lock': typeof import('../../functions/handlers/run-lock/index.ts');
  'test-run': typeof import('../../functions/handlers/test-run/index.ts');
  'write-report': typeof import('../../functions/handlers/write-report/index.ts');
}

export type HandlerName = keyof Handlers;

/**
 * A handler's module as a Lambda loads it. A handler reads its environment (bucket, config, log
 * level) when it is first imported, at cold start. Test files share worker processes
 * (vitest.config.ts), so the module is evaluated afresh once per test file, with the
 * environment that file has set: the same module for every test of the file, as a warm Lambda
 * would be, unless `coldStart` names another start. The modules it imports are shared as
 * usual, so its errors are the classes the test imports.
 */
export function importHandler<Name extends HandlerName>(name: Name, coldStart = ''): Promise<Handlers[Name]> {
  const module = new URL(`../../functions/handlers/${name}/index.ts`, import.meta.url);
  module.searchParams.set('cold-start', `${expect.getState().testPath ?? ''}#${coldStart}`);
  return import(/* @vite-ignore */ module.href);
}

/** An invocation's context: its request id and a minute (or what is given) left to run. */
export const lambdaContext = (awsRequestId = 'req', remainingMs = 60_000) =>
  ({ functionName: 'test', awsRequestId, getRemainingTimeInMillis: () => remainingMs }) as unknown as Context;

export function sqsRecord(messageId: string, payload: string, eventType: string | null = 'orders'): SQSRecord {
  return {
    messageId,
    body: payload,
    receiptHandle: `rh-${messageId}`,
    attributes: {} as SQSRecord['attributes'],
    messageAttributes: eventType ? { event_type: { dataType: 'String', stringValue: eventType } as SQSRecord['messageAttributes'][string] } : {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:ingest',
    awsRegion: 'eu-west-1',
  };
}

const AUDIENCE_COLUMNS: readonly [name: string, type: string][] = [
  ['campaign', 'varchar'],
  ['customer_id', 'varchar'],
  ['priority', 'integer'],
  ['reason', 'varchar'],
  ['rank_in_campaign', 'bigint'],
  ['net_revenue', 'double'],
  ['purchases', 'bigint'],
  ['days_since_last_purchase', 'bigint'],
  ['last_nps_score', 'integer'],
  ['segment', 'varchar'],
  ['as_of', 'date'],
];

/**
 * campaign_audience rows as Athena's GetQueryResults gives them: a header row, then one row of
 * text per customer; a value left undefined is a SQL null.
 */
export function audienceQueryResult(rows: readonly (readonly (string | undefined)[])[]): Partial<GetQueryResultsCommandOutput> {
  return {
    ResultSet: {
      ResultSetMetadata: { ColumnInfo: AUDIENCE_COLUMNS.map(([Name, Type]) => ({ Name, Type })) },
      Rows: [
        { Data: AUDIENCE_COLUMNS.map(([VarCharValue]) => ({ VarCharValue })) },
        ...rows.map((row) => ({ Data: row.map((VarCharValue) => (VarCharValue === undefined ? {} : { VarCharValue })) })),
      ],
    },
  };
}

import type { Context, SQSRecord } from 'aws-lambda';

/**
 * What the handler tests share: the environment every pipeline Lambda reads at import time,
 * an invocation context, and SQS records as the ingest queue delivers them.
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

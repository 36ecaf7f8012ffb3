import { handlerTools, inputs } from '../commons.ts';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { AthenaClient } from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { engineForInvocation } from '../../adapters/aws/athena-engine.ts';
import { S3ObjectStore } from '../../adapters/aws/s3-store.ts';
import { SqsMessageSink } from '../../adapters/sqs-sink.ts';
import type { AudienceRow } from '../../core/campaigns/message.ts';
import { publishCampaignAudience } from '../../core/campaigns/publish.ts';
import { campaignCooldowns, campaignHoldout } from '../../core/campaigns/campaigns.ts';
import { PIPELINE_METRICS } from '../../core/metrics.ts';
import { bucketName, pipelineConfigVariable, readEnvironment } from '../../core/environment.ts';
import { rowObjects } from '../../core/ports.ts';
import type { Context } from 'aws-lambda';

const environment = readEnvironment({
  LAKE_BUCKET: bucketName,
  CAMPAIGN_QUEUE_URL: z.url({ protocol: /^https$/ }),
  ATHENA_WORKGROUP: z.string().min(1),
  GLUE_DATABASE: z.string().regex(/^[a-z0-9_]+$/),
  PIPELINE_CONFIG: pipelineConfigVariable,
});
const { logger, metrics, traced, begin } = handlerTools('publish');
const store = new S3ObjectStore(traced(new S3Client({})), environment.LAKE_BUCKET);
const athena = { client: traced(new AthenaClient({})), workGroup: environment.ATHENA_WORKGROUP, database: environment.GLUE_DATABASE };
const sink = new SqsMessageSink({ client: traced(new SQSClient({})), queueUrl: environment.CAMPAIGN_QUEUE_URL });

const inputSchema = z.object({ as_of: inputs.asOf });

/** Longer than the function may run (its timeout, 10 minutes). */
const PUBLISH_LEASE_TTL_MS = 11 * 60_000;

/**
 * Last state of a run: reads the as_of's campaign audience with Athena and publishes it to the
 * campaign queue. The published log in S3 makes it idempotent; failed messages fail the state
 * (and raise the alarm) and are retried by the next publish.
 */
export async function handler(event: unknown, context?: Context): Promise<{ as_of: string; sent: number; held_out: number; already_sent: number }> {
  begin(context);
  const { as_of: asOf } = inputSchema.parse(event);
  // Three minutes kept for sending the audience.
  const result = await engineForInvocation(athena, context, 3 * 60_000).query(`select * from campaign_audience where as_of = date '${asOf}'`);
  const audience = rowObjects(result) as unknown as AudienceRow[];
  const published = await publishCampaignAudience({
    asOf,
    audience: audience.map((row) => ({ ...row, as_of: asOf })),
    sink,
    store,
    cooldownDays: campaignCooldowns(environment.PIPELINE_CONFIG),
    holdout: campaignHoldout(environment.PIPELINE_CONFIG),
    lease: {
      holder: `publish function request ${context?.awsRequestId ?? 'outside Lambda'}`,
      // The function's own timeout bounds how long it can hold the lease.
      ttlMs: PUBLISH_LEASE_TTL_MS,
      // Another publisher is at work: wait a little, then fail with LeaseBusyError, which the state machine retries.
      waitMs: 60_000,
      pollMs: 5_000,
    },
  });
  logger.info('published campaign audience', {
    as_of: asOf,
    audience: published.audience,
    sent: published.sent,
    held_out: published.heldOut,
    already_sent: published.alreadySent,
    suppressed: published.suppressed,
    failed: published.failed.length,
  });
  metrics.addMetric(PIPELINE_METRICS.messagesSent, MetricUnit.Count, published.sent);
  metrics.addMetric(PIPELINE_METRICS.messagesFailed, MetricUnit.Count, published.failed.length);
  metrics.addMetric(PIPELINE_METRICS.customersHeldOut, MetricUnit.Count, published.heldOut);
  metrics.publishStoredMetrics();
  if (published.failed.length > 0) {
    throw new Error(`${published.failed.length} campaign messages could not be sent, first: ${published.failed[0]!.reason}`);
  }
  return { as_of: asOf, sent: published.sent, held_out: published.heldOut, already_sent: published.alreadySent };
}

import { Logger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { S3ObjectStore } from '../adapters/aws/s3-store.ts';
import { bucketName, pipelineConfigVariable, readEnvironment } from '../core/environment.ts';
import { parseRunRequest, RUN_LEASE, RUN_LEASE_TTL_MS } from '../core/jobs/run-request.ts';
import type { RunRequest } from '../core/jobs/run-request.ts';
import { acquireLease, releaseLease } from '../core/lake/lease.ts';

const environment = readEnvironment({ LAKE_BUCKET: bucketName, PIPELINE_CONFIG: pipelineConfigVariable });
const logger = new Logger({ serviceName: 'run-lock' });
const store = new S3ObjectStore(new S3Client({}), environment.LAKE_BUCKET);

/** Another execution holds the run lease; the state machine retries this error every minute for a while. */
export class RunLockBusyError extends Error {
  override readonly name = 'RunLockBusyError';
}

const inputSchema = z.discriminatedUnion('action', [
  /** First state of an execution: check its input, then take the run lease for it. */
  z.object({ action: z.literal('acquire'), input: z.unknown(), execution: z.string().min(1) }),
  /** Last state, and the rule that sees an execution fail, time out or be stopped: give the lease up. */
  z.object({ action: z.literal('release'), execution: z.string().min(1) }),
]);

/**
 * The run lease of the lake (functions/core/lake/lease.ts), held by one execution of the job
 * graph at a time, from before compaction until after publishing: overlapping starts (the
 * schedule and a backfill, two backfills) run one after another instead of deleting each
 * other's raw files or publishing twice. The holder is the execution's ARN.
 */
export async function handler(event: unknown): Promise<(RunRequest & { holder: string }) | { released: boolean }> {
  const request = inputSchema.parse(event);
  if (request.action === 'release') {
    const released = await releaseLease(store, RUN_LEASE, request.execution);
    logger.info('released the run lease', { execution: request.execution, released });
    return { released };
  }
  const run = parseRunRequest(request.input, environment.PIPELINE_CONFIG);
  const outcome = await acquireLease(store, RUN_LEASE, { holder: request.execution, ttlMs: RUN_LEASE_TTL_MS });
  if (!outcome.acquired) {
    const { holder, acquired_at: since, expires_at: until } = outcome.heldBy;
    throw new RunLockBusyError(`another run holds the lake: ${holder}, since ${since} (until ${until} at the latest); this one waits`);
  }
  logger.info('took the run lease', { execution: request.execution, dates: run.dates.length, publish: run.publish });
  return { ...run, holder: request.execution };
}

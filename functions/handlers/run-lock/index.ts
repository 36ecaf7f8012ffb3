import { handlerTools } from '../commons.ts';
import type { Context } from 'aws-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { z } from 'zod';
import { executionGone } from '../../adapters/aws/execution-status.ts';
import { S3ObjectStore } from '../../adapters/aws/s3-store.ts';
import { bucketName, pipelineConfigVariable, readEnvironment } from '../../core/environment.ts';
import { takeRunLease } from '../../core/jobs/run-lease.ts';
import { runIdFor } from '../../core/jobs/run-ids.ts';
import { parseRunRequest, RUN_LEASE } from '../../core/jobs/run-request.ts';
import type { RunRequest } from '../../core/jobs/run-request.ts';
import { releaseLease } from '../../core/lake/lease.ts';

const environment = readEnvironment({ LAKE_BUCKET: bucketName, PIPELINE_CONFIG: pipelineConfigVariable });
const { logger, traced, begin } = handlerTools('run-lock');
const store = new S3ObjectStore(traced(new S3Client({})), environment.LAKE_BUCKET);
/** The longest a function of a stopped execution may go on running: the 15-minute Lambda maximum, and a minute more. */
const STOPPED_EXECUTION_GRACE_MS = 16 * 60_000;
const isHolderGone = executionGone(traced(new SFNClient({})), STOPPED_EXECUTION_GRACE_MS, (holder, error) =>
  logger.warn('could not tell whether the execution holding the run lease has ended; it keeps the lease', { holder, error: String(error) }),
);

const inputSchema = z.discriminatedUnion('action', [
  /** First state of an execution: check its input, then take the run lease for it. */
  z.object({ action: z.literal('acquire'), input: z.unknown(), execution: z.string().min(1) }),
  /** Last state, on success and on failure: give the lease up. */
  z.object({ action: z.literal('release'), execution: z.string().min(1) }),
]);

/**
 * The run lease of the lake (functions/core/lake/lease.ts), held by one execution of the job
 * graph at a time, from before compaction until after publishing: overlapping starts (the
 * schedule and a backfill, two backfills) run one after another instead of deleting each
 * other's raw files or publishing twice. The holder is the execution's ARN; a lease whose
 * execution was stopped or timed out more than 16 minutes ago is free (Step Functions says so).
 */
export async function handler(event: unknown, context?: Context): Promise<(RunRequest & { holder: string; lease_generation: number }) | { released: boolean }> {
  begin(context);
  const request = inputSchema.parse(event);
  if (request.action === 'release') {
    const released = await releaseLease(store, RUN_LEASE, request.execution);
    logger.info('released the run lease', { execution: request.execution, released });
    return { released };
  }
  const run = parseRunRequest(request.input, environment.PIPELINE_CONFIG);
  // Its name becomes each date's run id: refused now, before anything is held or changed.
  runIdFor(request.execution.split(':').at(-1)!, run.dates[0]!);
  const lease = await takeRunLease(store, request.execution, isHolderGone);
  logger.info('took the run lease', { execution: request.execution, generation: lease.generation, dates: run.dates.length, publish: run.publish });
  // Compaction and promotion confirm this generation is still the execution's.
  return { ...run, holder: request.execution, lease_generation: lease.generation };
}

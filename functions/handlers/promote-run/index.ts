import { handlerTools, inputs } from '../commons.ts';
import type { Context } from 'aws-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { S3ObjectStore } from '../../adapters/aws/s3-store.ts';
import { bucketName, readEnvironment } from '../../core/environment.ts';
import { CURATED_TABLES } from '../../core/jobs/graph.ts';
import { confirmRunLease } from '../../core/jobs/run-lease.ts';
import { runIdSchema } from '../../core/jobs/run-ids.ts';
import { promoteRun } from '../../core/lake/promote-run.ts';

const environment = readEnvironment({ LAKE_BUCKET: bucketName });
const { logger, traced, begin } = handlerTools('promote-run');
const store = new S3ObjectStore(traced(new S3Client({})), environment.LAKE_BUCKET);

const inputSchema = z.object({
  as_of: inputs.asOf,
  run_id: runIdSchema,
  /** The execution, which must hold the lake's run lease: promotion replaces what readers read. */
  execution: z.string().min(1),
  lease_generation: z.int().min(1),
});

/**
 * Runs only after every step of the run succeeded: each curated table's as_of partition becomes
 * the run's output as one file written over the previous one (promoteRun), so readers of
 * curated/ never see a failed, emptied or half-copied run.
 */
export async function handler(event: unknown, context?: Context): Promise<{ as_of: string; run_id: string; files: number }> {
  begin(context);
  const { as_of: asOf, run_id: runId, execution, lease_generation: generation } = inputSchema.parse(event);
  await confirmRunLease(store, execution, generation);
  const { files } = await promoteRun(store, { runId, asOf, tables: CURATED_TABLES });
  logger.info('promoted run', { as_of: asOf, run_id: runId, files });
  return { as_of: asOf, run_id: runId, files };
}

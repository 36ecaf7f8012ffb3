import { Logger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { S3ObjectStore } from '../adapters/aws/s3-store.ts';
import { bucketName, readEnvironment } from '../core/environment.ts';
import { runPrefix } from '../core/jobs/athena-plan.ts';
import { CURATED_TABLES } from '../core/jobs/graph.ts';
import { lakeLayout } from '../core/lake/layout.ts';
import { isCalendarDate } from '../core/events/timestamps.ts';

const environment = readEnvironment({ LAKE_BUCKET: bucketName });
const logger = new Logger({ serviceName: 'promote-run' });
const store = new S3ObjectStore(new S3Client({}), environment.LAKE_BUCKET);

const inputSchema = z.object({ as_of: z.string().refine(isCalendarDate), run_id: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/) });

/**
 * Runs only after every step of the run succeeded: replaces each curated table's as_of
 * partition with the run's output (old files removed, new ones copied), so readers of
 * curated/ never see a failed or half-finished run.
 */
export async function handler(event: unknown): Promise<{ as_of: string; run_id: string; files: number }> {
  const { as_of: asOf, run_id: runId } = inputSchema.parse(event);
  let files = 0;
  for (const table of CURATED_TABLES) {
    const source = runPrefix(table, runId);
    const target = lakeLayout.curatedPartition(table, asOf);
    const produced = await store.list(source);
    await store.delete(await store.list(target));
    for (const key of produced) {
      await store.copy(key, `${target}${key.slice(source.length)}`);
      files += 1;
    }
  }
  logger.info('promoted run', { as_of: asOf, run_id: runId, files });
  return { as_of: asOf, run_id: runId, files };
}

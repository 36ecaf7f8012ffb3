import { handlerTools } from '../commons.ts';
import type { Context } from 'aws-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { S3ObjectStore } from '../../adapters/aws/s3-store.ts';
import { bucketName, readEnvironment } from '../../core/environment.ts';
import { EVENT_TYPES } from '../../core/events/schemas.ts';
import { confirmRunLease } from '../../core/jobs/run-lease.ts';
import { compactRawPartitionsInStore } from '../../core/lake/compact-partitions.ts';
import type { CompactionResult } from '../../core/lake/compact-partitions.ts';

const environment = readEnvironment({ LAKE_BUCKET: bucketName });
const { logger, traced, begin } = handlerTools('compact-raw');
const store = new S3ObjectStore(traced(new S3Client({})), environment.LAKE_BUCKET);

/** The execution, which must hold the lake's run lease: compaction deletes files others may read. */
const inputSchema = z.object({ execution: z.string().min(1), lease_generation: z.int().min(1) });

/**
 * First state of a run of the job graph after the run lease: merges the small raw files of each
 * partition into files of up to an ingest file's size, before any query reads them (many small
 * Parquet objects slow Athena as they slow DuckDB); larger files stay as they are
 * (compactRawPartitionsInStore).
 */
export async function handler(event: unknown, context?: Context): Promise<{ results: CompactionResult[] }> {
  begin(context);
  const { execution, lease_generation: generation } = inputSchema.parse(event);
  await confirmRunLease(store, execution, generation);
  const results: CompactionResult[] = [];
  for (const type of EVENT_TYPES) {
    const result = await compactRawPartitionsInStore(store, type);
    logger.info('compacted raw partitions', { ...result });
    results.push(result);
  }
  return { results };
}

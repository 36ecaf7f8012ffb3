import { handlerTools, inputs } from '../commons.ts';
import type { Context } from 'aws-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { S3ObjectStore } from '../../adapters/aws/s3-store.ts';
import { bucketName, pipelineConfigVariable, readEnvironment } from '../../core/environment.ts';
import { runIdSchema, runPrefix } from '../../core/jobs/run-ids.ts';
import { typeScriptSteps } from '../../core/jobs/typescript-steps.ts';
import type { ColumnType } from '../../core/jobs/typescript-steps.ts';
import { ColumnBatch, readParquetColumns } from '../../core/lake/parquet.ts';
import type { ColumnKind } from '../../core/lake/parquet.ts';

const environment = readEnvironment({ LAKE_BUCKET: bucketName, PIPELINE_CONFIG: pipelineConfigVariable });
const { logger, traced, begin } = handlerTools('fit-clv');
const store = new S3ObjectStore(traced(new S3Client({})), environment.LAKE_BUCKET);

const inputSchema = z.object({ as_of: inputs.asOf, run_id: runIdSchema });

const KIND: Record<ColumnType, ColumnKind> = { varchar: 'string', double: 'float64', integer: 'int32', boolean: 'boolean' };

/**
 * The predictive-CLV step in AWS: reads this run's customer_summary columns (Parquet written by
 * Athena), calls the same pure function as the local runner, and writes clv_model, P(alive) per
 * history and the purchase curves as Parquet under the run's prefixes, for the SQL step that
 * joins them to the customers (customer_clv).
 */
export async function handler(event: unknown, context?: Context): Promise<{ as_of: string; run_id: string; rows: Record<string, number> }> {
  begin(context);
  const { as_of: asOf, run_id: runId } = inputSchema.parse(event);
  const step = typeScriptSteps.predictive_clv;
  const input: Record<string, unknown[]> = Object.fromEntries(step.inputColumns.map((name) => [name, []]));
  for (const key of await store.list(runPrefix('customer_summary', runId))) {
    const file = readParquetColumns(await store.get(key), step.inputColumns);
    for (const name of step.inputColumns) for (const value of file[name]!) input[name]!.push(value);
  }
  const results = step.run(input, environment.PIPELINE_CONFIG, asOf);
  const asOfMs = Date.parse(`${asOf}T00:00:00Z`);
  const rows: Record<string, number> = {};
  for (const [table, columns] of Object.entries(step.outputColumns)) {
    const batch = new ColumnBatch([
      ...columns.map((column) => ({ name: column.name, kind: KIND[column.type], nullable: true })),
      { name: 'as_of', kind: 'date', nullable: false },
    ]);
    for (const row of results[table] ?? []) batch.append({ ...row, as_of: asOfMs });
    await store.put(`${runPrefix(table, runId)}part-00000.parquet`, batch.toParquet());
    rows[table] = batch.length;
  }
  logger.info('fitted CLV models', { as_of: asOf, run_id: runId, customers: input['frequency']!.length });
  return { as_of: asOf, run_id: runId, rows };
}

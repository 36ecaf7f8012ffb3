import { handlerTools, inputs } from '../commons.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AthenaClient } from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { engineForInvocation } from '../../adapters/aws/athena-engine.ts';
import { S3ObjectStore } from '../../adapters/aws/s3-store.ts';
import { bucketName, readEnvironment } from '../../core/environment.ts';
import { rowObjects } from '../../core/ports.ts';
import { assembleReportData } from '../../core/report/report-data.ts';
import { renderReport } from '../../core/report/render.ts';
import type { Context } from 'aws-lambda';

const environment = readEnvironment({
  LAKE_BUCKET: bucketName,
  ATHENA_WORKGROUP: z.string().min(1),
  GLUE_DATABASE: z.string().regex(/^[a-z0-9_]+$/),
  CHART_JS_PATH: z
    .string()
    .min(1)
    .default(join(process.env['LAMBDA_TASK_ROOT'] ?? '.', 'chart.umd.min.js')),
});
const { logger, traced, begin } = handlerTools('write-report');
const store = new S3ObjectStore(traced(new S3Client({})), environment.LAKE_BUCKET);
const athena = { client: traced(new AthenaClient({})), workGroup: environment.ATHENA_WORKGROUP, database: environment.GLUE_DATABASE };
// Chart.js is inlined into every report; read it once per container.
const chartJs = readFileSync(environment.CHART_JS_PATH, 'utf8');

const inputSchema = z.object({ as_of: inputs.asOf });

/** Last state of a run: the same HTML report as `pipeline report`, at reports/as_of=DATE/report.html. */
export async function handler(event: unknown, context?: Context): Promise<{ as_of: string; key: string }> {
  begin(context);
  const { as_of: asOf } = inputSchema.parse(event);
  // A minute kept for rendering and writing the report.
  const engine = engineForInvocation(athena, context, 60_000);
  const data = await assembleReportData(async (sql) => rowObjects(await engine.query(sql)), asOf);
  const key = `reports/as_of=${asOf}/report.html`;
  await store.put(key, renderReport(data, chartJs));
  logger.info('wrote report', { as_of: asOf, key });
  return { as_of: asOf, key };
}

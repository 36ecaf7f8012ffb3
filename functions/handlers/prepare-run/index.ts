import { handlerTools, inputs } from '../commons.ts';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { bucketName, pipelineConfigVariable, readEnvironment } from '../../core/environment.ts';
import { jobGraph } from '../../core/jobs/graph.ts';
import { planAthenaRun } from '../../core/jobs/athena-plan.ts';
import type { AthenaRunPlan } from '../../core/jobs/athena-plan.ts';
import { runIdFor } from '../../core/jobs/run-ids.ts';
import { readSql } from '../../core/jobs/sql-template.ts';

const environment = readEnvironment({ LAKE_BUCKET: bucketName, PIPELINE_CONFIG: pipelineConfigVariable });
const { logger, begin } = handlerTools('prepare-run');

/** One date of an execution (the run lease's step decided the dates). */
const inputSchema = z.object({
  as_of: inputs.asOf,
  execution: z.string().min(1),
});

/**
 * First state of each date's run: renders every SQL step for Athena for this date (UNLOAD to
 * the run's own prefix) and returns the statements and their idempotency tokens. No rows pass
 * through the state, only the SQL: about 130 KB, within the 256 KB a state may hold (a test
 * keeps it there).
 */
export async function handler(event: unknown, context?: Context): Promise<AthenaRunPlan> {
  begin(context);
  const { as_of: asOf, execution } = inputSchema.parse(event);
  const templates: Record<string, string> = {};
  for (const step of jobGraph) if (step.type === 'sql') templates[step.name] = await readSql(step.sqlFile);
  const plan = planAthenaRun(environment.PIPELINE_CONFIG, asOf, runIdFor(execution, asOf), environment.LAKE_BUCKET, templates);
  logger.info('planned run', { as_of: asOf, run_id: plan.run_id, steps: Object.keys(plan.queries).length });
  return plan;
}

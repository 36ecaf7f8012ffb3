import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { bucketName, pipelineConfigVariable, readEnvironment } from '../core/environment.ts';
import { jobGraph } from '../core/jobs/graph.ts';
import { planAthenaRun } from '../core/jobs/athena-plan.ts';
import type { AthenaRunPlan } from '../core/jobs/athena-plan.ts';
import { readSql } from '../core/jobs/sql-template.ts';
import { isCalendarDate } from '../core/events/timestamps.ts';

const environment = readEnvironment({ LAKE_BUCKET: bucketName, PIPELINE_CONFIG: pipelineConfigVariable });
const logger = new Logger({ serviceName: 'prepare-run' });

/** What starts a run: an explicit as_of (a scheduler, a backfill, a person) or the schedule's time. */
const inputSchema = z.object({
  input: z
    .object({
      as_of: z.string().refine(isCalendarDate, { message: 'must be a date, YYYY-MM-DD' }).optional(),
      scheduled_time: z.iso.datetime({ offset: true }).optional(),
    })
    .refine((value) => value.as_of !== undefined || value.scheduled_time !== undefined, { message: 'needs as_of or scheduled_time' }),
  execution: z.string().min(1),
});

/** The day before the scheduled time, in the business time zone: a daily run covers yesterday. */
export function asOfForSchedule(scheduledTime: string, timeZone: string): string {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(scheduledTime));
  return new Date(Date.parse(`${today}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
}

/**
 * First state of the job-graph state machine: decides the as_of, renders every SQL step for
 * Athena for this run (UNLOAD to the run's own prefix) and returns the statements and their
 * idempotency tokens. No rows pass through the state, only a few kilobytes of SQL.
 */
export async function handler(event: unknown): Promise<AthenaRunPlan> {
  const parsed = inputSchema.parse(event);
  const config = environment.PIPELINE_CONFIG;
  const asOf = parsed.input.as_of ?? asOfForSchedule(parsed.input.scheduled_time!, config.businessTimezone);
  const templates: Record<string, string> = {};
  for (const step of jobGraph) if (step.type === 'sql') templates[step.name] = await readSql(step.sqlFile);
  const plan = planAthenaRun(config, asOf, parsed.execution, environment.LAKE_BUCKET, templates);
  logger.info('planned run', { as_of: asOf, run_id: plan.run_id, steps: Object.keys(plan.queries).length });
  return plan;
}

import { z } from 'zod';

/**
 * Run ids and where a run's step outputs live. On AWS every date of an execution is a run:
 * its steps write under runs/<table>/run_id=<run>/ and read each other through the run_<table>
 * Glue tables. Apart from the SQL templating, so that the functions that only read or write
 * a run's files (the CLV fit, promotion, the data tests) bundle none of it.
 */
const RUN_ID = /^[A-Za-z0-9_-]{1,80}$/;

/** A run id that is safe to put in SQL and S3 keys: letters, digits, dashes and underscores. */
export function checkRunId(runId: string): string {
  if (!RUN_ID.test(runId)) throw new Error(`run id ${JSON.stringify(runId)} must be letters, digits, dashes and underscores`);
  return runId;
}

/** A run id in a function's input. */
export const runIdSchema = z.string().regex(RUN_ID, { message: 'must be letters, digits, dashes and underscores' });

/** The run id of one date of an execution: its name and the date. */
export function runIdFor(executionName: string, asOf: string): string {
  checkRunId(executionName);
  return checkRunId(`${executionName.slice(0, 69)}-${asOf.replace(/-/g, '')}`);
}

/** Prefix of a step's output for one run. */
export const runPrefix = (table: string, runId: string) => `runs/${table}/run_id=${runId}/`;

/** The Glue table over a step's per-run outputs. */
export const runTable = (table: string) => `run_${table}`;

/** Points the SQL's references to the given step outputs at this run's rows. */
export function scopeToRun(sql: string, produced: ReadonlySet<string>, runId: string): string {
  return sql.replace(/\b(from|join)(\s+)([a-z_][a-z0-9_]*)\b/g, (match, keyword: string, space: string, table: string) =>
    produced.has(table) ? `${keyword}${space}(select * from ${runTable(table)} where run_id = '${runId}') as ${table}` : match,
  );
}

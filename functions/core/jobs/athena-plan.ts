import { createHash } from 'node:crypto';
import type { PipelineConfig } from '../config.ts';
import { jobGraph, outputsOf } from './graph.ts';
import type { JobStep } from './graph.ts';
import { checkRunId, runPrefix, scopeToRun } from './run-ids.ts';
import { renderSql, sqlParameters } from './sql-template.ts';

/**
 * How one run of the job graph executes on Athena. Every step writes its table to
 * runs/<table>/run_id=<run>/ (a fresh, empty prefix, as UNLOAD requires); a step reads earlier
 * outputs through the run_<table> Glue tables, filtered to its run. Only when every step has
 * succeeded does the promote step copy the curated tables to curated/<table>/as_of=<date>/, so
 * a failed or cancelled run never leaves partial output where a reader would look.
 */
export interface AthenaRunPlan {
  readonly as_of: string;
  readonly run_id: string;
  /** UNLOAD statement per SQL step. */
  readonly queries: Readonly<Record<string, string>>;
  /** Idempotency token per SQL step: a retried state never starts a second execution. */
  readonly tokens: Readonly<Record<string, string>>;
}

export function planAthenaRun(
  config: PipelineConfig,
  asOf: string,
  runId: string,
  bucket: string,
  templates: Readonly<Record<string, string>>,
  steps: readonly JobStep[] = jobGraph,
): AthenaRunPlan {
  checkRunId(runId);
  if (!/^[a-z0-9.-]{3,63}$/.test(bucket)) throw new Error(`bucket ${JSON.stringify(bucket)} is not a bucket name`);
  const parameters = sqlParameters(config, asOf);
  const produced = new Set<string>();
  const queries: Record<string, string> = {};
  const tokens: Record<string, string> = {};
  for (const current of steps) {
    if (current.type === 'sql') {
      const sql = scopeToRun(renderSql(templates[current.name]!, parameters), produced, runId);
      queries[current.name] = `unload (\n${sql}\n) to 's3://${bucket}/${runPrefix(current.name, runId)}' with (format = 'PARQUET', compression = 'ZSTD')`;
      tokens[current.name] = createHash('sha256').update(`${runId}\u001f${current.name}`).digest('hex');
    }
    for (const output of outputsOf(current)) produced.add(output);
  }
  return { as_of: asOf, run_id: runId, queries, tokens };
}

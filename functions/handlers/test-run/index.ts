import { handlerTools, inputs } from '../commons.ts';
import { AthenaClient } from '@aws-sdk/client-athena';
import { z } from 'zod';
import { engineForInvocation } from '../../adapters/aws/athena-engine.ts';
import { dataTestError, dataTestsOf, runDataTests } from '../../core/dictionary/data-tests.ts';
import { GRAPH_TABLES, tableDoc } from '../../core/dictionary/index.ts';
import { runIdSchema, scopeToRun } from '../../core/jobs/run-ids.ts';
import type { QueryEngine } from '../../core/ports.ts';
import type { Context } from 'aws-lambda';

const environment = z.object({ ATHENA_WORKGROUP: z.string().min(1), GLUE_DATABASE: z.string().regex(/^[a-z0-9_]+$/) }).parse(process.env);
const { logger, traced, begin } = handlerTools('test-run');
const athena = { client: traced(new AthenaClient({})), workGroup: environment.ATHENA_WORKGROUP, database: environment.GLUE_DATABASE };

const inputSchema = z.object({ as_of: inputs.asOf, run_id: runIdSchema });

/** An engine whose queries read this run's outputs wherever they name a table of the graph. */
export function runScopedEngine(engine: QueryEngine, runId: string): QueryEngine {
  const produced = new Set(GRAPH_TABLES);
  return {
    execute: (sql) => engine.execute(scopeToRun(sql, produced, runId)),
    query: (sql) => engine.query(scopeToRun(sql, produced, runId)),
    close: () => engine.close(),
  };
}

/**
 * The state machine's "Test data" step, after every step of the run and before promotion: the
 * table dictionary's tests on every table the run wrote, read on Athena from runs/. A failure
 * throws DataTestFailedError naming each failing table, column, test and a few rows; the
 * state machine stops there (DataTestsFailed), so nothing of the run is promoted or published.
 */
export async function handler(event: unknown, context?: Context): Promise<{ as_of: string; run_id: string; tests: number }> {
  begin(context);
  const { as_of: asOf, run_id: runId } = inputSchema.parse(event);
  const tests = GRAPH_TABLES.flatMap((table) => dataTestsOf(tableDoc(table), asOf));
  // Thirty seconds kept to stop a query still running and say so.
  const engine = runScopedEngine(engineForInvocation(athena, context, 30_000), runId);
  const failures = await runDataTests(engine, tests);
  if (failures.length > 0) {
    logger.error('data tests failed', { as_of: asOf, run_id: runId, failures: failures.map((failure) => failure.message) });
    throw dataTestError(failures, asOf);
  }
  logger.info('data tests passed', { as_of: asOf, run_id: runId, tests: tests.length });
  return { as_of: asOf, run_id: runId, tests: tests.length };
}

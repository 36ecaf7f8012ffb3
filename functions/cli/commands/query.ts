import { DuckDbEngine } from '../../adapters/duckdb-engine.ts';
import { createLakeViews, isLakeView, viewsNamedIn } from '../../adapters/lake-views.ts';
import { QueryFailedError, UsageError } from '../../core/errors.ts';
import { CURATED_TABLES } from '../../core/jobs/graph.ts';
import { latestView } from '../../core/lake/latest-views.ts';
import type { QueryResult } from '../../core/ports.ts';
import { formatResult, OUTPUT_FORMATS } from '../format.ts';
import type { OutputFormat } from '../format.ts';
import type { CommandContext } from '../context.ts';

export function parseOutputFormat(value: string | undefined): OutputFormat {
  if (value === undefined) return 'table';
  if (!(OUTPUT_FORMATS as readonly string[]).includes(value)) {
    throw new UsageError(`--format must be one of ${OUTPUT_FORMATS.join(', ')}`);
  }
  return value as OutputFormat;
}

/** Runs SQL over the lake's tables (raw events, rejected_events, every curated table). */
export async function queryLake(context: CommandContext, sql: string): Promise<QueryResult> {
  const engine = await DuckDbEngine.open();
  try {
    // Only the views the query names (all when it names none): each one reads its files' footers.
    const wanted = viewsNamedIn(sql);
    await createLakeViews(engine, context.store, wanted);
    try {
      return await engine.query(sql);
    } catch (error) {
      // A lake table named in a way the words do not show (query_table('latest_' || 'nps')):
      // every view, and the query once more.
      const missing = missingTable(error);
      if (missing === undefined || !isLakeView(missing) || wanted(missing.toLowerCase())) throw error;
      await createLakeViews(engine, context.store);
      return await engine.query(sql);
    }
  } finally {
    engine.close();
  }
}

/** The table a failed query found missing, if that is why it failed. */
const missingTable = (error: unknown) => /Table with name (\w+) does not exist/.exec((error as Error).message ?? '')?.[1];

/** DuckDB error kinds that mean the SQL itself is wrong: the user's input, exit code 2. */
const SQL_MISTAKES = /^(Parser|Binder|Catalog|Conversion|Invalid Input|Syntax) Error/;

/** Turns a failed ad hoc query into a message that says what to do about it. */
function explain(error: QueryFailedError): Error {
  const missing = missingTable(error);
  if (missing !== undefined && (CURATED_TABLES.includes(missing) || CURATED_TABLES.some((table) => latestView(table) === missing))) {
    return new UsageError(`table ${missing} has no data yet: run "pipeline run --as-of DATE" first`);
  }
  return SQL_MISTAKES.test(error.message) ? new UsageError(error.message) : error;
}

/** Runs a query for the command line: a mistake in the SQL, or a table not computed yet, is the caller's. */
export async function runLakeQuery(context: CommandContext, sql: string): Promise<QueryResult> {
  try {
    return await queryLake(context, sql);
  } catch (error) {
    throw error instanceof QueryFailedError ? explain(error) : error;
  }
}

export async function queryCommand(context: CommandContext, positionals: string[], format?: string): Promise<number> {
  const outputFormat = parseOutputFormat(format);
  if (positionals.length !== 1 || positionals[0]!.trim() === '') throw new UsageError('query needs one SQL argument, in quotes');
  context.stdout(formatResult(await runLakeQuery(context, positionals[0]!), outputFormat));
  return 0;
}

import { DuckDbEngine } from '../../adapters/duckdb-engine.ts';
import { createLakeViews } from '../../adapters/lake-views.ts';
import { UsageError } from '../../core/errors.ts';
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
    await createLakeViews(engine, context.store);
    return await engine.query(sql);
  } finally {
    engine.close();
  }
}

export async function queryCommand(context: CommandContext, positionals: string[], format?: string): Promise<number> {
  const outputFormat = parseOutputFormat(format);
  if (positionals.length !== 1 || positionals[0]!.trim() === '') throw new UsageError('query needs one SQL argument, in quotes');
  context.stdout(formatResult(await queryLake(context, positionals[0]!), outputFormat));
  return 0;
}

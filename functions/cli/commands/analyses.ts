import { listAnalyses } from '../../core/analyses.ts';
import { UsageError } from '../../core/errors.ts';
import { formatResult } from '../format.ts';
import type { CommandContext } from '../context.ts';
import { parseOutputFormat, runLakeQuery } from './query.ts';

/** `pipeline analyses`: lists the saved analyses; `pipeline analyses NAME` runs one. */
export async function analysesCommand(context: CommandContext, positionals: string[], format?: string): Promise<number> {
  const analyses = listAnalyses();
  if (positionals.length === 0) {
    const width = Math.max(...analyses.map((analysis) => analysis.name.length));
    for (const analysis of analyses) context.stdout(`${analysis.name.padEnd(width)}  ${analysis.title}\n`);
    context.stdout('\nrun one with: pipeline analyses NAME [--format table|csv|json]; each file in sql/analyses/ says what it answers\n');
    return 0;
  }
  if (positionals.length > 1) throw new UsageError('analyses takes at most one analysis name');
  const analysis = analyses.find((each) => each.name === positionals[0]);
  if (!analysis)
    throw new UsageError(`no analysis ${JSON.stringify(positionals[0])}; pipeline analyses lists them: ${analyses.map((each) => each.name).join(', ')}`);
  context.stdout(formatResult(await runLakeQuery(context, analysis.sql), parseOutputFormat(format)));
  return 0;
}

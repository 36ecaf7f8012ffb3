import { runLocalJobGraph } from '../../local/local-job-runner.ts';
import type { AsOfRun } from '../../local/local-job-runner.ts';
import { RUN_LEASE } from '../../core/jobs/run-request.ts';
import { progressLine, withLocalLease } from '../context.ts';
import type { CommandContext } from '../context.ts';

/** Runs the job graph for each date, printing one line per date. */
export async function runDates(context: CommandContext, asOfDates: readonly string[]): Promise<AsOfRun[]> {
  const progress = progressLine(context);
  // One run (or compaction) of a lake at a time, as in AWS.
  const runs = await withLocalLease(context, RUN_LEASE, () =>
    runLocalJobGraph({
      store: context.store,
      config: context.config,
      asOfDates,
      onStep: (asOf, step, index, total) => progress.update(`run ${asOf}: step ${index + 1}/${total} ${step.name}`),
    }),
  );
  progress.done();
  return runs;
}

export function describeRun(run: AsOfRun): string {
  const tables = Object.entries(run.rows)
    .map(([table, rows]) => `${table} ${rows.toLocaleString('en-US')}`)
    .join(', ');
  return `run ${run.asOf}: ${(run.milliseconds / 1000).toFixed(1)} s; rows: ${tables}\n`;
}

export async function runCommand(context: CommandContext, asOfDates: readonly string[]): Promise<number> {
  const runs = await runDates(context, asOfDates);
  for (const run of runs) context.stdout(describeRun(run));
  return 0;
}

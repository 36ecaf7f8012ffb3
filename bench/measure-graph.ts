/**
 * Runs the job graph for one as_of on a lake in a fresh process, so that its peak RSS is the
 * graph's own and not what ingest or an earlier run left in the heap. Prints one JSON object:
 * wall time, peak RSS and seconds per step.
 */
import { FilesystemObjectStore } from '../functions/adapters/filesystem-store.ts';
import { runLocalJobGraph } from '../functions/local/local-job-runner.ts';
import { defaultConfig, parseConfig } from '../functions/core/config.ts';

const lake = process.argv[2]!;
// `--threads N`: DuckDB's threads (the config's engine.threads), for comparing with the default.
const threadsFlag = process.argv.indexOf('--threads');
const config = threadsFlag < 0 ? defaultConfig : parseConfig({ engine: { threads: Number(process.argv[threadsFlag + 1]) } });
let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

const stepTimes: Record<string, number> = {};
let stepStarted = process.hrtime.bigint();
let current: string | undefined;
const started = process.hrtime.bigint();
const [run] = await runLocalJobGraph({
  store: new FilesystemObjectStore(lake),
  config,
  asOfDates: ['2025-12-31'],
  onStep: (_asOf, step) => {
    if (current) stepTimes[current] = seconds(stepStarted);
    current = step.name;
    stepStarted = process.hrtime.bigint();
  },
});
if (current) stepTimes[current] = seconds(stepStarted);
const elapsed = seconds(started);
clearInterval(sampler);
process.stdout.write(`${JSON.stringify({ seconds: elapsed, peakRss, stepTimes, customers: run!.rows['customer_summary'] })}\n`);

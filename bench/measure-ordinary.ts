/**
 * Measures one size of ordinary files from another writer (bench/ordinary.ts): the parse floor,
 * `pipeline ingest` of the orders and surveys, the job graph on that lake, and the hand-written
 * DuckDB queries (bench/hand-written.ts) on the same files. Each ingest and graph runs in a
 * process of its own. Prints one JSON object.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseFloor } from './bench-files.ts';
import { writeOrdinaryData } from './ordinary.ts';

const run = promisify(execFile);
const orders = Number(process.argv[2]);
const keep = process.argv.includes('--keep');
const root = await mkdtemp(join(tmpdir(), `ordinary-${orders}-`));
const child = async (script: string, ...args: string[]) =>
  JSON.parse((await run(process.execPath, ['--import', 'tsx', script, ...args], { maxBuffer: 1 << 20, timeout: 60 * 60_000 })).stdout);

try {
  const ordersPath = join(root, 'orders.jsonl');
  const surveysPath = join(root, 'surveys.jsonl');
  const generated = await writeOrdinaryData(orders, ordersPath, surveysPath);
  const { seconds: floorSeconds, parsed } = await parseFloor(ordersPath);
  const lake = join(root, 'lake');
  const ingest = await child('bench/measure-ingest.ts', ordersPath, lake, 'orders', 'command');
  const surveys = await child('bench/measure-ingest.ts', surveysPath, lake, 'surveys', 'command');
  const graph = await child('bench/measure-graph.ts', lake);
  const handWritten = await child('bench/hand-written.ts', ordersPath, surveysPath);
  // The yardstick must see the same shop: as many customers with a purchase as customer_summary.
  if (handWritten.customers !== graph.customers) throw new Error(`hand-written queries found ${handWritten.customers} customers, the graph ${graph.customers}`);
  process.stdout.write(
    `${JSON.stringify({
      orders,
      events: parsed,
      surveys: generated.surveyEvents,
      inputBytes: (await stat(ordersPath)).size,
      floorSeconds,
      ingestSeconds: ingest.seconds,
      ingestPeakRss: ingest.peakRss,
      ingestThreads: ingest.threads,
      parquetFiles: ingest.parquetFiles,
      ingestTimeOverFloorTime: ingest.seconds / floorSeconds,
      surveyIngestSeconds: surveys.seconds,
      graphSeconds: graph.seconds,
      graphPeakRss: graph.peakRss,
      handWrittenSeconds: handWritten.seconds,
      handWrittenPeakRss: handWritten.peakRss,
      graphTimeOverHandWrittenTime: graph.seconds / handWritten.seconds,
      customers: graph.customers,
      handWrittenCustomers: handWritten.customers,
      stepTimes: graph.stepTimes,
      handWrittenStepTimes: handWritten.stepTimes,
      ...(keep && { root }),
    })}\n`,
  );
} finally {
  if (!keep) await rm(root, { recursive: true, force: true });
}

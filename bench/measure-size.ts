/**
 * Measures one data size: generate, parse floor, ingest on one thread and as `pipeline ingest`
 * does it, the job graph on the lake as ingested, compaction, and the job graph again on the
 * compacted lake. Each ingest and graph runs in a process of its own, so its peak RSS is its
 * own. Prints one JSON object.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesystemObjectStore } from '../functions/adapters/filesystem-store.ts';
import { compactRawPartitions } from '../functions/local/compact-lake.ts';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parseFloor } from './bench-files.ts';
import { writeBenchData } from './generate.ts';

const run = promisify(execFile);
const orders = Number(process.argv[2]);
const root = await mkdtemp(join(tmpdir(), `bench-${orders}-`));
const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

async function sizeOf(directory: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(directory, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

interface IngestMeasurement {
  seconds: number;
  peakRss: number;
  received: number;
  threads: number;
  parquetFiles: number;
}

/** One ingest, measured in a process of its own (bench/measure-ingest.ts). */
async function measureIngest(path: string, lake: string, type: string, mode: 'single' | 'command'): Promise<IngestMeasurement> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/measure-ingest.ts', path, lake, type, mode], {
    maxBuffer: 1 << 20,
    timeout: 60 * 60_000,
  });
  return JSON.parse(stdout);
}

/** The job graph on the lake, measured in a process of its own (bench/measure-graph.ts). */
async function measureGraph(lake: string): Promise<{ seconds: number; peakRss: number; stepTimes: Record<string, number>; customers: number }> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/measure-graph.ts', lake], { maxBuffer: 1 << 20, timeout: 30 * 60_000 });
  return JSON.parse(stdout);
}

try {
  const ordersPath = join(root, 'orders.jsonl');
  const surveysPath = join(root, 'surveys.jsonl');
  let started = process.hrtime.bigint();
  const generated = await writeBenchData(orders, ordersPath, surveysPath);
  const generateSeconds = seconds(started);
  const inputBytes = (await stat(ordersPath)).size;

  // The floor: reading the same file and JSON.parse-ing every line, nothing else.
  const { seconds: floorSeconds, parsed } = await parseFloor(ordersPath);

  // Ingest on one thread into a lake of its own, then as the command does into the lake the graph reads.
  const single = await measureIngest(ordersPath, join(root, 'single-thread-lake'), 'orders', 'single');
  await rm(join(root, 'single-thread-lake'), { recursive: true, force: true });
  const lake = join(root, 'lake');
  const store = new FilesystemObjectStore(lake);
  const ingested = await measureIngest(ordersPath, lake, 'orders', 'command');
  await measureIngest(surveysPath, lake, 'surveys', 'command');
  const parquetBytes = await sizeOf(join(lake, 'raw', 'orders'));

  const asIngested = await measureGraph(lake);
  started = process.hrtime.bigint();
  const compaction = await compactRawPartitions(store);
  const compactSeconds = seconds(started);
  const compacted = await measureGraph(lake);
  process.stdout.write(
    `${JSON.stringify({
      orders,
      events: parsed,
      surveys: generated.surveyEvents,
      customers: compacted.customers,
      generateSeconds,
      inputBytes,
      floorSeconds,
      floorEventsPerSecond: parsed / floorSeconds,
      singleThreadIngestEventsPerSecond: single.received / single.seconds,
      singleThreadIngestPeakRss: single.peakRss,
      ingestThreads: ingested.threads,
      ingestSeconds: ingested.seconds,
      ingestEventsPerSecond: ingested.received / ingested.seconds,
      ingestPeakRss: ingested.peakRss,
      parquetBytes,
      parquetFiles: ingested.parquetFiles,
      uncompactedGraphSeconds: asIngested.seconds,
      uncompactedGraphPeakRss: asIngested.peakRss,
      compactSeconds,
      compactedFiles: compaction.reduce((sum, result) => sum + result.filesAfter, 0),
      graphSeconds: compacted.seconds,
      graphPeakRss: compacted.peakRss,
      stepTimes: compacted.stepTimes,
    })}\n`,
  );
} finally {
  await rm(root, { recursive: true, force: true });
}

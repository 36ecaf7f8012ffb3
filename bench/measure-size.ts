/**
 * Measures one data size in a fresh process (so its peak RSS is its own): generate, parse
 * floor, ingest, the job graph on the lake as ingested, compaction, and the job graph again
 * on the compacted lake (each graph run in a process of its own). Prints one JSON object.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesystemObjectStore } from '../functions/adapters/filesystem-store.ts';
import { compactRawPartitions } from '../functions/adapters/compact-lake.ts';
import { ingestRecords } from '../functions/core/ingest/ingest.ts';
import { openRecords } from '../functions/core/ingest/open-input.ts';
import { splitLines } from '../functions/core/ingest/lines.ts';
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { promisify } from 'node:util';
import { writeBenchData } from './generate.ts';

const run = promisify(execFile);
const orders = Number(process.argv[2]);
const root = await mkdtemp(join(tmpdir(), `bench-${orders}-`));
let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

async function sizeOf(directory: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(directory, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
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
  started = process.hrtime.bigint();
  let parsed = 0;
  for await (const lines of splitLines(createReadStream(ordersPath, { highWaterMark: 1 << 20 }))) {
    for (const line of lines) {
      if (line.text !== '') {
        JSON.parse(line.text);
        parsed += 1;
      }
    }
  }
  const floorSeconds = seconds(started);

  const lake = join(root, 'lake');
  const store = new FilesystemObjectStore(lake);
  peakRss = 0;
  started = process.hrtime.bigint();
  const ingested = await ingestRecords(await openRecords(ordersPath), { eventType: 'orders', source: 'orders.jsonl', store });
  const ingestSeconds = seconds(started);
  const ingestPeakRss = peakRss;
  await ingestRecords(await openRecords(surveysPath), { eventType: 'surveys', source: 'surveys.jsonl', store });
  const parquetBytes = await sizeOf(join(lake, 'raw', 'orders'));

  const asIngested = await measureGraph(lake);
  started = process.hrtime.bigint();
  const compaction = await compactRawPartitions(store);
  const compactSeconds = seconds(started);
  const compacted = await measureGraph(lake);
  process.stdout.write(
    JSON.stringify({
      orders,
      events: parsed,
      surveys: generated.surveyEvents,
      customers: compacted.customers,
      generateSeconds,
      inputBytes,
      floorSeconds,
      floorEventsPerSecond: parsed / floorSeconds,
      ingestSeconds,
      ingestEventsPerSecond: ingested.received / ingestSeconds,
      ingestPeakRss,
      parquetBytes,
      parquetFiles: ingested.keys.filter((key) => key.endsWith('.parquet')).length,
      uncompactedGraphSeconds: asIngested.seconds,
      uncompactedGraphPeakRss: asIngested.peakRss,
      compactSeconds,
      compactedFiles: compaction.reduce((sum, result) => sum + result.filesAfter, 0),
      graphSeconds: compacted.seconds,
      graphPeakRss: compacted.peakRss,
      stepTimes: compacted.stepTimes,
    }) + '\n',
  );
} finally {
  clearInterval(sampler);
  await rm(root, { recursive: true, force: true });
}

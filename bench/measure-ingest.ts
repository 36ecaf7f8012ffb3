/**
 * Ingests one file into a lake in a fresh process, so that its peak RSS is its own. Mode
 * `single` streams it on one thread (ingestRecords); mode `command` ingests it the way
 * `pipeline ingest` does (worker threads for a large plain JSON Lines file). Prints one JSON object.
 */
import { FilesystemObjectStore } from '../functions/adapters/filesystem-store.ts';
import { ingestLocalFile } from '../functions/local/parallel-ingest.ts';
import type { EventType } from '../functions/core/events/schemas.ts';
import { ingestRecords } from '../functions/core/ingest/ingest.ts';
import { openRecords } from '../functions/core/ingest/open-input.ts';

const [path, lake, type, mode] = process.argv.slice(2) as [string, string, EventType, 'single' | 'command'];
let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
const options = { eventType: type, source: path.split('/').pop()!, store: new FilesystemObjectStore(lake) };
const started = process.hrtime.bigint();
const result = mode === 'single' ? { ...(await ingestRecords(await openRecords(path), options)), threads: 1 } : await ingestLocalFile(path, options);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
clearInterval(sampler);
process.stdout.write(
  `${JSON.stringify({ seconds, peakRss, received: result.received, threads: result.threads, parquetFiles: result.keys.filter((key) => key.endsWith('.parquet')).length })}\n`,
);

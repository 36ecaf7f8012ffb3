import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FilesystemObjectStore } from '../../functions/adapters/filesystem-store.ts';
import { ingestJsonLinesFile } from '../../functions/local/parallel-ingest.ts';
import type { ToWorker, WorkerSetup } from '../../functions/local/parallel-ingest.ts';
import { bundledModuleUrl } from '../../functions/local/source-bundle.mjs';
import { DEFAULT_EARLIEST_EVENT_DATE, earliestEventMs } from '../../functions/core/events/timestamps.ts';
import { ErasedCustomers, keyedId } from '../../functions/core/erasure/register.ts';
import { Random } from '../../functions/core/demo/random.ts';
import { ingestRecords } from '../../functions/core/ingest/ingest.ts';
import type { IngestResult } from '../../functions/core/ingest/ingest-types.ts';
import { openRecords } from '../../functions/core/ingest/open-input.ts';
import { MAX_RECORD_BYTES } from '../../functions/core/ingest/oversized.ts';
import { readParquetRows } from '../../functions/core/lake/parquet.ts';
import { temporaryDirectory } from '../support/cli.ts';
import { orderEvent, surveyEvent } from '../support/events.ts';

/**
 * A file with everything that makes numbering and deciding hard: a byte-order mark, blank and
 * whitespace-only lines, CRLF, lines longer than a chunk or than the record size limit, invalid JSON and UTF-8, refused events (one dated before
 * the earliest event date), and the same event_id
 * delivered again far away (exactly, with other content, and three times), so that repeats
 * cross chunks and threads. The parallel path must store, count and refuse exactly what the
 * sequential one does.
 */
function hostileFile(): Buffer {
  const random = new Random(31);
  const parts: Buffer[] = [Buffer.from([0xef, 0xbb, 0xbf])];
  const sent: string[] = [];
  for (let index = 0; index < 3000; index += 1) {
    const roll = random.next();
    let line: string | Buffer;
    // Over the record size limit: cut out of the stream and refused whole, whatever chunk it starts in.
    if (index === 1000)
      line = JSON.stringify({
        ...orderEvent({ event_id: 'huge', order_id: 'o-huge', customer_id: 'c2', occurred_at: '2024-03-01T00:00:00Z' }),
        note: 'x'.repeat(MAX_RECORD_BYTES),
      });
    else if (index === 2000) line = ' '.repeat(MAX_RECORD_BYTES + 7);
    // Before the earliest event date (2000-01-01 UTC by default): refused by the worker that validates it.
    else if (index === 1500)
      line = JSON.stringify(orderEvent({ event_id: 'too-old', order_id: 'o-old', customer_id: 'c4', occurred_at: '2000-01-01T00:30:00+01:00' }));
    else if (roll < 0.04) line = '';
    else if (roll < 0.06)
      line = random.chance(0.5)
        ? '   \t\u00a0'
        : `\uFEFF${JSON.stringify(orderEvent({ event_id: `bom-${index}`, order_id: `o-bom-${index}`, customer_id: 'c3', occurred_at: '2024-04-01T00:00:00Z' }))}`;
    else if (roll < 0.08) line = '{"event_id": "broken"';
    else if (roll < 0.09) line = Buffer.concat([Buffer.from('{"event_id":"bad-'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    else if (roll < 0.12)
      line = JSON.stringify(
        orderEvent({ event_id: `neg-${index}`, order_id: `o-neg-${index}`, customer_id: 'c1', occurred_at: '2024-02-01T00:00:00Z', total: -1 }),
      );
    else if (roll < 0.13) {
      // Longer than a chunk: its pieces are carried across reads.
      line = JSON.stringify({
        ...orderEvent({ event_id: `long-${index}`, order_id: `o-long-${index}`, customer_id: 'c2', occurred_at: '2024-03-01T00:00:00Z' }),
        note: 'x'.repeat(9000),
      });
      sent.push(line);
    } else if (roll < 0.22 && sent.length > 0)
      line = sent[random.integer(0, sent.length - 1)]!; // exact repeat, anywhere earlier
    else if (roll < 0.27 && sent.length > 0) {
      const earlier = JSON.parse(sent[random.integer(0, sent.length - 1)]!);
      line = JSON.stringify({ ...earlier, total: earlier.total + 1 }); // same event_id, other content
    } else {
      line = JSON.stringify(
        orderEvent({
          event_id: `e${index}`,
          order_id: `o${index}`,
          customer_id: `c${index % 97}`,
          occurred_at: new Date(Date.UTC(2024, 0, 1) + index * 3_600_000).toISOString(),
        }),
      );
      sent.push(line);
    }
    parts.push(typeof line === 'string' ? Buffer.from(line) : line, Buffer.from(random.chance(0.1) ? '\r\n' : '\n'));
  }
  // The last line has no terminator.
  parts.push(Buffer.from(JSON.stringify(orderEvent({ event_id: 'last', order_id: 'o-last', customer_id: 'c1', occurred_at: '2024-05-31T23:59:59Z' }))));
  return Buffer.concat(parts);
}

let directory: { path: string; cleanup: () => Promise<void> };
let file: string;
const receivedAt = new Date('2024-06-01T00:00:00Z');

beforeAll(async () => {
  directory = await temporaryDirectory();
  file = join(directory.path, 'orders.jsonl');
  await writeFile(file, hostileFile());
});
afterAll(async () => directory?.cleanup());

/** Everything a batch left in the lake, in a comparable order. */
async function contents(store: FilesystemObjectStore, result: IngestResult) {
  const rows: Record<string, unknown>[] = [];
  const rejected: Record<string, unknown>[] = [];
  for (const key of result.keys) {
    if (key.endsWith('.parquet')) rows.push(...readParquetRows(await store.get(key)).map((row) => ({ ...row, partition: key.split('/')[2] })));
    else
      rejected.push(
        ...(await readFile(store.pathOf(key), 'utf8'))
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line)),
      );
  }
  const byRecord = (a: Record<string, unknown>, b: Record<string, unknown>) => Number(a['record_number']) - Number(b['record_number']);
  return { rows: rows.sort(byRecord), rejected: rejected.sort(byRecord) };
}

describe('parallel ingest of a JSON Lines file', () => {
  it.each([
    [2, 700],
    [3, 333],
    [3, 4096],
  ])('with %i workers and %i-byte chunks stores, counts and refuses exactly what one thread does', async (workers, chunkBytes) => {
    const options = { eventType: 'orders' as const, source: 'orders.jsonl', receivedAt, ingestId: 'same-batch' };
    const sequentialStore = new FilesystemObjectStore(join(directory.path, `sequential-${workers}`));
    const parallelStore = new FilesystemObjectStore(join(directory.path, `parallel-${workers}`));
    const sequential = await ingestRecords(await openRecords(file), { ...options, store: sequentialStore });
    const parallel = await ingestJsonLinesFile(file, { ...options, store: parallelStore, workers, chunkBytes, rowsPerFlush: 500 });

    const { keys: _sequentialKeys, ...sequentialCounts } = sequential;
    const { keys: _parallelKeys, ...parallelCounts } = parallel;
    expect(parallelCounts).toEqual(sequentialCounts);
    expect(sequential.rejected).toBeGreaterThan(100);
    expect(sequential.duplicates).toBeGreaterThan(100);
    expect(sequential.received).toBe(sequential.accepted + sequential.rejected);
    const expected = await contents(sequentialStore, sequential);
    expect(expected.rejected.filter((refused) => /over the 1,048,576-byte limit/.test(String(refused['reason'])))).toHaveLength(2);
    expect(expected.rejected.filter((refused) => /^occurred_at: must be on or after 2000-01-01 \(UTC\)/.test(String(refused['reason'])))).toHaveLength(1);
    const actual = await contents(parallelStore, parallel);
    expect(actual.rows).toEqual(expected.rows);
    expect(actual.rejected).toEqual(expected.rejected);
  });

  it('writes events of many days under the day the batch was received: one file per thread when they fit in one flush', async () => {
    const options = { eventType: 'orders' as const, source: 'orders.jsonl', receivedAt, ingestId: 'same-batch' };
    const sequentialStore = new FilesystemObjectStore(join(directory.path, 'sequential-files'));
    const parallelStore = new FilesystemObjectStore(join(directory.path, 'parallel-files'));
    const sequential = await ingestRecords(await openRecords(file), { ...options, store: sequentialStore });
    const parallel = await ingestJsonLinesFile(file, { ...options, store: parallelStore, workers: 3, chunkBytes: 700 });
    const rawFiles = (keys: readonly string[]) => keys.filter((key) => key.endsWith('.parquet'));
    const rows = await contents(sequentialStore, sequential);
    expect(new Set(rows.rows.map((row) => new Date(row['occurred_at'] as number).toISOString().slice(0, 10))).size).toBeGreaterThan(20);
    expect(rawFiles(sequential.keys)).toHaveLength(1);
    expect(rawFiles(parallel.keys)).toHaveLength(3);
    expect(rawFiles([...sequential.keys, ...parallel.keys]).every((key) => key.startsWith('raw/orders/dt=2024-06-01/'))).toBe(true);
    expect((await contents(parallelStore, parallel)).rows).toEqual(rows.rows);
  });

  it('decides surveys with an erased customer (as the one who answered, or named in an extra referred_by) as one thread does', async () => {
    const key = new Uint8Array(32).fill(3);
    const erased = ErasedCustomers.of(key, new Map([[keyedId(key, 'gone'), '2024-05-01']]));
    const random = new Random(5);
    const lines: string[] = [];
    const sent: Record<string, unknown>[] = [];
    for (let index = 0; index < 600; index += 1) {
      let survey: Record<string, unknown>;
      const roll = random.next();
      if (roll < 0.25 && sent.length > 0)
        survey = sent[random.integer(0, sent.length - 1)]!; // the same answer again
      else if (roll < 0.35 && sent.length > 0)
        survey = { ...sent[random.integer(0, sent.length - 1)]!, score: 3 }; // the same id, another answer
      else {
        const customer = random.chance(0.2) ? 'gone' : `c${index % 13}`;
        survey = { ...surveyEvent({ event_id: `s${index}`, customer_id: customer, occurred_at: '2024-03-01T10:00:00Z', score: 7 }) };
        if (random.chance(0.3)) survey['referred_by'] = random.chance(0.5) ? 'gone' : 'c1';
        sent.push(survey);
      }
      // Now and then spelled with an escape: the ordinary path reads it, as the same event.
      const line = JSON.stringify(survey);
      lines.push(random.chance(0.1) ? line.replace('"score"', '"\\u0073core"') : line);
    }
    const surveys = join(directory.path, 'surveys-erased.jsonl');
    await writeFile(surveys, `${lines.join('\n')}\n`);
    const options = { eventType: 'surveys' as const, source: 'surveys-erased.jsonl', receivedAt, ingestId: 'erased-batch', erased };
    const sequentialStore = new FilesystemObjectStore(join(directory.path, 'sequential-erased'));
    const parallelStore = new FilesystemObjectStore(join(directory.path, 'parallel-erased'));
    const sequential = await ingestRecords(await openRecords(surveys), { ...options, store: sequentialStore });
    const parallel = await ingestJsonLinesFile(surveys, { ...options, store: parallelStore, workers: 2, chunkBytes: 1500 });

    const { keys: _sequentialKeys, ...sequentialCounts } = sequential;
    const { keys: _parallelKeys, ...parallelCounts } = parallel;
    expect(parallelCounts).toEqual(sequentialCounts);
    expect(sequential.duplicates).toBeGreaterThan(20);
    expect(sequential.rejected).toBeGreaterThan(20);
    const expected = await contents(sequentialStore, sequential);
    expect(expected.rejected.some((refused) => refused['payload'] === null)).toBe(true);
    expect(await contents(parallelStore, parallel)).toEqual(expected);
  });

  it("writes files of a thread's share of rowsPerFlush, and at the end of up to twice that, however the rows fall on the threads", async () => {
    const busyDay = join(directory.path, 'busy-day.jsonl');
    const events = Array.from({ length: 3000 }, (_, index) =>
      orderEvent({
        event_id: `busy-${index}`,
        order_id: `o-busy-${index}`,
        customer_id: `c${index % 101}`,
        // All but every tenth event on one sale day: no difference, every row goes under the day received.
        occurred_at: new Date(Date.UTC(2024, 10, index % 10 === 0 ? 1 + (index % 7) : 29, 12) + index).toISOString(),
      }),
    );
    await writeFile(busyDay, `${events.map((event) => JSON.stringify(event)).join('\n')}\n`);
    const options = { eventType: 'orders' as const, source: 'busy-day.jsonl', receivedAt, ingestId: 'busy' };
    const sequentialStore = new FilesystemObjectStore(join(directory.path, 'sequential-busy'));
    const parallelStore = new FilesystemObjectStore(join(directory.path, 'parallel-busy'));
    const rowsPerFlush = 400;
    const sequential = await ingestRecords(await openRecords(busyDay), { ...options, store: sequentialStore, rowsPerFlush });
    // Chunks of about three rows: the rows still undecided when the whole file is handed out (at
    // most 16 chunks a thread) are fewer than a share, so every thread fills its shares but the last.
    const parallel = await ingestJsonLinesFile(busyDay, { ...options, store: parallelStore, workers: 3, chunkBytes: 512, rowsPerFlush });

    const files = parallel.keys.filter((key) => key.endsWith('.parquet'));
    const rowsPerFile = await Promise.all(files.map(async (key) => readParquetRows(await parallelStore.get(key)).length));
    // Three threads, each holding a third (rounded up) of what the sequential path holds; once the
    // whole file is handed out, a thread writes its files at twice that.
    const share = Math.ceil(rowsPerFlush / 3);
    const overShare = rowsPerFile.filter((rows) => rows > share);
    expect(overShare.length).toBeLessThanOrEqual(3);
    expect(Math.max(...rowsPerFile)).toBeLessThanOrEqual(2 * share);
    expect(rowsPerFile.filter((rows) => rows === share).length).toBeGreaterThanOrEqual(Math.floor(3000 / share) - 6);
    expect((await contents(parallelStore, parallel)).rows).toEqual((await contents(sequentialStore, sequential)).rows);
  });

  it('has a worker told that the whole file is handed out keep its rows for its last file, up to twice its share', async () => {
    const lines = Array.from({ length: 32 }, (_, index) =>
      JSON.stringify(orderEvent({ event_id: `w-${index}`, order_id: `o-w-${index}`, customer_id: `c${index % 5}`, occurred_at: '2024-05-01T10:00:00Z' })),
    );
    const setup: WorkerSetup = {
      eventType: 'orders',
      source: 'worker.jsonl',
      ingestId: 'worker',
      receivedAtMs: receivedAt.getTime(),
      rowsPerFile: 10,
      earliestEventMs: earliestEventMs(DEFAULT_EARLIEST_EVENT_DATE),
    };
    const worker = new Worker(await bundledModuleUrl(new URL('../../functions/local/ingest-worker.ts', import.meta.url)), { workerData: setup });
    const received: { type: string; chunkIndex?: number; ids?: { count: number }; files?: Uint8Array[] }[] = [];
    let arrived: (() => void) | undefined;
    worker.on('message', (message) => {
      received.push(message);
      arrived?.();
    });
    const until = async (done: () => boolean) => {
      while (!done()) await new Promise<void>((resolve) => (arrived = resolve));
    };
    const rowsOf = (type: string) =>
      received.filter((message) => message.type === type).flatMap((message) => message.files!.map((bytes) => readParquetRows(bytes).length));
    const send = (message: ToWorker) => worker.postMessage(message);
    const decide = async (chunkIndex: number) => {
      send({ type: 'decide', chunkIndex, linesBefore: chunkIndex * 8, recordsBefore: chunkIndex * 8, store: new Uint8Array(8).fill(1), conflicts: [] });
      await until(() => received.some((message) => message.type === 'decided' && message.chunkIndex === chunkIndex));
    };
    try {
      // Four chunks of eight rows, parsed before any is decided, as the main thread hands them out.
      for (let chunkIndex = 0; chunkIndex < 4; chunkIndex += 1) {
        send({ type: 'chunk', chunkIndex, bytes: new TextEncoder().encode(`${lines.slice(chunkIndex * 8, chunkIndex * 8 + 8).join('\n')}\n`) });
      }
      await until(() => received.filter((message) => message.type === 'parsed').length === 4);
      expect(received.map((message) => message.ids?.count)).toEqual([8, 8, 8, 8]);
      await decide(0);
      await decide(1); // 16 rows: a file of 10, 6 held
      send({ type: 'inputRead' });
      await decide(2); // 14 held: no file at 10 any more
      expect(rowsOf('flushed')).toEqual([10]);
      await decide(3); // 22: a file at twice the share, 2 held
      send({ type: 'finish' });
      await until(() => received.some((message) => message.type === 'finished'));
      expect(rowsOf('flushed')).toEqual([10, 20]);
      expect(rowsOf('finished')).toEqual([2]);
    } finally {
      await worker.terminate();
    }
  });
});

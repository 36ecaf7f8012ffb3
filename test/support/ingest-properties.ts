import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { expect } from 'vitest';
import { CURATED_TABLES } from '../../functions/core/jobs/graph.ts';
import { ingestRecords } from '../../functions/core/ingest/ingest.ts';
import { recordsOf } from '../../functions/core/ingest/open-input.ts';
import { readParquetRows } from '../../functions/core/lake/parquet.ts';
import { DuckDbEngine } from '../../functions/adapters/duckdb-engine.ts';
import { FilesystemObjectStore } from '../../functions/adapters/filesystem-store.ts';
import { createLakeViews } from '../../functions/adapters/lake-views.ts';
import { formatResult } from '../../functions/cli/format.ts';
import { parseCsv, pipeline, temporaryDirectory } from './cli.ts';
import { MemoryObjectStore } from './memory-store.ts';

/**
 * Generators and a reference model for the ingest properties (test/integration and
 * test/stress run them with different sizes): any mix of valid, invalid, blank and repeated
 * lines, split across files in any way, must be accounted for exactly as the model says.
 */

/** One line of an input file, with what the model needs to know about it. */
export type Delivery =
  | { readonly kind: 'valid'; readonly text: string; readonly eventId: string }
  | { readonly kind: 'invalid'; readonly text: string }
  | { readonly kind: 'blank'; readonly text: string };

const day = 86_400_000;

/** Order events over a few ids, customers and days, so that repeats and conflicts are common. */
export const orderEvent = (ids: number) =>
  fc.record({
    event_id: fc.integer({ min: 0, max: ids - 1 }).map((index) => `e${index}`),
    order_id: fc.constantFrom('o1', 'o2', 'o3', 'o4', 'o5'),
    customer_id: fc.constantFrom('c1', 'c2', 'c3', 'c4'),
    occurred_at: fc.integer({ min: 0, max: 150 }).map((offset) => new Date(Date.UTC(2024, 0, 1) + offset * day + 3_600_000).toISOString()),
    status: fc.constantFrom('placed', 'placed', 'placed', 'cancelled', 'refunded'),
    total: fc.integer({ min: 0, max: 20_000 }).map((cents) => cents / 100),
    currency: fc.constant('EUR'),
  });

/** Spend events over a few ids, channels and days. */
export const spendEvent = (ids: number) =>
  fc.record({
    event_id: fc.integer({ min: 0, max: ids - 1 }).map((index) => `e${index}`),
    spend_date: fc.integer({ min: 0, max: 150 }).map((offset) => new Date(Date.UTC(2024, 0, 1) + offset * day).toISOString().slice(0, 10)),
    channel: fc.constantFrom('web', 'app', 'store'),
    amount: fc.integer({ min: 0, max: 2_000_000 }).map((cents) => cents / 100),
    currency: fc.constant('EUR'),
  });

const brokenJson = [fc.constant('{"event_id": "cut'), fc.constant('[1, 2, 3]'), fc.constant('"just a string"')];

/** What the properties need of each input: valid records, refused lines, and a stored row as it was sent. */
const INPUTS = {
  orders: {
    valid: orderEvent,
    invalid: fc.oneof(
      ...brokenJson,
      orderEvent(4).map((event) => JSON.stringify({ ...event, event_id: `bad-${event.event_id}`, total: -1 })),
      orderEvent(4).map((event) => JSON.stringify({ ...event, event_id: `text-${event.event_id}`, total: String(event.total) })),
      orderEvent(4).map(({ customer_id: _, ...event }) => JSON.stringify({ ...event, event_id: `nocust-${event.event_id}` })),
      orderEvent(4).map((event) => JSON.stringify({ ...event, event_id: `late-${event.event_id}`, occurred_at: '2101-01-01T00:00:00Z' })),
      orderEvent(4).map((event) => JSON.stringify({ ...event, event_id: `self-${event.event_id}`, referred_by: event.customer_id })),
    ),
    /** The stored row as the JSON text it was sent as (field order of the generator). */
    asSent: (row: Record<string, unknown>) =>
      JSON.stringify({
        event_id: row['event_id'],
        order_id: row['order_id'],
        customer_id: row['customer_id'],
        occurred_at: new Date(Number(row['occurred_at'])).toISOString(),
        status: row['status'],
        total: row['total'],
        currency: row['currency'],
      }),
  },
  spend: {
    valid: spendEvent,
    invalid: fc.oneof(
      ...brokenJson,
      spendEvent(4).map((event) => JSON.stringify({ ...event, event_id: `bad-${event.event_id}`, amount: -1 })),
      spendEvent(4).map((event) => JSON.stringify({ ...event, event_id: `date-${event.event_id}`, spend_date: '2024-02-30' })),
      spendEvent(4).map(({ channel: _, ...event }) => JSON.stringify({ ...event, event_id: `nochannel-${event.event_id}` })),
      spendEvent(4).map((event) => JSON.stringify({ ...event, event_id: `self-${event.event_id}`, replaces: `self-${event.event_id}` })),
    ),
    asSent: (row: Record<string, unknown>) =>
      JSON.stringify({
        event_id: row['event_id'],
        spend_date: new Date(Number(row['spend_date'])).toISOString().slice(0, 10),
        channel: row['channel'],
        amount: row['amount'],
        currency: row['currency'],
      }),
  },
} as const;

export type PropertyInput = keyof typeof INPUTS;

type Step =
  | { readonly step: 'event'; readonly event: Record<string, unknown> }
  | { readonly step: 'repeat'; readonly pick: number }
  | { readonly step: 'invalid'; readonly text: string }
  | { readonly step: 'blank'; readonly text: string };

/** Lines in the order received; exact repeats of earlier lines are drawn on purpose (rare by chance). */
export function deliveries(options: { maxLines: number; ids: number; input?: PropertyInput }): fc.Arbitrary<Delivery[]> {
  const input = INPUTS[options.input ?? 'orders'];
  const step: fc.Arbitrary<Step> = fc.oneof(
    { weight: 6, arbitrary: input.valid(options.ids).map((event) => ({ step: 'event' as const, event })) },
    { weight: 3, arbitrary: fc.nat().map((pick) => ({ step: 'repeat' as const, pick })) },
    { weight: 2, arbitrary: input.invalid.map((text) => ({ step: 'invalid' as const, text })) },
    { weight: 1, arbitrary: fc.constantFrom('', '   ', '\t').map((text) => ({ step: 'blank' as const, text })) },
  );
  // At least a third of the maximum: fast-check's small default sizes would seldom repeat an id across files.
  return fc.array(step, { minLength: Math.floor(options.maxLines / 3), maxLength: options.maxLines }).map((steps) => {
    const lines: Delivery[] = [];
    const valid: Extract<Delivery, { kind: 'valid' }>[] = [];
    for (const current of steps) {
      if (current.step === 'invalid' || current.step === 'blank') lines.push({ kind: current.step, text: current.text });
      else if (current.step === 'repeat' && valid.length > 0) lines.push(valid[current.pick % valid.length]!);
      else if (current.step === 'event') {
        const line = { kind: 'valid' as const, text: JSON.stringify(current.event), eventId: String(current.event['event_id']) };
        valid.push(line);
        lines.push(line);
      }
    }
    return lines;
  });
}

/** The lines cut into consecutive files at any points (some files may be empty). */
export function splitIntoFiles<T>(items: fc.Arbitrary<T[]>, maxFiles: number): fc.Arbitrary<T[][]> {
  return items.chain((all) =>
    fc.array(fc.integer({ min: 0, max: all.length }), { minLength: 1, maxLength: maxFiles - 1 }).map((cuts) => {
      const points = [0, ...[...cuts].sort((a, b) => a - b), all.length];
      return points.slice(1).map((end, index) => all.slice(points[index], end));
    }),
  );
}

export const fileText = (lines: readonly Delivery[]) => lines.map((line) => `${line.text}\n`).join('');

/** What the contract says one file's ingest does, line by line. */
export function expectedOutcome(lines: readonly Delivery[]) {
  const first = new Map<string, string>();
  const stored: string[] = [];
  const rejectedLines: number[] = [];
  let received = 0;
  let duplicates = 0;
  lines.forEach((line, index) => {
    if (line.kind === 'blank') return;
    received += 1;
    if (line.kind === 'invalid') rejectedLines.push(index + 1);
    else if (!first.has(line.eventId)) {
      first.set(line.eventId, line.text);
      stored.push(line.text);
    } else if (first.get(line.eventId) === line.text) duplicates += 1;
    else rejectedLines.push(index + 1); // same event_id, other content
  });
  return { received, rejected: rejectedLines.length, accepted: received - rejectedLines.length, duplicates, stored, rejectedLines };
}

const encoder = new TextEncoder();
async function* bytesOf(text: string): AsyncGenerator<Uint8Array> {
  // Small chunks, so that lines also cross the reads.
  const bytes = encoder.encode(text);
  for (let offset = 0; offset < bytes.length; offset += 97) yield bytes.subarray(offset, offset + 97);
}

/**
 * Ingests each file as its own batch and holds every count, stored row and refused line to the
 * model: received = accepted + rejected, every valid record stored once (its first delivery in
 * the file) and every refused line kept verbatim with a reason.
 */
export async function checkIngestAccounting(files: readonly (readonly Delivery[])[], input: PropertyInput = 'orders'): Promise<void> {
  const store = new MemoryObjectStore();
  const storedIds = new Set<string>();
  for (const [index, lines] of files.entries()) {
    const text = fileText(lines);
    const result = await ingestRecords(recordsOf('jsonl', bytesOf(text)), {
      eventType: input,
      source: `file-${index}.jsonl`,
      store,
      ingestId: `batch${index}`,
      receivedAt: new Date('2024-06-01T00:00:00Z'),
      rowsPerFlush: 7,
    });
    const expected = expectedOutcome(lines);
    expect(result.received).toBe(result.accepted + result.rejected);
    const { received, accepted, rejected, duplicates, stored } = result;
    expect({ received, accepted, rejected, duplicates, stored }).toEqual({
      received: expected.received,
      accepted: expected.accepted,
      rejected: expected.rejected,
      duplicates: expected.duplicates,
      stored: expected.stored.length,
    });
    const rows: Record<string, unknown>[] = [];
    const refused: Record<string, unknown>[] = [];
    for (const key of result.keys) {
      const body = await store.get(key);
      if (key.endsWith('.parquet')) rows.push(...readParquetRows(body));
      else
        refused.push(
          ...new TextDecoder()
            .decode(body)
            .trim()
            .split('\n')
            .map((line) => JSON.parse(line)),
        );
    }
    expect(rows.map(INPUTS[input].asSent).sort()).toEqual([...expected.stored].sort());
    expect(refused.map((record) => record['line_number']).sort((a, b) => Number(a) - Number(b))).toEqual(expected.rejectedLines);
    for (const record of refused) {
      expect(record['payload']).toBe(lines[Number(record['line_number']) - 1]!.text);
      expect(String(record['reason'])).not.toBe('');
    }
    for (const row of rows) storedIds.add(String(row['event_id']));
  }
  // No valid record is lost: every event_id delivered validly is stored somewhere.
  for (const lines of files) for (const line of lines) if (line.kind === 'valid') expect(storedIds).toContain(line.eventId);
}

/** Every curated table of one as_of, as the rows a user would query, in a fixed order. */
/**
 * Every curated table of a date, as `pipeline query --format csv` prints it, read through one
 * engine (a command per table would bind every raw file of the lake once per table).
 */
export async function snapshotTables(lake: string, asOf: string): Promise<Record<string, Record<string, string | null>[]>> {
  const engine = await DuckDbEngine.open();
  try {
    await createLakeViews(engine, new FilesystemObjectStore(lake));
    const tables: Record<string, Record<string, string | null>[]> = {};
    for (const table of CURATED_TABLES) {
      tables[table] = parseCsv(formatResult(await engine.query(`select * from ${table} where as_of = date '${asOf}' order by all`), 'csv'));
    }
    return tables;
  } finally {
    engine.close();
  }
}

async function ingestAll(lake: string, paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    const result = await pipeline('ingest', 'orders', path, '--lake', lake);
    if (result.code !== 0) throw new Error(`ingest failed: ${result.stderr}`);
    // Batches received in the same millisecond would be ordered by their ids' random suffixes;
    // the properties are about files received one after another.
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

async function runAsOf(lake: string, asOf: string): Promise<void> {
  const result = await pipeline('run', '--as-of', asOf, '--lake', lake);
  if (result.code !== 0) throw new Error(`run failed: ${result.stderr}`);
}

/**
 * Ingests the files one by one and runs the job graph; then checks that (a) the same lines as
 * one file give the same tables (first delivery received wins, whatever the split), and (b)
 * ingesting every file again, in reverse order, changes no table.
 */
export async function checkMetricsIgnoreSplitAndReingest(files: readonly (readonly Delivery[])[], asOf = '2024-06-01'): Promise<void> {
  fc.pre(files.some((lines) => lines.some((line) => line.kind === 'valid')));
  const { path: directory, cleanup } = await temporaryDirectory('properties-');
  try {
    const paths: string[] = [];
    for (const [index, lines] of files.entries()) {
      paths.push(join(directory, `orders-${index}.jsonl`));
      await writeFile(paths[index]!, fileText(lines));
    }
    const whole = join(directory, 'all.jsonl');
    await writeFile(whole, fileText(files.flat()));

    const splitLake = join(directory, 'split-lake');
    await ingestAll(splitLake, paths);
    await runAsOf(splitLake, asOf);
    const split = await snapshotTables(splitLake, asOf);
    // Lines whose orders all net to nothing (cancelled, refunded, zero totals) leave no customer: nothing to compare.
    fc.pre(split['customer_summary']!.length > 0);

    const wholeLake = join(directory, 'whole-lake');
    await ingestAll(wholeLake, [whole]);
    await runAsOf(wholeLake, asOf);
    expect(await snapshotTables(wholeLake, asOf)).toEqual(split);

    await ingestAll(splitLake, [...paths].reverse());
    await runAsOf(splitLake, asOf);
    expect(await snapshotTables(splitLake, asOf)).toEqual(split);
  } finally {
    await cleanup();
  }
}

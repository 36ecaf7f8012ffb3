import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv, pipeline, queryCsv, temporaryDirectory } from '../support/cli.ts';
import { filesUnder, findIds } from '../support/lake-scan.ts';

/**
 * `pipeline forget` on the lake `npm start` builds (the demo: landing files in every format,
 * surveys, referrals, published messages, reports). In test:stress: it scans every file of the
 * lake three times.
 */
let root: string;
let lake: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const directory = await temporaryDirectory();
  root = directory.path;
  cleanup = directory.cleanup;
  lake = join(root, 'lake');
  const demo = await pipeline('demo', '--lake', lake);
  expect(demo.code, demo.stderr).toBe(0);
});

afterAll(async () => cleanup?.());

/** A JSON Lines line's object, or nothing for a blank or broken line. */
function parsedOrNothing(line: string): Record<string, unknown>[] {
  try {
    const value = JSON.parse(line);
    return typeof value === 'object' && value !== null ? [value] : [];
  } catch {
    return [];
  }
}

describe('pipeline forget on the demo lake', () => {
  let erasedLake: string;
  let ids: string[];
  let asOf: string;
  let originals: string;
  const before: Record<string, Record<string, string | null>[]> = {};

  beforeAll(async () => {
    // A copy, so that the original files stay to be ingested again.
    erasedLake = join(root, 'erased-lake');
    await cp(lake, erasedLake, { recursive: true });
    originals = join(root, 'original-landing');
    await cp(join(lake, 'landing'), originals, { recursive: true });
    asOf = (await queryCsv(erasedLake, 'select max(as_of) as as_of from customer_summary'))[0]!['as_of']!;
    // A referrer (other customers' orders name them), a customer who was messaged, and one who answered a survey.
    const [referrer] = await queryCsv(
      erasedLake,
      'select referred_by as id from orders where referred_by is not null group by 1 order by count(*) desc, 1 limit 1',
    );
    const [messaged] = await queryCsv(
      erasedLake,
      `select customer_id as id from published_messages where customer_id <> '${referrer!['id']}' order by 1 limit 1`,
    );
    const [surveyed] = await queryCsv(
      erasedLake,
      `select customer_id as id from surveys where customer_id not in ('${referrer!['id']}', '${messaged!['id']}') order by 1 limit 1`,
    );
    ids = [referrer!['id']!, messaged!['id']!, surveyed!['id']!];
    // A refused record of one of them, kept verbatim until the erasure.
    const refused = join(root, 'refused.jsonl');
    await writeFile(
      refused,
      `${JSON.stringify({ event_id: 'e-refused', order_id: 'o-refused', customer_id: ids[0], occurred_at: '2026-09-01T10:00:00Z', total: -5, currency: 'USD' })}\n`,
    );
    expect((await pipeline('ingest', 'orders', refused, '--lake', erasedLake)).code).toBe(0);
    for (const table of ['customer_summary', 'customer_orders']) {
      before[table] = await queryCsv(erasedLake, `select * from ${table} where as_of = date '${asOf}' order by all`);
    }
  });

  it('removes every trace of the customers: no file of the lake names them, Parquet columns decompressed', async () => {
    expect(await findIds(erasedLake, ids)).not.toEqual([]);
    const idsFile = join(root, 'ids.txt');
    await writeFile(idsFile, `${ids[2]}\n\n`);
    const forgotten = await pipeline('forget', ids[0]!, ids[1]!, '--file', idsFile, '--lake', erasedLake);
    expect(forgotten.code, forgotten.stderr).toBe(0);
    expect(forgotten.stdout).toMatch(/^forget: 3 customers erased, request \S+ \(erasures\/register\/\S+\.json\)$/m);
    expect(forgotten.stdout).toMatch(/raw events: orders [1-9][\d,]* rows, surveys [1-9][\d,]* rows?; referred_by cleared on [1-9]/);
    expect(forgotten.stdout).toMatch(/refused records: [1-9][\d,]* records?; published log: [1-9][\d,]* records?; outbox: [1-9][\d,]* messages?/);
    expect(await findIds(erasedLake, ids)).toEqual([]);
    // The register holds keyed ids only, and what was removed.
    const [registered] = await filesUnder(join(erasedLake, 'erasures', 'register'));
    const request = JSON.parse(await readFile(registered!, 'utf8'));
    expect(request.customers).toHaveLength(3);
    for (const customer of request.customers) expect(customer).toMatch(/^[0-9a-f]{64}$/);
    expect(request.completed_at).not.toBeNull();
    expect(request.removed.raw.orders).toBeGreaterThan(0);
  });

  it("leaves every other customer's figures as they were after the next run", async () => {
    const run = await pipeline('run', '--as-of', asOf, '--lake', erasedLake);
    expect(run.code, run.stderr).toBe(0);
    const erased = new Set(ids);
    for (const table of ['customer_summary', 'customer_orders']) {
      const after = await queryCsv(erasedLake, `select * from ${table} where as_of = date '${asOf}' order by all`);
      // An order of another customer that named an erased referrer keeps everything but the referrer.
      const expected = before[table]!.filter((row) => !erased.has(row['customer_id']!)).map((row) =>
        row['referred_by'] !== undefined && erased.has(row['referred_by'] ?? '') ? { ...row, referred_by: null } : row,
      );
      expect(after.length, table).toBe(expected.length);
      expect(after, table).toEqual(expected);
    }
  });

  it('refuses their events when the original files are ingested again, and counts every one', async () => {
    const erased = new Set(ids);
    let namingThem = 0;
    for (const file of await filesUnder(originals)) {
      const type = file.includes('surveys') ? 'surveys' : 'orders';
      const text = await readFile(file, 'utf8');
      if (file.includes('spend')) continue;
      // The demo's files hold some deliberately broken lines: those name nobody readable.
      const records: Record<string, unknown>[] = file.endsWith('.csv') ? parseCsv(text) : text.split('\n').flatMap((line) => parsedOrNothing(line));
      namingThem += records.filter((record) => erased.has(String(record['customer_id']))).length;
      const ingested = await pipeline('ingest', type, file, '--lake', erasedLake);
      expect(ingested.code, ingested.stderr).toBe(0);
      const [, received, accepted, rejected] = /received ([\d,]+), accepted ([\d,]+) .*, rejected ([\d,]+)/
        .exec(ingested.stdout)!
        .map((value) => Number(value?.replaceAll(',', '')));
      expect(received).toBe(accepted! + rejected!);
    }
    expect(namingThem).toBeGreaterThan(0);
    const [refused] = await queryCsv(
      erasedLake,
      "select count(*) as n, count(payload) as with_payload from rejected_events where reason like 'customer_id: erased on %'",
    );
    expect(Number(refused!['n'])).toBe(namingThem);
    expect(refused!['with_payload']).toBe('0');
    expect(await findIds(erasedLake, ids)).toEqual([]);
  });
});

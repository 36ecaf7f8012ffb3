import { execFile } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FilesystemObjectStore } from '../../functions/adapters/filesystem-store.ts';
import { runLocalJobGraph } from '../../functions/local/local-job-runner.ts';
import { defaultConfig } from '../../functions/core/config.ts';
import { jobGraph } from '../../functions/core/jobs/graph.ts';
import { orderEvent, surveyEvent } from '../support/events.ts';
import { parseCsv, pipeline, queryCsv, temporaryDirectory, writeJsonLines } from '../support/cli.ts';

let root: string;
let lake: string;
let cleanup: () => Promise<void>;

const goodOrders = [
  orderEvent({ order_id: 'o1', customer_id: 'c1', occurred_at: '2024-01-05T10:00:00Z', total: 20 }),
  orderEvent({ order_id: 'o2', customer_id: 'c2', occurred_at: '2024-01-06T10:00:00Z', total: 30 }),
  orderEvent({ order_id: 'o3', customer_id: 'c1', occurred_at: '2024-02-07T10:00:00Z', total: 40 }),
];
const base = { event_id: 'x', order_id: 'o9', customer_id: 'c9', occurred_at: '2024-01-05T10:00:00Z', total: 5, currency: 'EUR' };
const badOrders = [
  '{"event_id": "m1", "order_id": ',
  JSON.stringify({ ...base, event_id: 'b1', total: 'five' }),
  JSON.stringify({ ...base, event_id: 'b2', customer_id: undefined }),
  JSON.stringify({ ...base, event_id: 'b3', occurred_at: '2024-13-01T00:00:00Z' }),
  JSON.stringify({ ...base, event_id: '' }),
  JSON.stringify({ ...base, event_id: 'b5', total: -3 }),
  JSON.stringify({ ...base, event_id: 'b6', status: 'returned' }),
];

beforeAll(async () => {
  const directory = await temporaryDirectory();
  root = directory.path;
  cleanup = directory.cleanup;
  lake = join(root, 'lake');
  const orders = await writeJsonLines(join(root, 'orders.jsonl'), [...goodOrders.slice(0, 2), ...badOrders, goodOrders[2]!]);
  const surveys = await writeJsonLines(join(root, 'surveys.jsonl'), [surveyEvent({ customer_id: 'c1', occurred_at: '2024-01-20T10:00:00Z', score: 9 })]);
  expect((await pipeline('ingest', 'orders', orders, '--lake', lake)).code).toBe(0);
  expect((await pipeline('ingest', 'surveys', surveys, '--lake', lake)).code).toBe(0);
});

afterAll(async () => cleanup?.());

describe('pipeline ingest', () => {
  it('prints accepted, rejected and duplicate counts that add up, and the first reasons', async () => {
    const file = await writeJsonLines(join(root, 'more.jsonl'), [goodOrders[0]!, goodOrders[0]!, badOrders[5]!]);
    const result = await pipeline('ingest', 'orders', file, '--lake', join(root, 'other-lake'));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('received 3, accepted 2 (1 duplicate), rejected 1');
    expect(result.stdout).toContain('rejected line 3: total: must be >= 0 (got -3)');
  });

  it('keeps every bad record, with its reason, in rejected_events', async () => {
    const rows = await queryCsv(lake, 'select record_number, line_number, reason, payload, event_type from rejected_events order by line_number');
    expect(rows.map((row) => [row['line_number'], row['reason']])).toEqual([
      ['3', expect.stringMatching(/^invalid JSON: /)],
      ['4', 'total: must be a number (got "five")'],
      ['5', 'customer_id: is required'],
      ['6', 'occurred_at: 2024-13-01 is not a calendar date (got "2024-13-01T00:00:00Z")'],
      ['7', 'event_id: must not be empty (got "")'],
      ['8', 'total: must be >= 0 (got -3)'],
      ['9', 'status: must be one of "placed", "cancelled", "refunded" (got "returned")'],
    ]);
    expect(rows[0]!['payload']).toBe(badOrders[0]);
    expect(new Set(rows.map((row) => row['event_type']))).toEqual(new Set(['orders']));
  });

  it('exposes the raw events as tables', async () => {
    expect(await queryCsv(lake, 'select count(*) as n from orders')).toEqual([{ n: '3' }]);
    expect(await queryCsv(lake, 'select count(*) as n from surveys')).toEqual([{ n: '1' }]);
  });
});

describe('pipeline run', () => {
  it('computes a --from/--to range equal to running each date alone', async () => {
    const rangeLake = lake;
    const result = await pipeline('run', '--from', '2024-02-27', '--to', '2024-03-01', '--lake', rangeLake);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim().split('\n')).toHaveLength(4);
    const partitions = await readdir(join(rangeLake, 'curated', 'period_metrics'));
    expect(partitions.sort()).toEqual(['as_of=2024-02-27', 'as_of=2024-02-28', 'as_of=2024-02-29', 'as_of=2024-03-01']);
    const fromRange = await queryCsv(rangeLake, "select * exclude (as_of) from period_metrics where as_of = date '2024-02-29' order by period_start");
    const singleLake = join(root, 'single-lake');
    for (const type of ['orders', 'surveys']) {
      expect((await pipeline('ingest', type, join(root, `${type}.jsonl`), '--lake', singleLake)).code).toBe(0);
    }
    expect((await pipeline('run', '--as-of', '2024-02-29', '--lake', singleLake)).code).toBe(0);
    const alone = await queryCsv(singleLake, "select * exclude (as_of) from period_metrics where as_of = date '2024-02-29' order by period_start");
    expect(fromRange).toEqual(alone);
    expect(alone).toHaveLength(2);
  });

  it('leaves the previous output intact and nothing half-written when a step fails', async () => {
    expect((await pipeline('run', '--as-of', '2024-03-31', '--lake', lake)).code).toBe(0);
    const before = await queryCsv(lake, "select * from customer_summary where as_of = date '2024-03-31' order by customer_id");
    // New data arrives, then a run fails after customer_summary was computed.
    await writeJsonLines(join(root, 'late.jsonl'), [orderEvent({ order_id: 'o4', customer_id: 'c3', occurred_at: '2024-03-02T10:00:00Z' })]);
    expect((await pipeline('ingest', 'orders', join(root, 'late.jsonl'), '--lake', lake)).code).toBe(0);
    const failing = [
      ...jobGraph,
      { type: 'sql' as const, name: 'exploding', sqlFile: '../test/fixtures/failing-step.sql', inputs: [], kind: 'curated' as const },
    ];
    await expect(
      runLocalJobGraph({ store: new FilesystemObjectStore(lake), config: defaultConfig, asOfDates: ['2024-03-31'], steps: failing }),
    ).rejects.toThrow(/step exploding failed for as_of 2024-03-31: .*fails on purpose/);
    expect(await queryCsv(lake, "select * from customer_summary where as_of = date '2024-03-31' order by customer_id")).toEqual(before);
    const partition = await readdir(join(lake, 'curated', 'customer_summary', 'as_of=2024-03-31'));
    expect(partition).toEqual(['data.parquet']);
  });
});

describe('pipeline query', () => {
  it('prints csv, json and table formats', async () => {
    const sql = "select 1 as n, 'a,b' as text, null as nothing, 2.5 as x";
    const csv = await pipeline('query', sql, '--format', 'csv', '--lake', lake);
    expect(csv.stdout).toBe('n,text,nothing,x\n1,"a,b",,2.5\n');
    const json = await pipeline('query', sql, '--format', 'json', '--lake', lake);
    expect(JSON.parse(json.stdout)).toEqual([{ n: 1, text: 'a,b', nothing: null, x: 2.5 }]);
    const table = await pipeline('query', sql, '--lake', lake);
    expect(table.stdout).toMatch(/^n\s+text\s+nothing\s+x\n/);
    expect(table.stdout).toContain('(1 row)');
    expect(parseCsv(csv.stdout)).toEqual([{ n: '1', text: 'a,b', nothing: null, x: '2.5' }]);
  });

  it('reads every table it names, however it names them, and lists them all when it names none', async () => {
    expect((await pipeline('run', '--as-of', '2024-03-31', '--lake', lake)).code).toBe(0);
    // A latest view with the table it reads the newest date from; raw events and curated tables
    // together; names in capitals and in quotes.
    const joined = await queryCsv(
      lake,
      'select (select count(*) from LATEST_CUSTOMER_SUMMARY) as latest, (select count(*) from "orders") as raw, ' +
        "(select count(*) from customer_summary where as_of = date '2024-03-31') as curated",
    );
    const [row] = joined;
    expect(Number(row!['latest'])).toBeGreaterThan(0);
    expect(row!['latest']).toBe(row!['curated']);
    expect(Number(row!['raw'])).toBeGreaterThan(0);
    const tables = (await queryCsv(lake, 'show tables')).map((each) => each['name']);
    expect(tables).toEqual(expect.arrayContaining(['orders', 'surveys', 'rejected_events', 'customer_summary', 'latest_customer_summary', 'nps']));
    // The catalog read alongside a table's name still sees every table.
    const catalog = await queryCsv(lake, "select count(*) as n from information_schema.tables where table_name <> 'orders'");
    expect(Number(catalog[0]!['n'])).toBe(tables.length - 1);
    // A name made while the query runs.
    expect(await queryCsv(lake, "select count(*) > 0 as some from query_table('latest_' || 'nps')")).toEqual([{ some: 'true' }]);
  });
});

describe('errors and exit codes', () => {
  it.each([
    [[], 2, /^usage: pipeline/],
    [['frobnicate'], 2, /unknown command "frobnicate"/],
    [['run', '--as-of', '2024-02-30'], 2, /--as-of "2024-02-30" is not a date/],
    [['run', '--as-of', '2024-02-01', '--from', '2024-01-01', '--to', '2024-01-31'], 2, /either --as-of or --from\/--to/],
    [['run', '--from', '2024-02-01', '--to', '2024-01-01'], 2, /--from 2024-02-01 is after --to 2024-01-01/],
    [['ingest', 'returns', 'x.jsonl'], 2, /the input must be orders, surveys, fx-rates or spend \(got "returns"\)/],
    [['ingest', 'orders', '/no/such/file.jsonl'], 2, /cannot read \/no\/such\/file\.jsonl: no such file/],
    [['query', 'select nonsense from nowhere'], 2, /Catalog Error: .*nowhere/],
    [['query', 'selec 1'], 2, /Parser Error/],
    [['ingest', 'orders', '/tmp'], 2, /cannot read \/tmp: not a file/],
    [['query', 'select 1', '--format', 'xml'], 2, /--format must be one of table, csv, json/],
    [['run', '--bogus'], 2, /bogus/],
  ])('pipeline %j exits %i with one clear line', async (args, code, message) => {
    const result = await pipeline(...(args as string[]), '--lake', lake);
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
    // One clear line, except the usage text that answers a bare `pipeline`.
    if ((args as string[]).length > 0) expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it.each(['lake*', 'lake[1]', 'la{k,e}', 'lake?'])('refuses the lake path %s, whose glob characters would read other directories', async (name) => {
    const result = await pipeline('query', 'select count(*) from orders', '--lake', join(root, name));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/a lake path cannot contain "[*?[{]" \(the lake is read through glob patterns\)/);
  });

  it('says which command to run when a table has no data yet', async () => {
    const result = await pipeline('query', 'select * from nps', '--lake', join(root, 'empty-lake'));
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('pipeline: table nps has no data yet: run "pipeline run --as-of DATE" first\n');
  });

  it('refuses a bad config file naming the key', async () => {
    const config = join(root, 'bad-config.json');
    await writeFile(config, JSON.stringify({ activityWindowDays: -1 }));
    const result = await pipeline('run', '--as-of', '2024-01-31', '--config', config, '--lake', lake);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/activityWindowDays/);
    for (const [campaigns, key] of [
      [{ holdout: { share: 0.9 } }, 'campaigns.holdout.share'],
      [{ holdout: { salt: '' } }, 'campaigns.holdout.salt'],
      [{ conversionWindowDays: 0 }, 'campaigns.conversionWindowDays'],
    ] as const) {
      await writeFile(config, JSON.stringify({ campaigns }));
      const refused = await pipeline('publish', '--as-of', '2024-01-31', '--config', config, '--lake', lake);
      expect(refused.code).toBe(2);
      expect(refused.stderr.trim().split('\n')).toEqual([expect.stringContaining(`${key}: `)]);
    }
  });

  it('prints every file it stored before checking fails on a later one, and checks all files first', async () => {
    const good = await writeJsonLines(join(root, 'good.jsonl'), [goodOrders[0]!]);
    const otherLake = join(root, 'checked-lake');
    const result = await pipeline('ingest', 'orders', good, join(root, 'missing.jsonl'), '--lake', otherLake);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/missing\.jsonl: no such file/);
    // Nothing was stored: the missing file was found before any file was read.
    expect(await readdir(otherLake).catch(() => [])).toEqual([]);
  });

  it('exits quietly when the reader of its output goes away', async () => {
    const run = promisify(execFile);
    const { stdout, stderr } = await run('bash', [
      '-c',
      `node functions/cli/pipeline.mjs query "select * from range(300000)" --format csv --lake ${lake} | head -2`,
    ]);
    expect(stdout).toBe('range\n0\n');
    expect(stderr).toBe('');
  });

  it('works as an installed command: the bin runs and returns its exit code', async () => {
    const run = promisify(execFile);
    const help = await run('node', ['functions/cli/pipeline.mjs', '--help']);
    expect(help.stdout).toMatch(/^usage: pipeline <command>/);
    await expect(run('node', ['functions/cli/pipeline.mjs', 'run', '--as-of', 'soon'])).rejects.toMatchObject({ code: 2 });
  });
});

describe('one run of a lake at a time', () => {
  it('a run started while another runs waits for it; a lease left by a process that ended is no obstacle', async () => {
    const [first, second] = await Promise.all([
      pipeline('run', '--as-of', '2024-02-29', '--lake', lake),
      pipeline('run', '--as-of', '2024-03-31', '--lake', lake),
    ]);
    expect([first.code, second.code]).toEqual([0, 0]);
    expect(first.stderr + second.stderr).toMatch(/^waiting for pid \d+ on .+ \([0-9a-f]+\), which holds the lake's run lease since \d{4}-/m);
    const store = new FilesystemObjectStore(lake);
    const leases = await store.list('locks/run/');
    expect(leases.filter((key) => key.endsWith('.released'))).toHaveLength(leases.filter((key) => key.endsWith('.json')).length);

    // A run killed while it held the lake: its process is gone, so the next run goes ahead at once.
    const ended = await promisify(execFile)(process.execPath, ['-e', 'console.log(process.pid)']);
    const newest = Number(leases.at(-1)!.match(/(\d+)\.released$/)![1]);
    const killed = {
      holder: `pid ${ended.stdout.trim()} on ${hostname()} (abc123)`,
      nonce: 'n',
      acquired_at: '2026-01-01T00:00:00.000Z',
      expires_at: '2099-01-01T00:00:00.000Z',
    };
    await writeFile(store.pathOf(`locks/run/${String(newest + 1).padStart(12, '0')}.json`), JSON.stringify(killed));
    const after = await pipeline('run', '--as-of', '2024-03-31', '--lake', lake);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stderr).not.toContain('waiting for');
  });
});

describe('the config file', () => {
  it('is --config, or the file $PIPELINE_CONFIG_FILE names', async () => {
    const file = join(root, 'late-start.json');
    await writeFile(file, JSON.stringify({ earliestEventDate: '2024-02-01' }));
    const refused = /as_of 2024-01-31 is before the earliest event date 2024-02-01/;
    expect((await pipeline('run', '--as-of', '2024-01-31', '--lake', lake, '--config', file)).stderr).toMatch(refused);
    process.env['PIPELINE_CONFIG_FILE'] = file;
    try {
      const result = await pipeline('run', '--as-of', '2024-01-31', '--lake', lake);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(refused);
    } finally {
      delete process.env['PIPELINE_CONFIG_FILE'];
    }
    // The name it had before is refused, not silently ignored.
    process.env['PIPELINE_CONFIG'] = file;
    try {
      const result = await pipeline('run', '--as-of', '2024-02-29', '--lake', lake);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('$PIPELINE_CONFIG_FILE');
    } finally {
      delete process.env['PIPELINE_CONFIG'];
    }
  });
});

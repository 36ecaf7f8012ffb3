import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AthenaClient } from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DuckDbEngine } from '../../functions/adapters/duckdb-engine.ts';
import { sqlString } from '../../functions/adapters/lake-views.ts';
import { defaultConfig, parseConfig, RFM_SEGMENTS } from '../../functions/core/config.ts';
import type { PipelineConfig } from '../../functions/core/config.ts';
import { ConfigError, UsageError } from '../../functions/core/errors.ts';
import { isCalendarDate } from '../../functions/core/events/timestamps.ts';
import { sqlParameters } from '../../functions/core/jobs/sql-template.ts';
import { pipeline, temporaryDirectory, writeJsonLines } from '../support/cli.ts';
import { type HandlerName, importHandler } from '../support/lambda.ts';

/**
 * Issue 8, security: no value from a Lambda's input, the command line, the config or an event
 * reaches SQL except as a validated literal. Inputs that end up in SQL text are refused unless
 * they are what they claim (a calendar date, a zone name, a number, a name from a fixed list);
 * event values never become SQL text at all, they travel as Parquet data and come back
 * unchanged. Complements sql-lint.test.ts and athena-plan.test.ts, which check sqlParameters
 * and planAthenaRun directly.
 */

/** Strings an attacker (or a broken producer) would try where a date or an id is expected. */
const INJECTIONS = [
  "2024-01-01' or 1=1 --",
  "x'; drop table orders; --",
  '2024-01-01\u0000',
  "2024-01-01\u0000' or '1'='1",
  '2024-01-01\n',
  '2024-01-01 ',
  '2024-01-01\u2019 or 1=1 --',
  '2024-01-01\u02bc or \u02bc1\u02bc=\u02bc1',
  '2024-01-01\uff07 or 1=1',
  '\uff12\uff10\uff12\uff14-01-01',
  '2024-01-01/**/',
  "2024-01-01'||'",
  '{{ as_of }}',
  `2024-01-01${"'".repeat(100_000)}`,
  'x'.repeat(1_000_000),
  '2024-02-30',
];

/** Printable ASCII, quotes and comment markers, backslashes, NUL and other controls, unicode quotes, astral characters. */
const nastyStrings = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({
    unit: fc.constantFrom(
      "'",
      "''",
      '"',
      '\\',
      ';',
      '--',
      '/*',
      '*/',
      '\n',
      '\r',
      '\u0000',
      '\u2019',
      '\u02bc',
      '\uff07',
      '$$',
      '{{',
      '}}',
      'a',
      '1',
      '-',
      '😀',
    ),
  }),
);

/**
 * The kinds of literal a config value becomes in SQL. None of them can end a string or start a
 * clause; a name (zone, period unit) is only ever placed inside quotes by the templates.
 */
const LITERAL_KINDS: Record<string, RegExp> = {
  boolean: /^(true|false)$/,
  number: /^-?\d+(\.\d+)?(e[+-]?\d+)?$/,
  names: /^'[a-z_]+'(, '[a-z_]+')*$/,
  interval: /^interval '\d+' (day|month)$/,
  name: /^[A-Za-z][A-Za-z0-9_+\-/]*$/,
};
const kindOf = (literal: string) => Object.entries(LITERAL_KINDS).find(([, shape]) => shape.test(literal))?.[0] ?? 'unsafe';

/** Parameters whose literal changes kind with the config, each with the only shapes it may take. */
const SHAPE_OF_PARAMETER: Record<string, RegExp> = {
  // Empty when unset (one currency per lake), else a checked ISO 4217 code.
  reporting_currency: /^([A-Z]{3})?$/,
};

describe('the SQL string literal (sqlString) that carries lake paths into DuckDB', () => {
  let engine: DuckDbEngine;
  beforeAll(async () => {
    engine = await DuckDbEngine.open();
  });
  afterAll(() => engine.close());

  it('reads back as the very same string, whatever the string holds', async () => {
    await fc.assert(
      fc.asyncProperty(nastyStrings, async (value) => {
        const query = engine.query(`select ${sqlString(value)} as value, 42 as after`);
        if (value.includes('\u0000')) {
          // DuckDB reads SQL text up to a NUL: the literal is left open and the query fails,
          // closed, instead of running whatever follows.
          await expect(query).rejects.toThrow(/unterminated quoted string/);
        } else {
          expect((await query).rows).toEqual([[value, 42]]);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('validators in front of SQL literals', () => {
  it('accept a date only when it is a calendar date written YYYY-MM-DD', () => {
    fc.assert(
      fc.property(fc.oneof(nastyStrings, fc.stringMatching(/^\d{4}-\d{2}-\d{2}.{0,3}$/)), (value) => {
        const accepted = isCalendarDate(value);
        if (accepted) {
          // Ten ASCII digits and dashes, and a day the calendar has: nothing that could end a literal.
          expect(value).toMatch(/^\d{4}-\d{2}-\d{2}$/);
          expect(new Date(`${value}T00:00:00Z`).toISOString().slice(0, 10)).toBe(value);
        }
        // sqlParameters is the only way a date becomes SQL: it refuses exactly what the validator
        // refuses, and a date before the earliest event date (Athena would not see its tables).
        if (accepted && value >= defaultConfig.earliestEventDate) expect(sqlParameters(defaultConfig, value).as_of).toBe(value);
        else expect(() => sqlParameters(defaultConfig, value)).toThrow(UsageError);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.date({ min: new Date('1000-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true }), (date) => {
        expect(isCalendarDate(date.toISOString().slice(0, 10))).toBe(true);
      }),
    );
  });

  it('accept a business time zone only when it is an IANA name this runtime knows', () => {
    const zones = new Set(Intl.supportedValuesOf('timeZone'));
    fc.assert(
      fc.property(
        fc.oneof(
          nastyStrings,
          fc.constantFrom(...zones).map((zone) => `${zone}' --`),
        ),
        (value) => {
          let config: PipelineConfig;
          try {
            config = parseConfig({ businessTimezone: value });
          } catch (error) {
            expect(error).toBeInstanceOf(ConfigError);
            return;
          }
          expect(config.businessTimezone).toMatch(/^[A-Za-z][A-Za-z0-9_+\-/]*$/);
          expect(() => new Intl.DateTimeFormat('en-US', { timeZone: value })).not.toThrow();
        },
      ),
      { numRuns: 2000 },
    );
    for (const zone of zones) expect(sqlParameters(parseConfig({ businessTimezone: zone }), '2024-01-01').business_timezone).toBe(zone);
  });
});

/** Every leaf of the config, as a path: what a config file can set. */
function leafPaths(value: unknown, path: string[] = []): string[][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [path];
  return Object.entries(value).flatMap(([key, child]) => leafPaths(child, [...path, key]));
}

function withValue(path: readonly string[], value: unknown): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  let node = root;
  for (const key of path.slice(0, -1)) node = node[key] = {} as Record<string, unknown>;
  node[path.at(-1)!] = value;
  return root;
}

/** Every setting: the defaults' leaves, and the ones without a default. */
const CONFIG_LEAVES = [...leafPaths(defaultConfig), ['reportingCurrency']];

describe('every config value', () => {
  it('is refused, or reaches SQL only in a shape that cannot leave its literal', () => {
    expect(CONFIG_LEAVES.length).toBeGreaterThan(30);
    // Hostile values, and valid ones (so that some configs pass and their literals are checked).
    const anyValue = fc.oneof(
      nastyStrings,
      fc.jsonValue(),
      fc.double(),
      fc.array(nastyStrings, { maxLength: 3 }),
      fc.integer({ min: -5, max: 4000 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.boolean(),
      fc.constantFrom('week', 'month', 'quarter', 'Europe/Berlin', 'Etc/GMT+5', 'EUR', 'usd', 'XYZ'),
      fc.subarray([...RFM_SEGMENTS], { minLength: 1 }),
    );
    const { as_of: _date, ...defaults } = sqlParameters(defaultConfig, '2024-01-01');
    const defaultKinds = Object.fromEntries(
      Object.entries(defaults)
        .filter(([name]) => !(name in SHAPE_OF_PARAMETER))
        .map(([name, literal]) => [name, kindOf(literal)]),
    );
    expect(Object.values(defaultKinds)).not.toContain('unsafe');
    let accepted = 0;
    fc.assert(
      fc.property(fc.constantFrom(...CONFIG_LEAVES), anyValue, (path, value) => {
        let config: PipelineConfig;
        try {
          config = parseConfig(withValue(path, value));
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          return;
        }
        accepted += 1;
        // Each parameter keeps the kind of literal it has by default: a number stays a number.
        const { as_of: _asOf, ...rendered } = sqlParameters(config, '2024-01-01');
        for (const [name, literal] of Object.entries(rendered)) {
          const label = `${path.join('.')} = ${JSON.stringify(value)} renders ${name} as ${literal}`;
          if (name in SHAPE_OF_PARAMETER) expect(literal, label).toMatch(SHAPE_OF_PARAMETER[name]!);
          else expect(kindOf(literal), label).toBe(defaultKinds[name]);
        }
      }),
      { numRuns: 3000 },
    );
    expect(accepted).toBeGreaterThan(100);
  });

  it('holding SQL is refused when it comes from a --config file, naming the key, before anything runs', async () => {
    const directory = await temporaryDirectory();
    try {
      const lake = join(directory.path, 'lake');
      // The holdout salt is free text by design: it is only ever hashed, never placed in SQL.
      const hashedOnly = 'campaigns.holdout.salt';
      const salted = parseConfig(withValue(hashedOnly.split('.'), "x'; drop table orders; --"));
      expect(Object.values(sqlParameters(salted, '2024-01-31')).join('\n')).not.toContain('drop table');
      for (const path of CONFIG_LEAVES.filter((leaf) => leaf.join('.') !== hashedOnly)) {
        const file = join(directory.path, 'config.json');
        await writeFile(file, JSON.stringify(withValue(path, "x'; drop table orders; --")));
        const result = await pipeline('run', '--as-of', '2024-01-31', '--lake', lake, '--config', file);
        expect(result.code, path.join('.')).toBe(2);
        expect(result.stderr).toContain(`config ${file}: ${path.join('.')}`);
      }
      expect(existsSync(join(lake, 'curated'))).toBe(false);
    } finally {
      await directory.cleanup();
    }
  });
});

describe('Lambda inputs', () => {
  const s3 = mockClient(S3Client);
  const athena = mockClient(AthenaClient);
  const sqs = mockClient(SQSClient);
  const lambdaEnvironment = {
    LAKE_BUCKET: 'test-lake',
    CAMPAIGN_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/campaigns',
    ATHENA_WORKGROUP: 'pipeline',
    GLUE_DATABASE: 'marketing',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    CHART_JS_PATH: new URL('../../node_modules/chart.js/dist/chart.umd.min.js', import.meta.url).pathname,
  };

  beforeAll(() => {
    Object.assign(process.env, lambdaEnvironment);
  });
  afterAll(() => {
    for (const name of Object.keys(lambdaEnvironment)) delete process.env[name];
    s3.restore();
    athena.restore();
    sqs.restore();
  });
  beforeEach(() => {
    s3.reset();
    athena.reset();
    sqs.reset();
  });

  const noAwsCall = () => {
    expect(s3.calls()).toHaveLength(0);
    expect(athena.calls()).toHaveLength(0);
    expect(sqs.calls()).toHaveLength(0);
  };
  const RUN_ID_INJECTIONS = [
    "r1' or '1'='1",
    "r1'; drop table orders; --",
    'r1\u0000',
    '../../curated/orders',
    'r1/x',
    'r 1',
    'r1\u2019',
    'r'.repeat(81),
    '{{ as_of }}',
    '',
  ];

  // Every handler whose input reaches SQL or a lake key, with a good input and the field under attack.
  const handlers = {
    publish: { good: { as_of: '2024-03-31' }, fields: ['as_of'] },
    'write-report': { good: { as_of: '2024-03-31' }, fields: ['as_of'] },
    'fit-clv': { good: { as_of: '2024-03-31', run_id: 'r1' }, fields: ['as_of', 'run_id'] },
    'promote-run': {
      good: { as_of: '2024-03-31', run_id: 'r1', execution: 'arn:aws:states:eu-west-1:123456789012:execution:JobGraph:e1', lease_generation: 1 },
      fields: ['as_of', 'run_id'],
    },
  } as const;

  for (const [name, { good, fields }] of Object.entries(handlers)) {
    it(`${name} refuses SQL in ${fields.join(' and ')} with a validation error, before any AWS call`, async () => {
      const { handler } = (await importHandler(name as HandlerName)) as { handler: (event: unknown) => Promise<unknown> };
      for (const field of fields) {
        for (const value of field === 'run_id' ? RUN_ID_INJECTIONS : INJECTIONS) {
          await expect(handler({ ...good, [field]: value }), `${field} = ${JSON.stringify(value.slice(0, 40))}`).rejects.toThrow(z.ZodError);
        }
        // Not a string at all: a list or an object that would stringify into the SQL.
        for (const value of [["2024-03-31' --"], { toString: "2024-03-31' --" }, 20240331]) {
          await expect(handler({ ...good, [field]: value })).rejects.toThrow(z.ZodError);
        }
      }
      noAwsCall();
    });
  }

  it('prepare-run refuses SQL in as_of and the execution name before it renders any SQL', async () => {
    const { handler } = await importHandler('prepare-run');
    for (const value of INJECTIONS) await expect(handler({ as_of: value, execution: 'exec-1' })).rejects.toThrow(z.ZodError);
    // The execution name becomes the run id inside the SQL: runIdFor refuses it.
    for (const value of RUN_ID_INJECTIONS.filter((id) => id !== '')) {
      await expect(handler({ as_of: '2024-03-31', execution: value })).rejects.toThrow(/run id .* must be letters, digits, dashes and underscores/);
    }
    noAwsCall();
  });

  it('an execution input with SQL in a date or the schedule time is refused before any run starts', async () => {
    const { parseRunRequest } = await import('../../functions/core/jobs/run-request.ts');
    for (const value of INJECTIONS) {
      for (const input of [{ as_of: value }, { from: value, to: '2024-03-31' }, { from: '2024-03-31', to: value }, { scheduled_time: value }]) {
        expect(() => parseRunRequest(input, defaultConfig)).toThrow(/^(as_of|from|to|scheduled_time): /);
      }
    }
    expect(() => parseRunRequest({ scheduled_time: "2024-04-01T02:00:00Z' or 1=1 --" }, defaultConfig)).toThrow(/^scheduled_time: /);
  });

  it('refuses to start with a PIPELINE_CONFIG whose values would change the SQL', async () => {
    for (const config of [
      { businessTimezone: "UTC'; drop table orders; --" },
      { period: "month' --" },
      { campaigns: { loyaltyUpgrade: { segments: ["champions') or ('1'='1"] } } },
    ]) {
      process.env['PIPELINE_CONFIG'] = JSON.stringify(config);
      try {
        // A cold start of its own for each config: the handler reads it when first imported.
        await expect(importHandler('prepare-run', JSON.stringify(config))).rejects.toThrow(/invalid environment: PIPELINE_CONFIG/);
      } finally {
        delete process.env['PIPELINE_CONFIG'];
      }
    }
  });
});

describe('the command line', () => {
  let directory: { path: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    directory = await temporaryDirectory();
  });
  afterAll(async () => directory.cleanup());

  const queryJson = async (lake: string, sql: string): Promise<Record<string, unknown>[]> => {
    const result = await pipeline('query', sql, '--format', 'json', '--lake', lake);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    return JSON.parse(result.stdout) as Record<string, unknown>[];
  };

  it('refuses SQL in every date option with exit code 2, before anything runs', async () => {
    const lake = join(directory.path, 'dates-lake');
    const file = await writeJsonLines(join(directory.path, 'one-order.jsonl'), [
      { event_id: 'e1', order_id: 'o1', customer_id: 'c1', occurred_at: '2024-01-10T10:00:00Z', total: 10, currency: 'EUR' },
    ]);
    expect((await pipeline('ingest', 'orders', file, '--lake', lake)).code).toBe(0);
    for (const value of INJECTIONS) {
      const attempts = [
        ['run', '--as-of', value],
        ['run', '--from', value, '--to', '2024-01-31'],
        ['run', '--from', '2024-01-01', '--to', value],
        ['publish', '--as-of', value],
        ['report', '--as-of', value],
        ['validate-clv', '--calibration-end', value, '--holdout-end', '2024-06-30'],
        ['validate-clv', '--calibration-end', '2024-01-31', '--holdout-end', value],
      ];
      for (const args of attempts) {
        const result = await pipeline(...args, '--lake', lake);
        expect(result.code, `${args.join(' ').slice(0, 80)}`).toBe(2);
        expect(result.stderr).toMatch(/^pipeline: --[a-z-]+ ".*" is not a date \(YYYY-MM-DD\)\n$/s);
        expect(result.stdout).toBe('');
      }
    }
    for (const output of ['curated', 'outbox', 'reports']) expect(existsSync(join(lake, output)), output).toBe(false);
  });

  it('works on a lake whose directory name holds quotes and SQL', async () => {
    // The lake path is the one value DuckDB sees in SQL text (read_parquet, copy ... to).
    const lake = join(directory.path, `it's a "lake"; drop table orders; --`);
    await mkdir(lake);
    const file = await writeJsonLines(join(directory.path, 'orders.jsonl'), [
      { event_id: 'e1', order_id: 'o1', customer_id: 'c1', occurred_at: '2024-01-10T10:00:00Z', total: 10, currency: 'EUR' },
      { event_id: 'e2', order_id: 'o2', customer_id: 'c1', occurred_at: '2024-01-20T10:00:00Z', total: 30, currency: 'EUR' },
    ]);
    // Two ingests make two files in one partition, so compact has something to merge.
    for (let attempt = 0; attempt < 2; attempt += 1) expect((await pipeline('ingest', 'orders', file, '--lake', lake)).code).toBe(0);
    const compacted = await pipeline('compact', '--lake', lake);
    expect(compacted.stderr).toBe('');
    expect(compacted.code).toBe(0);
    const run = await pipeline('run', '--as-of', '2024-01-31', '--lake', lake);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(await queryJson(lake, 'select customer_id, purchases, net_revenue from customer_summary')).toEqual([
      { customer_id: 'c1', purchases: 2, net_revenue: 40 },
    ]);
    expect(await queryJson(lake, 'select count(*) as deliveries from orders')).toEqual([{ deliveries: 4 }]);
  });

  describe('event values', () => {
    const customer = "c'); drop table orders; --";
    const otherCustomer = '\u2019\u201c\u02bc\uff07 {{ as_of }} $$x$$ %_*?[ \\\' "';
    const extras = {
      coupon: `SAVE'10"; drop table x; --`,
      items: [{ sku: "a'b", category: "c'); drop table x; --", quantity: 1, unit_price: 10, note: '/* */ -- \\' }],
    };
    const orders = [
      {
        event_id: "e1' or '1'='1",
        order_id: `o'1"; delete from orders; --`,
        customer_id: customer,
        occurred_at: '2024-01-10T10:00:00Z',
        total: 10,
        currency: 'EUR',
        channel: "web' --\\",
        ...extras,
      },
      { event_id: 'e2\u2019', order_id: "o2'", customer_id: customer, occurred_at: '2024-01-20T10:00:00Z', total: 20, currency: 'EUR' },
      { event_id: 'e3', order_id: '{{ as_of }}', customer_id: otherCustomer, occurred_at: '2024-01-15T10:00:00Z', total: 5, currency: 'EUR', channel: '"; --' },
    ];
    // Refused events: their payload is kept verbatim in rejected_events.
    const refused = [
      { event_id: 'bad-1', order_id: 'o4', customer_id: 'c4', occurred_at: '2024-01-10T10:00:00Z', total: 1, currency: "EUR'; drop table orders; --" },
      { event_id: 'bad-2', order_id: 'o5', customer_id: "c\u0000' or 1=1 --", occurred_at: '2024-01-10T10:00:00Z', total: 1, currency: 'EUR' },
    ];
    const survey = {
      event_id: "s1'",
      customer_id: customer,
      occurred_at: '2024-01-25T10:00:00Z',
      score: 9,
      survey_id: "nps'--",
      comment: "'; drop table surveys; --",
      channel: 'email"',
    };
    let lake: string;

    beforeAll(async () => {
      lake = join(directory.path, 'events-lake');
      const orderFile = await writeJsonLines(join(directory.path, 'weird-orders.jsonl'), [...orders, ...refused]);
      const surveyFile = await writeJsonLines(join(directory.path, 'weird-surveys.jsonl'), [survey]);
      expect((await pipeline('ingest', 'orders', orderFile, '--lake', lake)).stdout).toMatch(/received 5, accepted 3 .*rejected 2/);
      expect((await pipeline('ingest', 'surveys', surveyFile, '--lake', lake)).code).toBe(0);
      const run = await pipeline('run', '--as-of', '2024-01-31', '--lake', lake);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
    });

    it('come back from the lake byte for byte', async () => {
      const rows = await queryJson(lake, 'select event_id, order_id, customer_id, currency, channel, items, extras from orders order by record_number');
      const [line] = extras.items;
      expect(rows).toEqual([
        {
          event_id: orders[0]!.event_id,
          order_id: orders[0]!.order_id,
          customer_id: customer,
          currency: 'EUR',
          channel: orders[0]!.channel,
          items: JSON.stringify([{ category: line!.category, note: line!.note, quantity: 1, sku: line!.sku, unit_price: 10 }]),
          extras: JSON.stringify({ coupon: extras.coupon }),
        },
        { event_id: orders[1]!.event_id, order_id: orders[1]!.order_id, customer_id: customer, currency: 'EUR', channel: null, items: null, extras: null },
        { event_id: 'e3', order_id: '{{ as_of }}', customer_id: otherCustomer, currency: 'EUR', channel: '"; --', items: null, extras: null },
      ]);
      expect(await queryJson(lake, 'select event_id, customer_id, survey_id, comment, channel from surveys')).toEqual([
        { event_id: survey.event_id, customer_id: customer, survey_id: survey.survey_id, comment: survey.comment, channel: survey.channel },
      ]);
      const rejected = await queryJson(lake, 'select payload from rejected_events order by record_number');
      expect(rejected.map((row) => row['payload'])).toEqual(refused.map((event) => JSON.stringify(event)));
    });

    it('are grouped and joined on as data by the whole job graph', async () => {
      const summary = await queryJson(lake, 'select customer_id, purchases, net_revenue, last_nps_score from customer_summary order by net_revenue desc');
      expect(summary).toEqual([
        { customer_id: customer, purchases: 2, net_revenue: 30, last_nps_score: 9 },
        { customer_id: otherCustomer, purchases: 1, net_revenue: 5, last_nps_score: null },
      ]);
      const segmented = await queryJson(lake, 'select customer_id from rfm_segments order by customer_id');
      expect(segmented.map((row) => row['customer_id']).sort()).toEqual([customer, otherCustomer].sort());
      // Every table still exists: nothing in the data dropped or rewrote one.
      expect(await queryJson(lake, 'select count(*) as orders from orders')).toEqual([{ orders: 3 }]);
    });
  });
});

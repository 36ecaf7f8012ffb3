import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../../functions/adapters/duckdb-engine.ts';
import { dataTestError, dataTestScreenQuery, dataTestsOf, runDataTests } from '../../functions/core/dictionary/data-tests.ts';
import { AS_OF_COLUMN, between, oneOf } from '../../functions/core/dictionary/types.ts';
import type { TableDoc } from '../../functions/core/dictionary/types.ts';

/** A small table with one test of each kind. */
const doc: TableDoc = {
  name: 'segment_rates',
  layer: 'curated',
  summary: 'A rate per segment, for testing the tests.',
  grain: ['segment'],
  rowMeaning: 'a segment',
  columns: [
    { name: 'segment', type: 'string', description: 'The segment.', tests: [oneOf('gold', 'silver')] },
    { name: 'customers', type: 'bigint', description: 'Customers.' },
    { name: 'buyers', type: 'bigint', description: 'Customers who bought.' },
    { name: 'rate', type: 'double', description: 'buyers / customers.', nullWhen: 'customers is 0', tests: [between(0, 1)] },
    AS_OF_COLUMN,
  ],
  rules: [{ rule: 'buyers <= customers', why: 'buyers are customers' }],
};

describe('data tests', () => {
  let engine: DuckDbEngine;
  beforeAll(async () => {
    engine = await DuckDbEngine.open();
  });
  afterAll(() => engine.close());

  const load = async (rows: string) => {
    await engine.execute(
      `create or replace temp table segment_rates as select segment, customers, buyers, cast(rate as double) as rate, cast(as_of as date) as as_of from (values ${rows}) as v(segment, customers, buyers, rate, as_of)`,
    );
  };
  const failures = async () => (await runDataTests(engine, dataTestsOf(doc, '2024-03-31'))).map((failure) => failure.message);

  it('pass on a table that keeps its definition, nulls where they are documented', async () => {
    await load("('gold', 10, 4, 0.4, '2024-03-31'), ('silver', 0, 0, null, '2024-03-31')");
    expect(await failures()).toEqual([]);
  });

  it('name the table, column, test, the number of failing rows and a few of them', async () => {
    await load(
      "('gold', 10, 4, 0.4, '2024-03-31'), ('gold', 5, 1, 0.2, '2024-03-31'), ('bronze', 3, 1, 0.33, '2024-03-31'), " +
        "('silver', null, 2, 1.5, '2024-03-30'), ('platinum', 1, 2, 2.0, '2024-03-31')",
    );
    expect(await failures()).toEqual([
      'segment_rates.segment accepted_values (gold, silver): 2 rows fail, e.g. segment=bronze; segment=platinum',
      'segment_rates.customers not_null: 1 row fails, e.g. segment=silver, customers=null',
      'segment_rates.rate range [0, 1]: 2 rows fail, e.g. segment=platinum, rate=2.0; segment=silver, rate=1.5',
      'segment_rates unique (segment): 1 row fails, e.g. segment=gold, rows=2',
      'segment_rates rule: buyers <= customers: 1 row fails, e.g. segment=platinum, customers=1, buyers=2',
      'segment_rates.as_of is the run date: 1 row fails, e.g. segment=silver, as_of=2024-03-30',
    ]);
  });

  it('show at most three examples, in a stable order', async () => {
    await load(Array.from({ length: 8 }, (_, index) => `('s${index}', 1, 1, 1.0, '2024-03-31')`).join(', '));
    expect(await failures()).toEqual(['segment_rates.segment accepted_values (gold, silver): 8 rows fail, e.g. segment=s0; segment=s1; segment=s2']);
  });

  it('hold a one-row table to exactly one row', async () => {
    const single: TableDoc = { ...doc, grain: [], rules: [] };
    await load("('gold', 10, 4, 0.4, '2024-03-31'), ('silver', 10, 4, 0.4, '2024-03-31')");
    const found = await runDataTests(engine, dataTestsOf(single, '2024-03-31'));
    expect(found.map((failure) => failure.message)).toEqual(['segment_rates exactly one row: 1 row fails, e.g. rows=2']);
    await engine.execute('delete from segment_rates');
    expect((await runDataTests(engine, dataTestsOf(single, '2024-03-31'))).map((failure) => failure.message)).toEqual([
      'segment_rates exactly one row: 1 row fails, e.g. rows=0',
    ]);
  });

  it('screen each table in one pass for all its row tests, and count test by test only a table that failed', async () => {
    const tests = dataTestsOf(doc, '2024-03-31');
    expect(dataTestScreenQuery(tests).match(/from segment_rates\b/g)).toHaveLength(2); // the row tests, and the grain
    const queries: string[] = [];
    const counting = {
      execute: engine.execute.bind(engine),
      close: () => undefined,
      query: (sql: string) => {
        queries.push(sql);
        return engine.query(sql);
      },
    };
    await load("('gold', 10, 4, 0.4, '2024-03-31')");
    await runDataTests(counting, tests);
    expect(queries).toEqual([dataTestScreenQuery(tests)]);
    await load("('gold', 10, 4, 1.4, '2024-03-31')");
    expect((await runDataTests(counting, tests)).map((failure) => failure.test.name)).toEqual(['range [0, 1]']);
    expect(queries).toHaveLength(4); // the screen again, the counts, the examples
  });

  it('screen grains on their hashes when asked (the local runner), and still name the repeated grain', async () => {
    const tests = dataTestsOf(doc, '2024-03-31');
    expect(dataTestScreenQuery(tests, { hashGrains: true })).toContain('hash(segment)');
    await load("('gold', 10, 4, 0.4, '2024-03-31'), ('gold', 5, 1, 0.2, '2024-03-31'), ('silver', 3, 1, 0.33, '2024-03-31')");
    expect((await runDataTests(engine, tests, { hashGrains: true })).map((failure) => failure.message)).toEqual([
      'segment_rates unique (segment): 1 row fails, e.g. segment=gold, rows=2',
    ]);
  });

  it('pass a table whose grain hashes collide but whose grain does not repeat', async () => {
    const tests = dataTestsOf(doc, '2024-03-31');
    // Every segment hashed alike: the screen flags the table, the exact count finds nothing.
    const colliding = {
      execute: engine.execute.bind(engine),
      close: () => undefined,
      query: (sql: string) => engine.query(sql.replaceAll('hash(segment)', '0 * length(segment)')),
    };
    await load("('gold', 10, 4, 0.4, '2024-03-31'), ('silver', 3, 1, 0.33, '2024-03-31')");
    const [screen] = (await colliding.query(dataTestScreenQuery(tests, { hashGrains: true }))).rows;
    expect(screen?.map(Number)).toEqual([0, 1]);
    expect(await runDataTests(colliding, tests, { hashGrains: true })).toEqual([]);
  });

  it('become one error that says nothing was published and lists every failure', () => {
    const error = dataTestError(
      [
        { test: dataTestsOf(doc, '2024-03-31')[0]!, failingRows: 1, examples: ['segment=x'], message: 'first' },
        { test: dataTestsOf(doc, '2024-03-31')[1]!, failingRows: 1, examples: ['segment=y'], message: 'second' },
      ],
      '2024-03-31',
    );
    expect(error.name).toBe('DataTestFailedError');
    expect(error.message).toBe('data test failed for as_of 2024-03-31, nothing was published: first (and 1 more: second)');
    expect(error.failures).toEqual(['first', 'second']);
  });
});

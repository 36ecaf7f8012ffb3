import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../../functions/adapters/duckdb-engine.ts';
import { QueryFailedError } from '../../functions/core/errors.ts';

/** The DuckDB session must compute what Athena computes for the constructs sql/ uses. */
describe('DuckDB engine as Athena stand-in', () => {
  let engine: DuckDbEngine;
  beforeAll(async () => {
    engine = await DuckDbEngine.open();
  });
  afterAll(() => engine.close());

  const one = async (sql: string) => (await engine.query(sql)).rows[0];

  it('divides integers as Trino does', async () => {
    expect(await one('select 7 / 2, cast(7 as double) / 2')).toEqual([3, 3.5]);
  });

  it('provides Trino sequence() over dates via the prelude', async () => {
    const result = await engine.query(
      "select cast(period_start as date) from unnest(sequence(date '2024-01-01', date '2024-03-01', interval '1' month)) as spine (period_start)",
    );
    expect(result.rows).toEqual([['2024-01-01'], ['2024-02-01'], ['2024-03-01']]);
  });

  it('converts instants to business dates with named zones, daylight saving included', async () => {
    // 03:30 UTC on Apr 1 is 23:30 EDT (UTC-4) on Mar 31.
    expect(await one("select cast(timestamp with time zone '2024-04-01 03:30:00+00' at time zone 'America/New_York' as date)")).toEqual(['2024-03-31']);
  });

  it('returns counts as numbers and reports a failing query as QueryFailedError', async () => {
    expect(await one('select count(*) from range(3)')).toEqual([3]);
    await expect(engine.query('select * from no_such_table')).rejects.toBeInstanceOf(QueryFailedError);
  });
});

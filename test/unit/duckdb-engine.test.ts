import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { availableParallelism, totalmem } from 'node:os';
import { DuckDbEngine } from '../../functions/adapters/duckdb-engine.ts';
import { FilesystemObjectStore } from '../../functions/adapters/filesystem-store.ts';
import { parseConfig } from '../../functions/core/config.ts';
import { QueryFailedError } from '../../functions/core/errors.ts';
import { runLocalJobGraph } from '../../functions/local/local-job-runner.ts';
import { temporaryDirectory } from '../support/cli.ts';
import { normalCdf } from '../reference/uplift.ts';

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

  it("provides Trino's normal_cdf(mean, sd, v) via the prelude, to double precision", async () => {
    // Standard normal values as tabulated in Abramowitz & Stegun, Handbook of Mathematical
    // Functions, table 26.1 (to the digits given there), and the 97.5th percentile 1.959964.
    const tabulated: [number, number][] = [
      [0, 0.5],
      [1, 0.841344746068543],
      [2, 0.977249868051821],
      [3, 0.99865010196837],
      [-1, 0.158655253931457],
      [1.959963984540054, 0.975],
    ];
    for (const [x, phi] of tabulated) expect((await one(`select normal_cdf(0, 1, ${x})`))![0]).toBeCloseTo(phi, 14);
    // Across the range, against a numerical integral: absolute error at double precision; relative
    // error below 1e-12 within 4 standard deviations and 1e-8 in the far tails (p-values below 1e-4).
    for (let x = -12; x <= 8; x += 0.37) {
      const [value] = (await one(`select normal_cdf(0, 1, ${x})`))! as [number];
      const expected = normalCdf(x);
      expect(Math.abs(value - expected), `x = ${x}`).toBeLessThan(2e-14);
      expect(Math.abs(value - expected) / expected, `x = ${x}`).toBeLessThan(Math.abs(x) <= 4 ? 1e-12 : 1e-8);
    }
    expect(await one('select normal_cdf(100, 15, 130), normal_cdf(0, 1, -40)')).toEqual([expect.closeTo(0.977249868051821, 14), 0]);
  });

  it('returns counts as numbers and reports a failing query as QueryFailedError', async () => {
    expect(await one('select count(*) from range(3)')).toEqual([3]);
    await expect(engine.query('select * from no_such_table')).rejects.toBeInstanceOf(QueryFailedError);
  });
});

describe('DuckDB engine with a memory budget (the job graph)', () => {
  const settings = async (memoryLimit: string) => {
    const budgeted = await DuckDbEngine.open({ memoryLimit });
    try {
      const { rows } = await budgeted.query("select current_setting('memory_limit'), current_setting('block_allocator_memory')");
      return rows[0];
    } finally {
      budgeted.close();
    }
  };

  it('keeps up to its budget of touched memory between queries', async () => {
    expect(await settings('512MiB')).toEqual(['512.0 MiB', '512.0 MiB']);
  });

  it('opens with a budget beyond what DuckDB allows its allocator (80 % of the machine), without keeping memory', async () => {
    const beyond = `${Math.ceil((2 * totalmem()) / 2 ** 30)}GiB`;
    const [limit, kept] = (await settings(beyond)) ?? [];
    expect(limit).not.toBe('0 bytes');
    expect(kept).toBe('0 bytes');
  });
});

describe("the job graph's engine", () => {
  it('runs DuckDB with the threads and memory budget of the config (engine.threads, engine.memoryLimit)', async () => {
    const { path, cleanup } = await temporaryDirectory('engine-threads-');
    const open = vi.spyOn(DuckDbEngine, 'open');
    try {
      await runLocalJobGraph({
        store: new FilesystemObjectStore(path),
        config: parseConfig({ engine: { threads: 3, memoryLimit: '512MB' } }),
        asOfDates: [],
        steps: [],
      });
      expect(open).toHaveBeenCalledWith({ threads: 3, memoryLimit: '512MB' });
    } finally {
      open.mockRestore();
      await cleanup();
    }
  });

  it('has as many threads as it is given', async () => {
    // One more than the cores: DuckDB's default would be the cores.
    const threads = availableParallelism() + 1;
    const engine = await DuckDbEngine.open({ threads });
    try {
      expect((await engine.query("select current_setting('threads')")).rows[0]).toEqual([threads]);
    } finally {
      engine.close();
    }
  });
});

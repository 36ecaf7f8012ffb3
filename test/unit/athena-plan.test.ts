import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TrinoSQL } from 'dt-sql-parser';
import { describe, expect, it } from 'vitest';
import { defaultConfig, parseConfig } from '../../functions/core/config.ts';
import { planAthenaRun } from '../../functions/core/jobs/athena-plan.ts';
import { jobGraph } from '../../functions/core/jobs/graph.ts';
import { sqlDirectory } from '../../functions/core/jobs/sql-template.ts';

const templates: Record<string, string> = {
  stg_a: "select * from orders where dt <= date '{{as_of}}'",
  stg_b: 'select x from stg_a join stg_a as again on true',
  final_c: 'with a as (select * from stg_b) select * from a',
};
const steps = [
  { type: 'sql' as const, name: 'stg_a', sqlFile: 'a.sql', inputs: ['orders'], kind: 'staging' as const },
  { type: 'sql' as const, name: 'stg_b', sqlFile: 'b.sql', inputs: ['stg_a'], kind: 'staging' as const },
  { type: 'sql' as const, name: 'final_c', sqlFile: 'c.sql', inputs: ['stg_b'], kind: 'curated' as const },
];

describe('Athena run plan', () => {
  const plan = planAthenaRun(defaultConfig, '2024-03-31', 'run-1', 'lake-bucket', templates, steps);

  it('unloads each step to its own empty prefix for the run', () => {
    expect(plan.queries['stg_a']).toBe(
      "unload (\nselect * from orders where dt <= date '2024-03-31'\n) to 's3://lake-bucket/runs/stg_a/run_id=run-1/' with (format = 'PARQUET', compression = 'ZSTD')",
    );
  });

  it("reads earlier steps' outputs of the same run only, and leaves sources and CTEs alone", () => {
    expect(plan.queries['stg_b']).toContain(
      "from (select * from run_stg_a where run_id = 'run-1') as stg_a join (select * from run_stg_a where run_id = 'run-1') as stg_a as again",
    );
    expect(plan.queries['final_c']).toContain("with a as (select * from (select * from run_stg_b where run_id = 'run-1') as stg_b) select * from a");
  });

  it('gives each step a stable idempotency token per run', () => {
    expect(plan.tokens['stg_a']).toBe(planAthenaRun(defaultConfig, '2024-03-31', 'run-1', 'lake-bucket', templates, steps).tokens['stg_a']);
    expect(plan.tokens['stg_a']).not.toBe(planAthenaRun(defaultConfig, '2024-03-31', 'run-2', 'lake-bucket', templates, steps).tokens['stg_a']);
  });

  it('refuses a run id or bucket that could change the SQL', () => {
    expect(() => planAthenaRun(defaultConfig, '2024-03-31', "x' or '1'='1", 'lake-bucket', templates, steps)).toThrow(/run id/);
    expect(() => planAthenaRun(defaultConfig, '2024-03-31', 'run-1', "lake'; drop", templates, steps)).toThrow(/bucket/);
  });

  it('plans every SQL step of the real graph', () => {
    const sqlSteps = jobGraph.filter((step) => step.type === 'sql').map((step) => step.name);
    const real = planAthenaRun(
      defaultConfig,
      '2024-03-31',
      'r',
      'lake-bucket',
      Object.fromEntries(sqlSteps.map((name) => [name, `select 1 from ${name}_input`])),
    );
    expect(Object.keys(real.queries)).toEqual(sqlSteps);
  });
});

describe('the real graph as Athena runs it', () => {
  const sqlSteps = jobGraph.filter((step) => step.type === 'sql');
  const templates = Object.fromEntries(sqlSteps.map((step) => [step.name, readFileSync(join(sqlDirectory(), step.sqlFile), 'utf8')]));
  const trino = new TrinoSQL();
  /** The query inside Athena's UNLOAD wrapper, which Trino's own grammar does not include. */
  const unloaded = (statement: string) => /^unload \(\n([\s\S]*)\n\) to 's3:\/\/[^']+' with \(format = 'PARQUET', compression = 'ZSTD'\)$/.exec(statement)?.[1];

  it.each([
    ['the defaults', defaultConfig],
    [
      'weeks, a zone, every campaign off, other windows',
      parseConfig({
        period: 'week',
        businessTimezone: 'America/New_York',
        campaigns: {
          winBack: { enabled: false },
          churnRisk: { enabled: false },
          loyaltyUpgrade: { enabled: false },
          referralAsk: { enabled: false },
          serviceRecovery: { enabled: false },
          secondPurchase: { enabled: false },
          conversionWindowDays: 7,
          resultsTrailingDays: 365,
        },
      }),
    ],
    ['quarters', parseConfig({ period: 'quarter' })],
  ])('renders every SQL step as an UNLOAD whose query parses as Trino SQL, with %s', (_, config) => {
    const plan = planAthenaRun(config, '2024-03-31', 'run-1', 'lake-bucket', templates);
    for (const step of sqlSteps) {
      const query = unloaded(plan.queries[step.name]!);
      expect(query, step.name).toBeDefined();
      const errors = trino.validate(query!).map((error) => `line ${error.startLine}: ${error.message}`);
      expect(errors, step.name).toEqual([]);
    }
  });

  it('finds what Trino would refuse', () => {
    expect(trino.validate('select x::int from orders')).not.toEqual([]);
    expect(trino.validate('select * from (select 1) as stg_a as again')).not.toEqual([]);
  });
});

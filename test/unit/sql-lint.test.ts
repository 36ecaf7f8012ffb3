import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jobGraph, validateGraph } from '../../functions/core/jobs/graph.ts';
import type { SqlStep } from '../../functions/core/jobs/graph.ts';
import { placeholdersOf, renderSql, sqlDirectory, sqlParameters } from '../../functions/core/jobs/sql-template.ts';

const SQL_DIRECTORY = sqlDirectory();
import { defaultConfig, RFM_SEGMENTS } from '../../functions/core/config.ts';
import { codeOf, FORBIDDEN, STYLE } from '../support/sql-lint.ts';

const files = readdirSync(SQL_DIRECTORY).filter((name) => name.endsWith('.sql'));

describe('sql/ lint', () => {
  it.each(files)('%s uses only syntax both engines share', (file) => {
    const code = codeOf(readFileSync(join(SQL_DIRECTORY, file), 'utf8'));
    for (const [pattern, reason] of [...FORBIDDEN, ...STYLE]) {
      const match = pattern.exec(code);
      expect(match, `${file}: ${reason} (found ${JSON.stringify(match?.[0])})`).toBeNull();
    }
  });

  it.each(files)('%s uses only known parameters', (file) => {
    const known = Object.keys(sqlParameters(defaultConfig, '2024-01-31'));
    for (const name of placeholdersOf(readFileSync(join(SQL_DIRECTORY, file), 'utf8'))) expect(known).toContain(name);
  });

  it('keeps every line of sql/ and sql/analyses/ to 140 characters, as Biome keeps the TypeScript to 160', () => {
    const all = [
      ...files.map((file) => join(SQL_DIRECTORY, file)),
      ...readdirSync(join(SQL_DIRECTORY, 'analyses')).map((file) => join(SQL_DIRECTORY, 'analyses', file)),
    ];
    expect(all.length).toBeGreaterThan(30);
    const long = all.flatMap((path) =>
      readFileSync(path, 'utf8')
        .split('\n')
        .flatMap((line, index) => (line.length > 140 ? [`${path}:${index + 1} (${line.length})`] : [])),
    );
    expect(long).toEqual([]);
  });

  it('catches the traps it is meant to catch', () => {
    const offending = [
      'select x::int from t',
      "select date_diff('month', a, b) from t",
      'select * exclude (a) from t',
      'select median(x) from t',
      'select * from t qualify row_number() over () = 1',
      'select [1, 2] as list_value',
      'from t select x',
      'select current_date as today_date',
      'select a from t union select a from u',
      'select count_if(x > 1) from t',
    ];
    for (const sql of offending) {
      const code = codeOf(sql);
      expect(
        FORBIDDEN.some(([pattern]) => pattern.test(code)),
        sql,
      ).toBe(true);
    }
  });
});

const sqlSteps = jobGraph.filter((step): step is SqlStep => step.type === 'sql');

describe('job graph', () => {
  it('is sound: every input is a source or an earlier output', () => {
    expect(validateGraph(jobGraph)).toEqual([]);
    expect(validateGraph([{ type: 'sql', name: 'a', sqlFile: 'a.sql', inputs: ['missing'], kind: 'curated' }])).toEqual([
      'step a reads missing, which no earlier step produces',
    ]);
  });

  it('has one SQL file per step and no SQL file without a step', () => {
    expect(sqlSteps.map((step) => step.sqlFile).sort()).toEqual([...files].sort());
  });

  it.each(sqlSteps.map((step) => [step.name, step] as const))('%s declares exactly the tables its SQL reads', (_name, step) => {
    const code = codeOf(readFileSync(join(SQL_DIRECTORY, step.sqlFile), 'utf8'));
    const ctes = new Set([...code.matchAll(/(\w+)\s+as\s*\(/g)].map((match) => match[1]!));
    const referenced = new Set([...code.matchAll(/\b(?:from|join)\s+(\w+)/g)].map((match) => match[1]!).filter((name) => !ctes.has(name) && name !== 'unnest'));
    expect([...referenced].sort()).toEqual([...step.inputs].sort());
  });
});

describe('SQL parameters', () => {
  it('refuses values that could change the query', () => {
    expect(() => sqlParameters(defaultConfig, "2024-01-01' or '1'='1")).toThrow(/not a date/);
    expect(() => sqlParameters({ ...defaultConfig, businessTimezone: "UTC'; drop table x; --" }, '2024-01-01')).toThrow(/not a zone/);
  });

  it('fails on a placeholder nobody provides instead of leaving it in the SQL', () => {
    expect(() => renderSql('select {{nope}}', { as_of: '2024-01-01' })).toThrow(/unknown parameter \{\{nope\}\}/);
    expect(renderSql("select date '{{ as_of }}'", { as_of: '2024-01-01' })).toBe("select date '2024-01-01'");
  });
});

describe('campaign parameters', () => {
  it('turn every campaign setting into a SQL literal', async () => {
    const { campaignSqlParameters } = await import('../../functions/core/campaigns/campaigns.ts');
    const parameters = campaignSqlParameters(defaultConfig);
    expect(parameters).toMatchObject({
      win_back_enabled: 'true',
      win_back_top_value_share: '0.2',
      churn_risk_gap_multiplier: '2',
      loyalty_upgrade_segments: "'champions', 'loyal_customers'",
      service_recovery_cooldown_days: '30',
      referral_asking_campaigns: "'referral_ask'",
    });
  });

  it('name the RFM segments the SQL produces, and only those', () => {
    const sql = readFileSync(join(SQL_DIRECTORY, 'rfm_segments.sql'), 'utf8');
    const produced = [...sql.matchAll(/then '(\w+)'|else '(\w+)'/g)].map((match) => match[1] ?? match[2]);
    expect(produced.sort()).toEqual([...RFM_SEGMENTS].sort());
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jobGraph, validateGraph } from '../../functions/core/jobs/graph.ts';
import type { SqlStep } from '../../functions/core/jobs/graph.ts';
import { placeholdersOf, renderSql, sqlDirectory, sqlParameters } from '../../functions/core/jobs/sql-template.ts';

const SQL_DIRECTORY = sqlDirectory();
import { defaultConfig, RFM_SEGMENTS } from '../../functions/core/config.ts';

/**
 * sql/ is written for Athena (Trino) and run locally on DuckDB: only the common subset is
 * allowed. Each rule names the trap it prevents (README, "SQL on two engines").
 */
const FORBIDDEN: readonly [RegExp, string][] = [
  [/::/, 'DuckDB cast shorthand; use cast(x as type)'],
  [/\bselect\s+\*\s+(exclude|replace)\b|\*\s+exclude\s*\(/i, 'DuckDB star modifiers'],
  [/\bdate_diff\s*\(\s*'(month|year|quarter|week)'/i, "date_diff by month counts boundaries in DuckDB and whole units in Trino: use period indexes"],
  [/\b(date_add|date_format|date_parse|strftime|strptime|from_iso8601_timestamp|to_unixtime|day_of_week|last_day_of_month|last_day|epoch)\s*\(/i, 'function missing from one of the engines'],
  [/\b(approx_percentile|approx_quantile|median|quantile_cont|quantile_disc|list_\w+|struct_pack|array_length|cardinality|generate_series|range|ifnull|nvl|datediff|string_agg|group_concat|regexp_matches)\s*\(/i, 'function missing from one of the engines'],
  [/\b(qualify|ilike|pivot|unpivot|positional\s+join|asof\s+join|anti\s+join|semi\s+join)\b/i, 'DuckDB-only syntax'],
  [/\bgroup\s+by\s+all\b|\border\s+by\s+all\b/i, 'DuckDB-only GROUP/ORDER BY ALL'],
  [/\b(now|today|current_date|current_timestamp|localtimestamp)\b/i, 'results must depend on as_of, never on the wall clock'],
  [/\[[^\]]*\]|\{[^{}]*\}/, 'list or struct literal (DuckDB-only)'],
  [/->>|(?<![-])->(?!>)/, 'lambda or JSON arrow (DuckDB-only)'],
  [/(^\s*|\(\s*)from\b/i, 'FROM-first query (DuckDB-only)'],
  [/"[^"]*"/, 'double quotes are identifiers in Trino; use single-quoted strings and plain names'],
  [/\bunion\s+(?!all\b)/i, 'plain UNION dedupes silently: say union all or use distinct'],
  // Measured: over no rows at all DuckDB's count_if is null where Trino's is 0.
  [/\bcount_if\s*\(/i, 'count_if of an empty input is null in DuckDB and 0 in Trino: use count(case when ... then 1 end)'],
];

const STYLE: readonly [RegExp, string][] = [
  [/\b(SELECT|FROM|WHERE|JOIN|GROUP BY|ORDER BY|WITH|AS|AND|OR|CASE|WHEN|THEN|ELSE|END)\b/, 'keywords are lowercase'],
  [/\bas\s+[a-z]\s*[,(\n]|\b(from|join)\s+\w+\s+[a-z]\s*(\n|on\b)/, 'no one-letter aliases'],
];

const files = readdirSync(SQL_DIRECTORY).filter((name) => name.endsWith('.sql'));

/**
 * SQL without comments, {{placeholders}} and the content of string literals (single words such
 * as 'month' are kept: the date_diff rule needs them), for pattern checks.
 */
function codeOf(text: string): string {
  return text
    .replace(/--[^\n]*/g, '')
    .replace(/\{\{[^}]*\}\}/g, 'param')
    .replace(/'(?:[^']|'')*'/g, (literal) => (/^'\w*'$/.test(literal) ? literal : "'s'"));
}

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

  it('catches the traps it is meant to catch', () => {
    const offending = [
      "select x::int from t",
      "select date_diff('month', a, b) from t",
      'select * exclude (a) from t',
      'select median(x) from t',
      "select * from t qualify row_number() over () = 1",
      'select [1, 2] as list_value',
      'from t select x',
      'select current_date as today_date',
      'select a from t union select a from u',
      'select count_if(x > 1) from t',
    ];
    for (const sql of offending) {
      const code = codeOf(sql);
      expect(FORBIDDEN.some(([pattern]) => pattern.test(code)), sql).toBe(true);
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
    const referenced = new Set(
      [...code.matchAll(/\b(?:from|join)\s+(\w+)/g)].map((match) => match[1]!).filter((name) => !ctes.has(name) && name !== 'unnest'),
    );
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
    });
  });

  it('name the RFM segments the SQL produces, and only those', () => {
    const sql = readFileSync(join(SQL_DIRECTORY, 'rfm_segments.sql'), 'utf8');
    const produced = [...sql.matchAll(/then '(\w+)'|else '(\w+)'/g)].map((match) => match[1] ?? match[2]);
    expect(produced.sort()).toEqual([...RFM_SEGMENTS].sort());
  });
});

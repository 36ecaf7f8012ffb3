import { TrinoSQL } from 'dt-sql-parser';
import { describe, expect, it } from 'vitest';
import { listAnalyses } from '../../functions/core/analyses.ts';
import { dataTestCountQuery, dataTestExamplesQuery, dataTestScreenQuery, dataTestsOf } from '../../functions/core/dictionary/data-tests.ts';
import { GRAPH_TABLES, tableDoc } from '../../functions/core/dictionary/index.ts';
import { scopeToRun } from '../../functions/core/jobs/run-ids.ts';
import { CURATED_TABLES } from '../../functions/core/jobs/graph.ts';
import { latestViewSql } from '../../functions/core/lake/latest-views.ts';
import { lintProblems } from '../support/sql-lint.ts';

/**
 * Every statement Athena is given besides the job graph's steps (athena-plan.test.ts): the data
 * tests as the test-run Lambda sends them (scoped to a run), the latest_<table> views and the
 * saved analyses. Each must parse with Trino's own grammar and keep to the SQL both engines share.
 */
const trino = new TrinoSQL();
const check = (sql: string) => [...trino.validate(sql).map((error) => `Trino, line ${error.startLine}: ${error.message}`), ...lintProblems(sql)];

const tests = GRAPH_TABLES.flatMap((table) => dataTestsOf(tableDoc(table), '2024-03-31'));
const inRun = (sql: string) => scopeToRun(sql, new Set(GRAPH_TABLES), 'run-1');

describe('statements rendered for Athena', () => {
  it('the data tests of a run: the screen of every table, the counts and the examples of every test', () => {
    expect(check(inRun(dataTestScreenQuery(tests)))).toEqual([]);
    expect(check(inRun(dataTestCountQuery(tests)))).toEqual([]);
    expect(check(inRun(dataTestExamplesQuery(tests.map((test, index) => ({ test, index })))))).toEqual([]);
    for (const sql of [dataTestScreenQuery(tests), dataTestCountQuery(tests)]) expect(inRun(sql)).not.toMatch(/from customer_summary\)/);
  });

  it.each(CURATED_TABLES)('the view latest_%s', (table) => {
    expect(check(latestViewSql(table))).toEqual([]);
  });

  it.each(listAnalyses().map((analysis) => [analysis.name, analysis] as const))('the saved analysis %s', (_name, analysis) => {
    expect(check(analysis.sql)).toEqual([]);
  });

  it('would refuse what only DuckDB reads', () => {
    expect(check('select x::int from t')).not.toEqual([]);
    expect(check('select * exclude (a) from t')).not.toEqual([]);
  });
});

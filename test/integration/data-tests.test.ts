import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../../functions/adapters/duckdb-engine.ts';
import { FilesystemObjectStore } from '../../functions/adapters/filesystem-store.ts';
import { createSourceViews } from '../../functions/adapters/lake-views.ts';
import { computeTables } from '../../functions/local/local-job-runner.ts';
import { defaultConfig } from '../../functions/core/config.ts';
import { GRAPH_TABLES } from '../../functions/core/dictionary/index.ts';
import { runTable } from '../../functions/core/jobs/run-ids.ts';
import { jobGraph } from '../../functions/core/jobs/graph.ts';
import { sqlDirectory } from '../../functions/core/jobs/sql-template.ts';
import { pipeline, temporaryDirectory, writeJsonLines } from '../support/cli.ts';
import { orderEvent, surveyEvent } from '../support/events.ts';
import { importHandler, lambdaContext, lambdaEnvironment } from '../support/lambda.ts';

/**
 * A deliberately broken table is caught on both paths: locally, where the run stops before any
 * partition is replaced; and in AWS, where the state machine's "Test data" Lambda reads the run's
 * outputs through Athena (here DuckDB answers in Athena's place, over run_<table> tables holding
 * two runs, one of them broken) and fails the run before promotion.
 */
const AS_OF = '2024-03-31';
/** The one change that breaks customer_summary: its first customer comes out twice. */
const duplicateFirstCustomer = (sql: string) =>
  sql.replace(/select \* from final\s*$/, 'select * from final\nunion all\nselect * from final where customer_id = (select min(customer_id) from final)\n');
const BROKEN = 'customer_summary unique (customer_id): 1 row fails, e.g. customer_id=c1, rows=2';

let lake: Awaited<ReturnType<typeof temporaryDirectory>>;

beforeAll(async () => {
  lake = await temporaryDirectory();
  const orders = ['c1', 'c2', 'c3'].flatMap((customer, index) => [
    orderEvent({ order_id: `${customer}-a`, customer_id: customer, occurred_at: `2024-01-0${index + 1}T10:00:00Z`, total: 20 }),
    orderEvent({ order_id: `${customer}-b`, customer_id: customer, occurred_at: `2024-02-1${index + 1}T10:00:00Z`, total: 30 }),
  ]);
  const surveys = [surveyEvent({ customer_id: 'c1', occurred_at: '2024-03-01T09:00:00Z', score: 10 })];
  expect((await pipeline('ingest', 'orders', await writeJsonLines(join(lake.path, 'orders.jsonl'), orders), '--lake', lake.path)).code).toBe(0);
  expect((await pipeline('ingest', 'surveys', await writeJsonLines(join(lake.path, 'surveys.jsonl'), surveys), '--lake', lake.path)).code).toBe(0);
});

afterAll(async () => {
  await lake.cleanup();
});

async function curatedFiles(root: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const entry of await readdir(join(root, 'curated'), { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) files[relative(root, join(entry.parentPath, entry.name))] = (await readFile(join(entry.parentPath, entry.name))).toString('base64');
  }
  return files;
}

describe('the data-test gate on a local run', () => {
  it('stops a run whose SQL breaks a table, names the failure, and leaves the published partitions as they were', async () => {
    expect((await pipeline('run', '--as-of', AS_OF, '--lake', lake.path)).code).toBe(0);
    const before = await curatedFiles(lake.path);
    const brokenSql = await temporaryDirectory('broken-sql-');
    try {
      await cp(sqlDirectory(), brokenSql.path, { recursive: true });
      const file = join(brokenSql.path, 'customer_summary.sql');
      await writeFile(file, duplicateFirstCustomer(await readFile(file, 'utf8')));
      process.env['SQL_DIRECTORY'] = brokenSql.path;
      const result = await pipeline('run', '--as-of', AS_OF, '--lake', lake.path);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`data test failed for as_of ${AS_OF}, nothing was published: ${BROKEN}`);
    } finally {
      delete process.env['SQL_DIRECTORY'];
      await brokenSql.cleanup();
    }
    expect(await curatedFiles(lake.path)).toEqual(before);
  });
});

describe('the data-test gate in the state machine (test-run Lambda on Athena)', () => {
  const athena = mockClient(AthenaClient);
  let engine: DuckDbEngine;
  const statements: string[] = [];

  beforeAll(async () => {
    Object.assign(process.env, lambdaEnvironment);
    engine = await DuckDbEngine.open();
    await createSourceViews(engine, new FilesystemObjectStore(lake.path));
    await computeTables(engine, defaultConfig, AS_OF, jobGraph);
    // What the Glue run_<table> tables show: every run's output, told apart by run_id.
    for (const table of GRAPH_TABLES) {
      await engine.execute(`create table ${runTable(table)} as select *, 'sound' as run_id from ${table} union all select *, 'broken' as run_id from ${table}`);
      await engine.execute(`drop table ${table}`);
    }
    await engine.execute(`insert into run_customer_summary select * from run_customer_summary where run_id = 'broken' and customer_id = 'c1'`);
    // Athena, answered by DuckDB: each statement runs when its results are asked for.
    athena.on(StartQueryExecutionCommand).callsFake((input: { QueryString: string }) => {
      statements.push(input.QueryString);
      return { QueryExecutionId: String(statements.length - 1) };
    });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
    athena.on(GetQueryResultsCommand).callsFake(async (input: { QueryExecutionId: string }) => {
      const result = await engine.query(statements[Number(input.QueryExecutionId)]!);
      const header = { Data: result.columns.map((column) => ({ VarCharValue: column.name })) };
      const rows = result.rows.map((row) => ({ Data: row.map((value) => (value === null ? {} : { VarCharValue: String(value) })) }));
      return {
        ResultSet: {
          ResultSetMetadata: { ColumnInfo: result.columns.map((column) => ({ Name: column.name, Type: column.type.toLowerCase() })) },
          Rows: [header, ...rows],
        },
      };
    });
  });

  afterAll(() => {
    athena.restore();
    engine.close();
  });

  it('passes a sound run, reading only that run', async () => {
    const { handler } = await importHandler('test-run');
    const result = await handler({ as_of: AS_OF, run_id: 'sound' }, lambdaContext('sound', 600_000));
    expect(result.tests).toBeGreaterThan(200);
    expect(statements.every((sql) => !/\bfrom customer_summary\b/.test(sql.replaceAll("from run_customer_summary where run_id = 'sound'", '')))).toBe(true);
  });

  it('fails a run with a broken table before promotion, naming table, test and rows', async () => {
    const { handler } = await importHandler('test-run');
    await expect(handler({ as_of: AS_OF, run_id: 'broken' }, lambdaContext('broken', 600_000))).rejects.toMatchObject({
      name: 'DataTestFailedError',
      message: `data test failed for as_of ${AS_OF}, nothing was published: ${BROKEN}`,
    });
  });
});

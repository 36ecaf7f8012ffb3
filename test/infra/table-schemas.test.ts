import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../../functions/adapters/duckdb-engine.ts';
import { FilesystemObjectStore } from '../../functions/adapters/filesystem-store.ts';
import { createLakeViews } from '../../functions/adapters/lake-views.ts';
import { computeTables } from '../../functions/local/local-job-runner.ts';
import { defaultConfig } from '../../functions/core/config.ts';
import { GRAPH_TABLES, QUERYABLE_SOURCES, tableDoc } from '../../functions/core/dictionary/index.ts';
import { jobGraph } from '../../functions/core/jobs/graph.ts';
import { GLUE_COMMENT_LIMIT, TABLE_SCHEMAS_FILE, tableSchemasText } from '../../infra/table-schemas.ts';

/** DuckDB's type names as Glue and Athena name them (what UNLOAD writes). */
function glueType(duckdbType: string): string {
  if (duckdbType === 'VARCHAR') return 'string';
  if (duckdbType === 'DOUBLE' || duckdbType === 'FLOAT') return 'double';
  // HUGEINT (DuckDB's sum of bigints) is not bigint: Parquet has no 128-bit integer, and DuckDB
  // writes it as a double, so a published file would not hold what Glue declares.
  if (['BIGINT', 'UBIGINT'].includes(duckdbType)) return 'bigint';
  if (['INTEGER', 'SMALLINT', 'TINYINT', 'UINTEGER'].includes(duckdbType)) return 'int';
  if (duckdbType === 'BOOLEAN') return 'boolean';
  if (duckdbType === 'DATE') return 'date';
  if (duckdbType.startsWith('TIMESTAMP')) return 'timestamp';
  return `(no Glue type for DuckDB's ${duckdbType})`;
}

describe('the table dictionary against the SQL', () => {
  it('declares exactly the columns, in order and with the types, that every step writes', async () => {
    const root = await mkdtemp(join(tmpdir(), 'schemas-'));
    const engine = await DuckDbEngine.open();
    try {
      await createLakeViews(engine, new FilesystemObjectStore(root));
      await computeTables(engine, defaultConfig, '2024-01-31', jobGraph);
      for (const table of [...GRAPH_TABLES, ...QUERYABLE_SOURCES]) {
        const described = await engine.query(`describe ${table}`);
        const actual = described.rows.map((row) => `${String(row[0])} ${glueType(String(row[1]))}`);
        const declared = tableDoc(table).columns.map((column) => `${column.name} ${column.type}`);
        expect(actual, `${table}: the SQL and functions/core/dictionary/ disagree`).toEqual(declared);
      }
    } finally {
      engine.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('Glue table schemas', () => {
  it('are generated from the dictionary and up to date (npm run generate)', async () => {
    const checkedIn = await readFile(TABLE_SCHEMAS_FILE, 'utf8');
    expect(checkedIn, 'infra/table-schemas.json is stale: run npm run generate').toBe(tableSchemasText());
  });

  it('give every column a comment that Glue keeps whole, and every table a description', async () => {
    const schemas = JSON.parse(await readFile(TABLE_SCHEMAS_FILE, 'utf8')) as Record<
      string,
      { description: string; columns: { name: string; comment: string }[] }
    >;
    for (const [table, schema] of Object.entries(schemas)) {
      expect(schema.description.length, table).toBeGreaterThan(20);
      expect(schema.description.length, table).toBeLessThanOrEqual(1_900);
      for (const column of schema.columns) {
        expect(column.comment.length, `${table}.${column.name}`).toBeGreaterThan(5);
        expect(column.comment.length, `${table}.${column.name}: Glue keeps ${GLUE_COMMENT_LIMIT} characters`).toBeLessThanOrEqual(GLUE_COMMENT_LIMIT);
      }
    }
  });
});

/**
 * The Glue schemas of the tables the job graph writes, generated from the SQL itself: every
 * step is run on DuckDB over an empty lake and its output described. `npm run schema` writes
 * infra/table-schemas.json; a test fails when it is stale, so the catalog cannot drift from sql/.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDbEngine } from '../functions/adapters/duckdb-engine.ts';
import { FilesystemObjectStore } from '../functions/adapters/filesystem-store.ts';
import { createSourceViews } from '../functions/adapters/lake-views.ts';
import { computeTables } from '../functions/adapters/local-job-runner.ts';
import { defaultConfig } from '../functions/core/config.ts';
import { jobGraph, outputsOf } from '../functions/core/jobs/graph.ts';

export const TABLE_SCHEMAS_FILE = new URL('./table-schemas.json', import.meta.url);

export type GlueColumn = { readonly name: string; readonly type: string };

/** DuckDB's type names to Glue/Hive ones, as Athena's UNLOAD writes them. */
function glueType(duckdbType: string): string {
  if (duckdbType === 'VARCHAR') return 'string';
  if (duckdbType === 'DOUBLE' || duckdbType === 'FLOAT') return 'double';
  if (['BIGINT', 'HUGEINT', 'UBIGINT'].includes(duckdbType)) return 'bigint';
  if (['INTEGER', 'SMALLINT', 'TINYINT', 'UINTEGER'].includes(duckdbType)) return 'int';
  if (duckdbType === 'BOOLEAN') return 'boolean';
  if (duckdbType === 'DATE') return 'date';
  if (duckdbType.startsWith('TIMESTAMP')) return 'timestamp';
  if (duckdbType.startsWith('DECIMAL')) return duckdbType.toLowerCase();
  throw new Error(`no Glue type for DuckDB type ${duckdbType}`);
}

export async function generateTableSchemas(): Promise<Record<string, GlueColumn[]>> {
  const root = await mkdtemp(join(tmpdir(), 'schemas-'));
  const engine = await DuckDbEngine.open();
  try {
    await createSourceViews(engine, new FilesystemObjectStore(root));
    await computeTables(engine, defaultConfig, '2024-01-31', jobGraph);
    const schemas: Record<string, GlueColumn[]> = {};
    for (const table of jobGraph.flatMap(outputsOf)) {
      const described = await engine.query(`describe ${table}`);
      schemas[table] = described.rows.map((row) => ({ name: String(row[0]), type: glueType(String(row[1])) }));
    }
    return schemas;
  } finally {
    engine.close();
    await rm(root, { recursive: true, force: true });
  }
}

export async function tableSchemasText(): Promise<string> {
  return JSON.stringify(await generateTableSchemas(), null, 2) + '\n';
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await writeFile(TABLE_SCHEMAS_FILE, await tableSchemasText());
  process.stdout.write(`wrote ${TABLE_SCHEMAS_FILE.pathname}\n`);
}

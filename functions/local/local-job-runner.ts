import { mkdir, mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PipelineConfig } from '../core/config.ts';
import { QueryFailedError } from '../core/errors.ts';
import { dataTestError, dataTestsOf, runDataTests } from '../core/dictionary/data-tests.ts';
import { findTableDoc } from '../core/dictionary/index.ts';
import { curatedOutputsOf, jobGraph, outputsOf } from '../core/jobs/graph.ts';
import type { JobStep } from '../core/jobs/graph.ts';
import { typeScriptSteps } from '../core/jobs/typescript-steps.ts';
import type { InputColumns, TypeScriptStepHandler } from '../core/jobs/typescript-steps.ts';
import { readParquetColumns } from '../core/lake/parquet.ts';
import { readSql, renderSql, sqlParameters } from '../core/jobs/sql-template.ts';
import { CURATED_FILE, lakeLayout, newBatchId } from '../core/lake/layout.ts';
import { DuckDbEngine } from '../adapters/duckdb-engine.ts';
import { TEMP_PREFIX } from '../adapters/filesystem-store.ts';
import type { FilesystemObjectStore } from '../adapters/filesystem-store.ts';
import { createSourceViews, sqlString } from '../adapters/lake-views.ts';

export interface LocalRunOptions {
  readonly store: FilesystemObjectStore;
  readonly config: PipelineConfig;
  /** The as_of dates to compute, in order. */
  readonly asOfDates: readonly string[];
  readonly steps?: readonly JobStep[];
  /** Called before each step. */
  readonly onStep?: (asOf: string, step: JobStep, index: number, total: number) => void;
}

export interface AsOfRun {
  readonly asOf: string;
  readonly milliseconds: number;
  /** Rows written per curated table. */
  readonly rows: Readonly<Record<string, number>>;
}

/**
 * Runs the job graph on DuckDB for each as_of date. Every step of a date runs first, into
 * temporary tables and hidden files; only when all succeeded is each partition's file renamed
 * into place, so a failed run leaves the previous output untouched and nothing half-written
 * is ever visible to a query.
 */
export async function runLocalJobGraph(options: LocalRunOptions): Promise<AsOfRun[]> {
  const { store, config } = options;
  const steps = options.steps ?? jobGraph;
  const engine = await DuckDbEngine.open({ memoryLimit: config.engine.memoryLimit, threads: config.engine.threads });
  const runs: AsOfRun[] = [];
  try {
    await createSourceViews(engine, store);
    const templates = new Map<string, string>();
    for (const current of steps) if (current.type === 'sql') templates.set(current.name, await readSql(current.sqlFile));
    for (const asOf of options.asOfDates) {
      runs.push(await runOneDate(engine, store, steps, templates, config, asOf, options.onStep));
    }
  } finally {
    engine.close();
  }
  return runs;
}

async function runOneDate(
  engine: DuckDbEngine,
  store: FilesystemObjectStore,
  steps: readonly JobStep[],
  templates: ReadonlyMap<string, string>,
  config: PipelineConfig,
  asOf: string,
  onStep: LocalRunOptions['onStep'],
): Promise<AsOfRun> {
  const started = Date.now();
  const parameters = sqlParameters(config, asOf);
  const runId = newBatchId();
  const pending: { table: string; temp: string; final: string }[] = [];
  const rows: Record<string, number> = {};
  const releases = releaseSchedule(steps);
  try {
    for (const [index, current] of steps.entries()) {
      onStep?.(asOf, current, index, steps.length);
      try {
        await runStep(engine, current, templates, parameters, config, asOf);
      } catch (error) {
        throw new QueryFailedError(`step ${current.name} failed for as_of ${asOf}: ${(error as Error).message}`, current.name, {
          cause: error,
        });
      }
      await testTables(engine, outputsOf(current), asOf);
      for (const table of curatedOutputsOf(current)) {
        const directory = store.pathOf(lakeLayout.curatedPartition(table, asOf));
        const temp = join(directory, `${TEMP_PREFIX}${runId}`);
        await mkdir(directory, { recursive: true });
        // The file keeps its as_of column, as the Athena run's files do: the path and the data agree.
        // ZSTD at level 1 rather than DuckDB's 3: customer_orders' 9.3M rows of the 10M-event
        // lake took 4.7-5.1 s instead of 5.4-7.4 s, and the file came out 2 % smaller (bench/HISTORY.md).
        await engine.execute(`copy (select * from ${table}) to ${sqlString(temp)} (format parquet, compression zstd, compression_level 1)`);
        pending.push({ table, temp, final: join(directory, CURATED_FILE) });
        const counted = await engine.query(`select count(*) from ${table}`);
        rows[table] = Number(counted.rows[0]?.[0] ?? 0);
      }
      // Written out and read by no later step: its memory is the next step's.
      for (const table of releases[index]!) await engine.execute(`drop table if exists ${table}`);
    }
  } catch (error) {
    await Promise.all(pending.map((file) => rm(file.temp, { force: true })));
    throw error;
  }
  for (const file of pending) {
    await rename(file.temp, file.final);
    await removeOtherFiles(file.final);
  }
  return { asOf, milliseconds: Date.now() - started, rows };
}

/**
 * Runs steps for one as_of into the engine's tables, publishing nothing: for commands that
 * need a table of some date without changing the lake (validate-clv). The engine must have the
 * source views (createSourceViews).
 */
export async function computeTables(engine: DuckDbEngine, config: PipelineConfig, asOf: string, steps: readonly JobStep[]): Promise<void> {
  const parameters = sqlParameters(config, asOf);
  const templates = new Map<string, string>();
  for (const current of steps) if (current.type === 'sql') templates.set(current.name, await readSql(current.sqlFile));
  for (const current of steps) await runStep(engine, current, templates, parameters, config, asOf);
}

/** Runs one step into tables of the run. */
async function runStep(
  engine: DuckDbEngine,
  current: JobStep,
  templates: ReadonlyMap<string, string>,
  parameters: ReturnType<typeof sqlParameters>,
  config: PipelineConfig,
  asOf: string,
): Promise<void> {
  if (current.type === 'sql') {
    await engine.execute(`create or replace temp table ${current.name} as\n${renderSql(templates.get(current.name)!, parameters)}`);
    return;
  }
  const handler = typeScriptSteps[current.handler];
  const results = handler.run(await stepInput(engine, handler, asOf), config, asOf);
  for (const table of outputsOf(current)) {
    await engine.createTableFromRows(`${table}_rows`, handler.outputColumns[table]!, results[table] ?? []);
    await engine.execute(`create or replace temp table ${table} as select *, date '${asOf}' as as_of from ${table}_rows`);
    await engine.execute(`drop table ${table}_rows`);
  }
}

/**
 * A TypeScript step's input read as the AWS step reads it: DuckDB writes the rows of the
 * step's input SQL to a Parquet file, read back as columns (readParquetColumns). When it came
 * in, a million customers' columns took 1.3-1.6 s this way, against 2.9-3.4 s as DuckDB's
 * values converted one at a time; the read has become faster since (bench/HISTORY.md).
 */
async function stepInput(engine: DuckDbEngine, handler: TypeScriptStepHandler, asOf: string): Promise<InputColumns> {
  const directory = await mkdtemp(join(tmpdir(), 'pipeline-step-input-'));
  try {
    const path = join(directory, 'input.parquet');
    await engine.execute(`copy (${handler.inputSql(asOf)}) to ${sqlString(path)} (format parquet)`);
    return readParquetColumns(new Uint8Array(await readFile(path)), handler.inputColumns);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/**
 * Runs the table dictionary's tests on tables a step just wrote, before any later step reads
 * them and before anything is published: a failure stops the run, naming each failing test.
 */
export async function testTables(engine: DuckDbEngine, tables: readonly string[], asOf: string): Promise<void> {
  // Every table of the real graph has an entry (the dictionary refuses to load otherwise); a
  // test's own made-up steps have none.
  const docs = tables.flatMap((table) => findTableDoc(table) ?? []);
  const failures = await runDataTests(
    engine,
    docs.flatMap((doc) => dataTestsOf(doc, asOf)),
    { hashGrains: true },
  );
  if (failures.length > 0) throw dataTestError(failures, asOf);
}

/** Per step, the tables that no later step reads: they can be dropped once the step is done. */
function releaseSchedule(steps: readonly JobStep[]): string[][] {
  const lastUse = new Map<string, number>();
  steps.forEach((current, index) => {
    for (const table of outputsOf(current)) lastUse.set(table, index);
    for (const table of current.inputs) if (lastUse.has(table)) lastUse.set(table, index);
  });
  const releases: string[][] = steps.map(() => []);
  for (const [table, index] of lastUse) releases[index]!.push(table);
  return releases;
}

/** Files other than the partition's current one (left by an older layout) would be read twice. */
async function removeOtherFiles(finalPath: string): Promise<void> {
  const directory = join(finalPath, '..');
  for (const entry of await readdir(directory)) {
    if (entry !== CURATED_FILE && !entry.startsWith(TEMP_PREFIX)) await rm(join(directory, entry), { force: true });
  }
}

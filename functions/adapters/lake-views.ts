import { CURATED_TABLES } from '../core/jobs/graph.ts';
import { lakeLayout } from '../core/lake/layout.ts';
import { rawColumns, rejectedColumns, SQL_TYPE_OF_KIND } from '../core/lake/raw-tables.ts';
import { EVENT_TYPES } from '../core/events/schemas.ts';
import type { QueryEngine } from '../core/ports.ts';
import type { FilesystemObjectStore } from './filesystem-store.ts';

/** A SQL string literal. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

async function hasFiles(store: FilesystemObjectStore, prefix: string, suffix: string): Promise<boolean> {
  return (await store.list(prefix)).some((key) => key.endsWith(suffix));
}

/** The raw event tables: every stored delivery, duplicates included; dt is the UTC event date. */
export async function createRawViews(engine: QueryEngine, store: FilesystemObjectStore): Promise<void> {
  for (const type of EVENT_TYPES) {
    const prefix = lakeLayout.rawTable(type);
    if (await hasFiles(store, prefix, '.parquet')) {
      const glob = `${store.pathOf(prefix)}/*/*.parquet`;
      await engine.execute(
        `create or replace view ${type} as select * from read_parquet(${sqlString(glob)}, ` +
          `hive_partitioning = true, hive_types = {'dt': date}, union_by_name = true)`,
      );
    } else {
      // No data yet: an empty table with the right columns, so every query still binds.
      const columns = rawColumns[type].map((column) => `cast(null as ${SQL_TYPE_OF_KIND[column.kind]}) as ${column.name}`);
      await engine.execute(`create or replace view ${type} as select ${columns.join(', ')}, cast(null as date) as dt where false`);
    }
  }
}

/** Every refused record with its reason, across event types. */
export async function createRejectedView(engine: QueryEngine, store: FilesystemObjectStore): Promise<void> {
  if (await hasFiles(store, lakeLayout.rejected, '.jsonl')) {
    const glob = `${store.pathOf(lakeLayout.rejected)}/*/*/*.jsonl`;
    const columns = rejectedColumns.map((column) => `${column.name}: '${column.sqlType}'`).join(', ');
    await engine.execute(
      `create or replace view rejected_events as select ${rejectedColumns.map((column) => column.name).join(', ')}, dt ` +
        `from read_json(${sqlString(glob)}, format = 'newline_delimited', hive_partitioning = true, ` +
        `hive_types = {'dt': date}, columns = {${columns}})`,
    );
  } else {
    const columns = rejectedColumns.map((column) => `cast(null as ${column.sqlType}) as ${column.name}`);
    await engine.execute(`create or replace view rejected_events as select ${columns.join(', ')}, cast(null as date) as dt where false`);
  }
}

/** One view per curated table that has been written at least once; as_of comes from the path. */
export async function createCuratedViews(engine: QueryEngine, store: FilesystemObjectStore): Promise<string[]> {
  const created: string[] = [];
  for (const table of CURATED_TABLES) {
    const prefix = lakeLayout.curatedTable(table);
    if (!(await hasFiles(store, prefix, '.parquet'))) continue;
    const glob = `${store.pathOf(prefix)}/as_of=*/*.parquet`;
    await engine.execute(
      `create or replace view ${table} as select * from read_parquet(${sqlString(glob)}, ` +
        `hive_partitioning = true, hive_types = {'as_of': date}, union_by_name = true)`,
    );
    created.push(table);
  }
  return created;
}

/** All lake tables as views: what `pipeline query` sees. */
export async function createLakeViews(engine: QueryEngine, store: FilesystemObjectStore): Promise<void> {
  await createRawViews(engine, store);
  await createRejectedView(engine, store);
  await createCuratedViews(engine, store);
}

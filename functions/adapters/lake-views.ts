import { CURATED_TABLES } from '../core/jobs/graph.ts';
import { lakeLayout } from '../core/lake/layout.ts';
import { LATEST_DATE_TABLE, latestView, latestViewSql } from '../core/lake/latest-views.ts';
import { publishedColumns, rawColumns, rejectedColumns, SQL_TYPE_OF_KIND } from '../core/lake/raw-tables.ts';
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

/** Which of the lake's views to create: all of them unless told otherwise. */
type ViewFilter = (view: string) => boolean;
const allViews: ViewFilter = () => true;

/**
 * The tables the job graph reads as sources: raw events (every stored delivery, duplicates
 * included; dt is the UTC date each batch was received) and the published-message log.
 */
export async function createSourceViews(engine: QueryEngine, store: FilesystemObjectStore, wanted: ViewFilter = allViews): Promise<void> {
  await createRawViews(engine, store, wanted);
  if (wanted('published_messages')) await createPublishedView(engine, store);
}

async function createRawViews(engine: QueryEngine, store: FilesystemObjectStore, wanted: ViewFilter): Promise<void> {
  for (const type of EVENT_TYPES.filter(wanted)) {
    const prefix = lakeLayout.rawTable(type);
    // An empty table with every column of today's contract: alone when there is no data yet,
    // and under the files otherwise, so that a column added since older files were written
    // (items) reads as null in them instead of failing every query.
    const columns = rawColumns[type].map((column) => `cast(null as ${SQL_TYPE_OF_KIND[column.kind]}) as ${column.name}`);
    const empty = `select ${columns.join(', ')}, cast(null as date) as dt where false`;
    if (await hasFiles(store, prefix, '.parquet')) {
      const glob = `${store.pathOf(prefix)}/*/*.parquet`;
      await engine.execute(
        `create or replace view ${type} as ${empty} union all by name select * from read_parquet(${sqlString(glob)}, ` +
          `hive_partitioning = true, hive_types = {'dt': date}, union_by_name = true)`,
      );
    } else {
      await engine.execute(`create or replace view ${type} as ${empty}`);
    }
  }
}

type JsonColumns = readonly { readonly name: string; readonly sqlType: string }[];

/**
 * A view over JSON Lines files with fixed columns; an empty table with the same columns when
 * there are no files yet, so that every query binds.
 */
async function createJsonLinesView(
  engine: QueryEngine,
  store: FilesystemObjectStore,
  view: string,
  prefix: string,
  depth: number,
  columns: JsonColumns,
  partitionColumn?: string,
): Promise<void> {
  const names = columns.map((column) => column.name).join(', ');
  const partition = partitionColumn ? `, ${partitionColumn}` : '';
  if (await hasFiles(store, prefix, '.jsonl')) {
    const glob = `${store.pathOf(prefix)}/${'*/'.repeat(depth)}*.jsonl`;
    const types = columns.map((column) => `${column.name}: '${column.sqlType}'`).join(', ');
    const hive = partitionColumn ? `hive_partitioning = true, hive_types = {'${partitionColumn}': date}` : 'hive_partitioning = false';
    await engine.execute(
      `create or replace view ${view} as select ${names}${partition} from read_json(${sqlString(glob)}, ` +
        `format = 'newline_delimited', ${hive}, columns = {${types}})`,
    );
    return;
  }
  const empty = columns.map((column) => `cast(null as ${column.sqlType}) as ${column.name}`).join(', ');
  const emptyPartition = partitionColumn ? `, cast(null as date) as ${partitionColumn}` : '';
  await engine.execute(`create or replace view ${view} as select ${empty}${emptyPartition} where false`);
}

/** Every refused record with its reason, across event types. */
export async function createRejectedView(engine: QueryEngine, store: FilesystemObjectStore): Promise<void> {
  await createJsonLinesView(engine, store, 'rejected_events', lakeLayout.rejected, 2, rejectedColumns, 'dt');
}

/** Every campaign message already sent, by as_of: the input of campaign cooldowns. */
export async function createPublishedView(engine: QueryEngine, store: FilesystemObjectStore): Promise<void> {
  await createJsonLinesView(engine, store, 'published_messages', lakeLayout.published, 1, publishedColumns);
}

/**
 * One view per curated table that has been written at least once, and its latest_<table> view. as_of is both in the path
 * and, since files keep it (as Athena's run outputs do), in the data: DuckDB 1.5 fails on
 * aggregates over a partition column that is only in the path (`select max(as_of)`: "INTERNAL
 * Error: Attempted to access index"), and partitions written before files kept the column are
 * still read through the path.
 */
export async function createCuratedViews(engine: QueryEngine, store: FilesystemObjectStore, wanted: ViewFilter = allViews): Promise<void> {
  const written: string[] = [];
  // A latest view reads its table and the table that holds the newest date.
  const needed = (table: string) =>
    wanted(table) || wanted(latestView(table)) || (table === LATEST_DATE_TABLE && CURATED_TABLES.some((each) => wanted(latestView(each))));
  for (const table of CURATED_TABLES.filter(needed)) {
    const prefix = lakeLayout.curatedTable(table);
    if (!(await hasFiles(store, prefix, '.parquet'))) continue;
    const glob = `${store.pathOf(prefix)}/as_of=*/*.parquet`;
    await engine.execute(
      `create or replace view ${table} as select * from read_parquet(${sqlString(glob)}, ` +
        `hive_partitioning = true, hive_types = {'as_of': date}, union_by_name = true)`,
    );
    written.push(table);
  }
  // After every table's view: each latest view reads the newest date from LATEST_DATE_TABLE.
  if (!written.includes(LATEST_DATE_TABLE)) return;
  for (const table of written.filter((each) => wanted(latestView(each)))) {
    await engine.execute(`create or replace view ${latestView(table)} as ${latestViewSql(table)}`);
  }
}

/** All lake tables as views: what `pipeline query` sees. */
export async function createLakeViews(engine: QueryEngine, store: FilesystemObjectStore, wanted: ViewFilter = allViews): Promise<void> {
  await createSourceViews(engine, store, wanted);
  if (wanted('rejected_events')) await createRejectedView(engine, store);
  await createCuratedViews(engine, store, wanted);
}

/** Every view createLakeViews can make. */
const LAKE_VIEWS: ReadonlySet<string> = new Set([
  ...EVENT_TYPES,
  'published_messages',
  'rejected_events',
  ...CURATED_TABLES,
  ...CURATED_TABLES.map(latestView),
]);

/** True for the name (in any case) of a view createLakeViews can make. */
export const isLakeView = (name: string) => LAKE_VIEWS.has(name.toLowerCase());

/** Words that read the catalog: a query with one of them sees every view. */
const CATALOG_WORDS = new Set(['information_schema', 'pg_catalog', 'show', 'pragma']);

/**
 * The lake's views that some SQL names, as a word in any case (quoted or not), or every view
 * when it names none of them or reads the catalog (`show tables`, information_schema,
 * duckdb_tables()): making a view binds its files (every raw file's footer, for its columns),
 * which on a lake of thousands of raw files took most of a query's time. A word that only looks
 * like a table name (in a string, a column such as period_metrics.orders) makes a view the
 * query does not read, which costs time, not results.
 */
export function viewsNamedIn(sql: string): ViewFilter {
  const words = new Set(sql.toLowerCase().match(/[a-z_][a-z0-9_]*/g) ?? []);
  if ([...words].some((word) => CATALOG_WORDS.has(word) || word.startsWith('duckdb_'))) return allViews;
  const named = new Set([...LAKE_VIEWS].filter((view) => words.has(view)));
  return named.size === 0 ? allViews : (view) => named.has(view);
}

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { QueryFailedError } from '../core/errors.ts';
import type { QueryEngine, QueryResult } from '../core/ports.ts';

/**
 * Trino functions the sql/ files use that DuckDB spells differently, defined as DuckDB macros
 * so the same files run on both engines (docs/contributing.md, "SQL on two engines"). Keep this list short: prefer the
 * common subset in sql/.
 */
export const DUCKDB_PRELUDE: readonly string[] = [
  // Trino: sequence(start, stop, step) -> array; DuckDB calls it generate_series.
  'create or replace macro sequence(start_value, stop_value, step_value) as generate_series(start_value, stop_value, step_value)',
  // Trino: json_array_get(json, index) -> the element (0-based); json_extract_scalar(json, path)
  // -> the scalar at path as text. DuckDB spells them json_extract and json_extract_string.
  // They differ on an object or array at path (Trino: null; DuckDB: its JSON text): read only
  // fields that ingest has checked to be scalars.
  'create or replace macro json_array_get(json_array, array_index) as json_extract(json_array, cast(array_index as bigint))',
  'create or replace macro json_extract_scalar(json_text, json_path) as json_extract_string(json_text, json_path)',
  // Trino: array_join(array, separator); DuckDB calls it array_to_string.
  'create or replace macro array_join(items, separator) as array_to_string(items, separator)',
  // Trino: normal_cdf(mean, sd, v), the normal distribution function; DuckDB has none. The
  // upper tail Q(a) = 1 - Phi(a) for a >= 0 by Hart's algorithm 5666 as given in West, "Better
  // approximations to cumulative normal functions" (Wilmott, 2005): absolute error about 1e-15,
  // relative error below 1e-12 within 4 standard deviations and 1e-8 beyond, as measured in
  // test/unit/duckdb-engine.test.ts against a numerical integral.
  `create or replace macro normal_upper_tail(a) as case
     when a > 37 then cast(0 as double)
     when a < 7.07106781186547 then exp(-a * a / 2)
       * ((((((0.0352624965998911 * a + 0.700383064443688) * a + 6.37396220353165) * a + 33.912866078383) * a
         + 112.079291497871) * a + 221.213596169931) * a + 220.206867912376)
       / (((((((0.0883883476483184 * a + 1.75566716318264) * a + 16.064177579207) * a + 86.7807322029461) * a
         + 296.564248779674) * a + 637.333633378831) * a + 793.826512519948) * a + 440.413735824752)
     else exp(-a * a / 2) / (a + 1 / (a + 2 / (a + 3 / (a + 4 / (a + 0.65))))) / 2.506628274631
   end`,
  `create or replace macro normal_cdf(mean, sd, v) as case
     when (cast(v as double) - mean) / sd > 0 then 1 - normal_upper_tail((cast(v as double) - mean) / sd)
     else normal_upper_tail(-(cast(v as double) - mean) / sd)
   end`,
];

/** Session settings that make DuckDB compute what Athena (Trino) computes. */
const SESSION_SETTINGS: readonly string[] = [
  // Trino divides integers as integers: 7/2 = 3.
  'set integer_division = true',
  // Timestamps with time zone print in UTC, as in Athena; business dates use explicit zones.
  "set TimeZone = 'UTC'",
];

const SAFE_INTEGER_TYPES = new Set(['BIGINT', 'HUGEINT', 'UBIGINT', 'UHUGEINT']);

/** DECIMAL(p,s) with p <= 15 holds no more digits than a double represents exactly. */
function isSmallDecimal(type: string): boolean {
  const match = /^DECIMAL\((\d+),/.exec(type);
  return match !== null && Number(match[1]) <= 15;
}

/** DuckDB, embedded and in-process: the local engine. */
export class DuckDbEngine implements QueryEngine {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  static async open(options: { threads?: number; memoryLimit?: string } = {}): Promise<DuckDbEngine> {
    const settings: Record<string, string> = {};
    if (options.threads !== undefined) settings['threads'] = String(options.threads);
    if (options.memoryLimit !== undefined) {
      settings['memory_limit'] = options.memoryLimit;
      // Spill files go to the system's temporary directory, never into the working directory.
      settings['temp_directory'] = join(tmpdir(), `duckdb-spill-${process.pid}`);
    }
    // Loaded on first use: the native library takes about 0.2 s to load, which commands that
    // never query (ingest, --help) need not pay.
    const { DuckDBInstance: Instance } = await import('@duckdb/node-api');
    const instance = await Instance.create(':memory:', settings);
    const connection = await instance.connect();
    const engine = new DuckDbEngine(instance, connection);
    for (const statement of [...SESSION_SETTINGS, ...DUCKDB_PRELUDE]) await engine.execute(statement);
    // A budgeted engine runs the job graph, whose steps build and drop tables of millions of
    // rows one after another. DuckDB's block allocator keeps the memory it has touched (up to
    // the budget) for the next step instead of handing it back to the system and faulting it in
    // again: on 10M order events that was a quarter of the graph's CPU time (bench/HISTORY.md).
    // The memory is the instance's and is released when it closes. DuckDB refuses an allocator
    // larger than 80 % of the machine's (or container's) memory, which a budget need not be:
    // such an engine runs without it, as every engine did before. (@duckdb/node-api 1.5 takes
    // the setting only once the instance exists, not in Instance.create's options.)
    if (options.memoryLimit !== undefined) {
      await engine.execute(`set block_allocator_memory = '${options.memoryLimit}'`).catch(() => undefined);
    }
    return engine;
  }

  async execute(sql: string): Promise<void> {
    try {
      await this.connection.run(sql);
    } catch (error) {
      throw new QueryFailedError(firstLine(error), undefined, { cause: error });
    }
  }

  async query(sql: string): Promise<QueryResult> {
    let reader: Awaited<ReturnType<typeof this.connection.runAndReadAll>>;
    try {
      reader = await this.connection.runAndReadAll(sql);
    } catch (error) {
      throw new QueryFailedError(firstLine(error), undefined, { cause: error });
    }
    const types = reader.columnTypes().map((type) => type.toString());
    const columns = reader.columnNames().map((name, index) => ({ name, type: types[index]! }));
    const rows = reader.getRowsJson().map((row) =>
      row.map((value, index) => {
        // 64-bit integers arrive as strings; counts and ids that fit are more useful as numbers.
        if (typeof value === 'string' && SAFE_INTEGER_TYPES.has(types[index]!)) {
          const number = Number(value);
          return Number.isSafeInteger(number) ? number : value;
        }
        if (typeof value === 'string' && isSmallDecimal(types[index]!)) return Number(value);
        return value;
      }),
    );
    return { columns, rows };
  }

  /**
   * Creates (or replaces) a table and fills it with rows through DuckDB's appender: how the
   * results of TypeScript steps join the SQL ones.
   */
  async createTableFromRows(
    table: string,
    columns: readonly { readonly name: string; readonly type: 'varchar' | 'double' | 'integer' | 'boolean' }[],
    rows: readonly object[],
  ): Promise<void> {
    await this.execute(`create or replace table ${table} (${columns.map((column) => `${column.name} ${column.type}`).join(', ')})`);
    const appender = await this.connection.createAppender(table);
    for (const row of rows as readonly Record<string, unknown>[]) {
      for (const column of columns) {
        const value = row[column.name];
        if (value === null || value === undefined || (typeof value === 'number' && !Number.isFinite(value))) appender.appendNull();
        else if (column.type === 'varchar') appender.appendVarchar(String(value));
        else if (column.type === 'double') appender.appendDouble(Number(value));
        else if (column.type === 'integer') appender.appendInteger(Number(value));
        else appender.appendBoolean(Boolean(value));
      }
      appender.endRow();
    }
    appender.closeSync();
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}

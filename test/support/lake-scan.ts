import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DuckDbEngine } from '../../functions/adapters/duckdb-engine.ts';

/** Every file under a directory, recursively. */
export async function filesUnder(directory: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) files.push(...(await filesUnder(path)));
    else files.push(path);
  }
  return files;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The id as a whole token: not part of a longer id such as cust-0000370 for cust-000037. */
const tokenPattern = (id: string) => new RegExp(`(^|[^\\p{L}\\p{N}_.@+-])${escapeRegExp(id)}($|[^\\p{L}\\p{N}_.@+-])`, 'u');

/**
 * Where a lake still names any of the ids: every file, Parquet read by DuckDB (every column of
 * every row as text, decompressed) and as raw bytes (statistics are kept uncompressed), gzip
 * decompressed, anything else as text. Independent of the code that erased them.
 */
export async function findIds(lake: string, ids: readonly string[]): Promise<string[]> {
  const patterns = ids.map((id) => ({ id, pattern: tokenPattern(id) }));
  const found = new Set<string>();
  const search = (where: string, text: string) => {
    for (const { id, pattern } of patterns) if (pattern.test(text)) found.add(`${id} in ${where.slice(lake.length + 1)}`);
  };
  // Parquet files by table (the directory above their partition), each table in one query.
  const tables = new Map<string, string[]>();
  for (const path of await filesUnder(lake)) {
    const bytes = await readFile(path);
    search(path, bytes.toString('latin1'));
    if (path.endsWith('.parquet')) {
      const table = dirname(dirname(path));
      tables.set(table, [...(tables.get(table) ?? []), path]);
    } else {
      search(path, (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('utf8'));
    }
  }
  const engine = await DuckDbEngine.open({ threads: 1 });
  try {
    for (const [table, files] of tables) {
      const list = files.map((file) => `'${file.replaceAll("'", "''")}'`).join(', ');
      // Each row as text (DuckDB casts a row to a struct literal), searched where it is, for every id in one read.
      const counts = patterns.map(({ id }) => {
        const pattern = `(^|[^\\pL\\pN_.@+-])${escapeRegExp(id)}($|[^\\pL\\pN_.@+-])`.replaceAll("'", "''");
        return `count(*) filter (where regexp_matches(row_text, '${pattern}'))`;
      });
      const result = await engine.query(
        `select ${counts.join(', ')} from (select cast(row_values as varchar) as row_text ` +
          `from (select * from read_parquet([${list}], union_by_name = true, hive_partitioning = false)) as row_values)`,
      );
      patterns.forEach(({ id }, index) => {
        if (Number(result.rows[0]![index]) > 0) found.add(`${id} in ${table.slice(lake.length + 1)}/`);
      });
    }
  } finally {
    engine.close();
  }
  return [...found];
}

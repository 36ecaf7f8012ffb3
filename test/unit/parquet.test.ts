import { describe, expect, it } from 'vitest';
import { ColumnBatch, readParquetColumns, readParquetRows } from '../../functions/core/lake/parquet.ts';
import { DuckDbEngine } from '../../functions/adapters/duckdb-engine.ts';
import { temporaryDirectory } from '../support/cli.ts';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const columns = [
  { name: 'text', kind: 'string', nullable: true },
  { name: 'amount', kind: 'float64', nullable: true },
  { name: 'count', kind: 'int32', nullable: true },
  { name: 'at', kind: 'timestamp', nullable: true },
  { name: 'day', kind: 'date', nullable: true },
  { name: 'flag', kind: 'boolean', nullable: true },
] as const;

// Nulls first, in the middle and last; ASCII and multi-byte text; timestamps at both ends of the accepted range.
const rows = [
  { text: null, amount: 1.5, count: 1, at: Date.UTC(1970, 0, 1), day: Date.UTC(1970, 0, 1), flag: true },
  { text: 'plain', amount: null, count: -2, at: Date.UTC(2099, 11, 31, 23, 59, 59, 999), day: Date.UTC(2024, 1, 29), flag: false },
  { text: 'Zürich — 東京 🎉', amount: -0.25, count: null, at: 1_733_011_200_123, day: null, flag: null },
  { text: '', amount: 1e300, count: 2_147_483_647, at: null, day: Date.UTC(2099, 11, 31), flag: true },
  { text: 'last', amount: 0, count: 0, at: Date.UTC(2024, 2, 31, 23, 30), day: Date.UTC(2024, 2, 31), flag: null },
];

describe('Parquet files of the lake', () => {
  it('keep every value and every null, read back here and by DuckDB', async () => {
    const batch = new ColumnBatch(columns);
    for (const row of rows) batch.append(row);
    const bytes = batch.toParquet();
    expect(readParquetRows(bytes)).toEqual(rows);
    expect(readParquetColumns(bytes, ['text', 'count'])).toEqual({ text: rows.map((row) => row.text), count: rows.map((row) => row.count) });

    const directory = await temporaryDirectory();
    const engine = await DuckDbEngine.open();
    try {
      const path = join(directory.path, 'file.parquet');
      await writeFile(path, bytes);
      const result = await engine.query(
        `select "text", epoch_ms("at") as at_ms, cast("day" as varchar) as day_text, "count" from read_parquet('${path}')`,
      );
      expect(result.rows).toEqual(
        rows.map((row) => [row.text, row.at, row.day === null ? null : new Date(row.day).toISOString().slice(0, 10), row.count]),
      );
    } finally {
      engine.close();
      await directory.cleanup();
    }
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ColumnBatch, readParquetColumns, readParquetRows } from '../../functions/core/lake/parquet.ts';
import { DuckDbEngine } from '../../functions/adapters/duckdb-engine.ts';
import { temporaryDirectory } from '../support/cli.ts';
import { readFile, writeFile } from 'node:fs/promises';
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
    const names = columns.map((column) => column.name);
    expect(readParquetColumns(bytes, names)).toEqual(Object.fromEntries(names.map((name) => [name, rows.map((row) => row[name])])));

    const directory = await temporaryDirectory();
    const engine = await DuckDbEngine.open();
    try {
      const path = join(directory.path, 'file.parquet');
      await writeFile(path, bytes);
      const result = await engine.query(`select "text", epoch_ms("at") as at_ms, cast("day" as varchar) as day_text, "count" from read_parquet('${path}')`);
      expect(result.rows).toEqual(rows.map((row) => [row.text, row.at, row.day === null ? null : new Date(row.day).toISOString().slice(0, 10), row.count]));

      // And columns DuckDB wrote (the local CLV step's input), nulls kept: 64-bit integers as
      // numbers where they are safe integers, as bigints beyond (each side of the edges, and
      // values whose high and low halves both matter), signed and unsigned, over several of the
      // batches parquet-wasm reads (1,024 rows each; the file has several row groups too).
      const written = join(directory.path, 'duckdb.parquet');
      const big = [
        1n,
        null,
        -1n,
        0n,
        4294967295n,
        4294967296n,
        -4294967296n,
        -4294967297n,
        9007199254740991n,
        9007199254740992n,
        -9007199254740991n,
        -9007199254740992n,
        -9007199254740993n,
        9223372036854775807n,
        -9223372036854775808n,
      ];
      // The same 64 bits read as unsigned (UBIGINT): -1 is 2^64 - 1.
      const unsigned = big.map((value) => (value === null ? null : BigInt.asUintN(64, value)));
      const real = big.map((value, index) => (value === null ? null : index - 0.5));
      const word = big.map((value, index) => (value === null ? null : ['a', 'ü', '東京', '🎉', ''][index % 5]!));
      const values = big.map(
        (value, index) =>
          `(${index}, ${value === null ? 'null' : `cast(${value} as bigint)`}, ${value === null ? 'null' : `cast(${unsigned[index]} as ubigint)`}, cast(${real[index] ?? 'null'} as double), ${word[index] === null ? 'null' : `'${word[index]}'`})`,
      );
      await engine.execute(
        `copy (select big, unsigned, real, word from (values ${values.join(', ')}) as v(position, big, unsigned, real, word), range(1000) as copies(copy) order by copy, position) to '${written}' (format parquet, row_group_size 2048)`,
      );
      const groups = await engine.query(`select count(distinct row_group_id) from parquet_metadata('${written}')`);
      expect(groups.rows[0]![0]).toBeGreaterThan(1);
      const copies = <T>(values: readonly T[]) => Array.from({ length: 1000 }, () => values).flat();
      const asRead = (values: readonly (bigint | null)[]) =>
        values.map((value) => (value !== null && value >= -9007199254740991n && value <= 9007199254740991n ? Number(value) : value));
      expect(readParquetColumns(new Uint8Array(await readFile(written)), ['big', 'unsigned', 'real', 'word'])).toEqual({
        big: copies(asRead(big)),
        unsigned: copies(asRead(unsigned)),
        real: copies(real),
        word: copies(word),
      });
    } finally {
      engine.close();
      await directory.cleanup();
    }
  });

  it('keep any text as written: ASCII, multi-byte, astral, long, empty and null, in any mix', () => {
    // Well-formed UTF-16 (a lone surrogate is written as U+FFFD, as TextEncoder writes it).
    const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme', minLength: 200, maxLength: 2000 }), fc.constant(null));
    fc.assert(
      fc.property(fc.array(text, { maxLength: 300 }), (texts) => {
        const batch = new ColumnBatch([{ name: 'text', kind: 'string', nullable: true }]);
        for (const value of texts) batch.append({ text: value });
        expect(readParquetRows(batch.toParquet()).map((row) => row['text'])).toEqual(texts);
      }),
      { numRuns: 200 },
    );
  });
});

describe('columns of every kind', () => {
  // A row of every column kind, any value or null (one in four).
  const nullable = <T>(value: fc.Arbitrary<T>) => fc.option(value, { nil: null, freq: 4 });
  const row = fc.record({
    text: nullable(fc.string({ unit: 'grapheme' })),
    amount: nullable(fc.double()),
    count: nullable(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
    at: nullable(fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2099, 11, 31) })),
    day: nullable(fc.integer({ min: 0, max: 47_000 }).map((days) => days * 86_400_000)),
    flag: nullable(fc.boolean()),
  });

  it('keep any mix of values and nulls, over many rows, compacted to typed columns at any points on the way', () => {
    fc.assert(
      fc.property(fc.array(row, { maxLength: 700 }), fc.uniqueArray(fc.nat({ max: 700 }), { maxLength: 5 }), (rows, compactions) => {
        const batch = new ColumnBatch(columns);
        rows.forEach((each, index) => {
          if (compactions.includes(index)) batch.compact();
          batch.append(each);
        });
        expect(batch.length).toBe(rows.length);
        expect(readParquetRows(batch.toParquet())).toEqual(rows);
      }),
      { numRuns: 60 },
    );
  });
});

describe('merging the files of a table', () => {
  it('keeps every row and value, and writes nanosecond timestamps as microseconds, which Athena reads', async () => {
    const arrowModule = await import('apache-arrow');
    const { Table: WasmTable, writeParquet } = await import('parquet-wasm');
    const { mergeParquetFiles } = await import('../../functions/core/lake/parquet.ts');
    // Arrow's builder takes epoch milliseconds and stores them as nanoseconds.
    const fileOf = (ids: string[], millis: (number | null)[]) => {
      const type = new arrowModule.Timestamp(arrowModule.TimeUnit.NANOSECOND);
      const table = new arrowModule.Table({
        customer_id: arrowModule.vectorFromArray(ids, new arrowModule.Utf8()),
        last_purchase_at: arrowModule.vectorFromArray(millis, type),
      });
      return writeParquet(WasmTable.fromIPCStream(arrowModule.tableToIPC(table, 'stream')));
    };
    const at = (iso: string) => Date.parse(iso);
    const merged = mergeParquetFiles([fileOf(['c1', 'c2'], [at('2024-03-31T23:30:00.123Z'), null]), fileOf(['c3'], [at('1999-12-31T00:00:00Z')])]);
    const { path, cleanup } = await temporaryDirectory();
    const engine = await DuckDbEngine.open();
    try {
      const file = join(path, 'merged.parquet');
      await writeFile(file, merged);
      const rows = await engine.query(`select customer_id, cast(last_purchase_at as varchar) from read_parquet('${file}') order by 1`);
      expect(rows.rows).toEqual([
        ['c1', '2024-03-31 23:30:00.123'],
        ['c2', null],
        ['c3', '1999-12-31 00:00:00'],
      ]);
      const schema = await engine.query(`select name, logical_type from parquet_schema('${file}') where name = 'last_purchase_at'`);
      expect(String(schema.rows[0]![1])).toMatch(/MICROS/);
    } finally {
      engine.close();
      await cleanup();
    }
  });
});

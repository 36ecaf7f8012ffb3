import * as arrow from 'apache-arrow';
import { Compression, ParquetFile, readParquet, Table as WasmTable, writeParquet, WriterPropertiesBuilder } from 'parquet-wasm';
import { columnBuilder } from './column-builders.ts';
import type { ColumnBuilder, ColumnKind } from './column-builders.ts';

export type { ColumnKind };

export interface ColumnSpec {
  readonly name: string;
  readonly kind: ColumnKind;
  readonly nullable: boolean;
}

/**
 * Room the typed columns of a batch begin with when rows come as slots, unless told how many
 * rows to expect: they double as they fill, each time a copy into fresh memory. Room never
 * used costs no memory (untouched pages are not given one), so the text is sized generously.
 */
const SLOT_ROWS_CAPACITY = 16_384;
const SLOT_TEXT_BYTES_PER_ROW = 32;

type RowAppender = (values: unknown[][], row: Record<string, unknown>, extra: Record<string, unknown> | undefined) => void;
const appenders = new Map<string, RowAppender>();

/**
 * A function that pushes one row's value of each column, written out for these column names:
 * property reads by constant names stay fast, where a loop reading row[name] for every name
 * was measured at twice the time (it runs once per ingested event). The names are the lake's
 * own column names, never input.
 */
function rowAppender(names: readonly string[]): RowAppender {
  const key = JSON.stringify(names);
  let appender = appenders.get(key);
  if (!appender) {
    const body = names
      .map((name, index) => {
        const quoted = JSON.stringify(name);
        return `values[${index}].push((extra !== undefined && ${quoted} in extra ? extra[${quoted}] : row[${quoted}]) ?? null);`;
      })
      .join('\n');
    appender = new Function('values', 'row', 'extra', body) as RowAppender;
    appenders.set(key, appender);
  }
  return appender;
}

/** Where a slot's value is: none (null), a span of one of two byte arrays, or a number. */
export const SlotKind = { null: 0, line: 1, arena: 2, number: 3 } as const;

/**
 * Rows given as slots rather than objects (the fast path of a parallel ingest, plain-lines.ts):
 * per row, one slot for each of the first `slots` columns, in column order, at row * slots +
 * column. A span's bytes are text as UTF-8.
 */
export interface SlotRows {
  readonly slots: number;
  readonly kinds: Uint8Array;
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  readonly numbers: Float64Array;
  sourceOf(index: number): Uint8Array;
}

/**
 * Rows collected column by column, then written as one ZSTD Parquet file. Timestamps are given
 * as epoch milliseconds. Rows appended as objects go to plain arrays (the cheapest thing to do
 * per row) and are converted to typed columns (column-builders.ts) when the batch is encoded, or
 * earlier by compact(), so that a batch holding many rows does not hold them as JavaScript
 * values; rows given as slots (appendSlots) go straight to the typed columns.
 */
export class ColumnBatch {
  private pending: unknown[][];
  private builders: readonly ColumnBuilder[] | undefined;
  private readonly appendRow: RowAppender;
  length = 0;

  constructor(
    readonly columns: readonly ColumnSpec[],
    /** Rows the batch is expected to hold (when they come as slots). */
    private readonly expectedRows = SLOT_ROWS_CAPACITY,
  ) {
    this.pending = columns.map(() => []);
    this.appendRow = rowAppender(columns.map((column) => column.name));
  }

  /** Appends a row: each column's value from `extra` when it has that key, else from `row`; null when missing. */
  append(row: Record<string, unknown>, extra?: Record<string, unknown>): void {
    this.appendRow(this.pending, row, extra);
    this.length += 1;
  }

  /**
   * Appends a row given as slots: its first columns from `rows`, the others from `extra` (null
   * when it has no such key). Goes straight to the typed columns, after the rows appended as
   * objects so far, which keeps the rows in the order appended.
   */
  appendSlots(rows: SlotRows, row: number, extra: Record<string, unknown>): void {
    if (this.pending[0]!.length > 0) this.compact();
    const builders = (this.builders ??= this.columns.map((column) => columnBuilder(column.kind, this.expectedRows, SLOT_TEXT_BYTES_PER_ROW)));
    const base = row * rows.slots;
    for (let column = 0; column < builders.length; column += 1) {
      const builder = builders[column]!;
      if (column >= rows.slots) {
        builder.add(extra[this.columns[column]!.name] ?? null);
        continue;
      }
      const index = base + column;
      const kind = rows.kinds[index];
      if (kind === SlotKind.number) builder.add(rows.numbers[index]);
      else if (kind === SlotKind.null) builder.add(null);
      else builder.addBytes(rows.sourceOf(index), rows.starts[index]!, rows.ends[index]!);
    }
    this.length += 1;
  }

  /**
   * Empties the batch for more rows, keeping its typed columns' arrays: a worker writing a file
   * every 125,000 rows otherwise grew a new set from nothing each time, in fresh memory
   * (bench/HISTORY.md). Only once the last table or file made from it is no longer needed.
   */
  clear(): void {
    this.pending = this.columns.map(() => []);
    for (const builder of this.builders ?? []) builder.reset();
    this.length = 0;
  }

  /** Converts the rows appended since the last call to typed columns. */
  compact(): void {
    const rows = this.pending[0]?.length ?? 0;
    if (rows === 0) return;
    const builders = (this.builders ??= this.columns.map((column) => columnBuilder(column.kind, Math.max(rows, this.expectedRows))));
    builders.forEach((builder, index) => {
      builder.addAll(this.pending[index]!);
    });
    this.pending = this.columns.map(() => []);
  }

  /** The rows as an Arrow table (over the batch's own arrays: use it before appending more). */
  arrowTable(): arrow.Table {
    return this.tableOf(this.columnData());
  }

  /** Encodes the rows as one Parquet file's bytes (a row group per 1,048,576 rows, the writer's default). */
  toParquet(): Uint8Array {
    return writeParquet(WasmTable.fromIPCStream(arrow.tableToIPC(this.arrowTable(), 'stream')), parquetWriterProperties());
  }

  private columnData(): arrow.Data[] {
    this.compact();
    return this.columns.map((column, index) => this.builders?.[index]?.finish() ?? columnBuilder(column.kind, 0).finish());
  }

  private tableOf(data: readonly arrow.Data[]): arrow.Table {
    const vectors: Record<string, arrow.Vector> = {};
    this.columns.forEach((column, index) => {
      vectors[column.name] = arrow.makeVector(data[index]!);
    });
    return new arrow.Table(vectors);
  }
}

/** How the lake's own Parquet files are written: ZSTD, no dictionary pages. */
export function parquetWriterProperties() {
  return (
    new WriterPropertiesBuilder()
      .setCompression(Compression.ZSTD)
      // Measured on order events: ZSTD alone makes files half the size of dictionary pages plus
      // ZSTD (100,000 rows: 7.4 MB against 15.5 MB) and writes them 35 % faster.
      .setDictionaryEnabled(false)
      .setCreatedBy('customer-marketing-pipeline')
      .build()
  );
}

/** The rows a Parquet file holds, from its footer: no row is decoded. */
export async function parquetRowCount(bytes: Uint8Array): Promise<number> {
  const file = await ParquetFile.fromFile(new Blob([bytes]));
  try {
    return file.metadata().fileMetadata().numRows();
  } finally {
    file.free();
  }
}

/**
 * Reads a Parquet file (ours, or one Athena's UNLOAD wrote) into plain row objects. 64-bit
 * integers become numbers (counts and days fit), timestamps epoch milliseconds.
 */
export function readParquetRows(bytes: Uint8Array): Record<string, unknown>[] {
  const table = arrow.tableFromIPC(readParquet(bytes).intoIPCStream());
  const rows: Record<string, unknown>[] = [];
  for (const row of table) {
    const plain: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(row.toJSON())) plain[key] = typeof value === 'bigint' ? Number(value) : value;
    rows.push(plain);
  }
  return rows;
}

/**
 * Reads the named columns of a Parquet file as one array each (nulls kept; a 64-bit integer as
 * a number when it is a safe integer, as a bigint otherwise): the CLV step's input, without an
 * object per row.
 */
export function readParquetColumns(bytes: Uint8Array, names: readonly string[]): Record<string, unknown[]> {
  const table = arrow.tableFromIPC(readParquet(bytes).intoIPCStream());
  const columns: Record<string, unknown[]> = {};
  for (const name of names) {
    const vector = table.getChild(name);
    if (!vector) throw new Error(`Parquet file has no column ${name}`);
    columns[name] = valuesOf(vector);
  }
  return columns;
}

/**
 * A column's values (null where one is missing), read straight from the buffers of its chunks
 * for the types the CLV step reads: 64-bit integers from their two 32-bit halves, without a
 * bigint per value; text decoded from its bytes. A million customers' id and four numeric
 * columns took 0.74-1.05 s this way, against 2.07-2.85 s through Arrow's typed arrays and iterator
 * (bench/HISTORY.md). Other types as Arrow's iterator gives them.
 */
function valuesOf(vector: arrow.Vector): unknown[] {
  const type = vector.type;
  const read =
    arrow.DataType.isInt(type) && type.bitWidth === 64
      ? int64Values
      : arrow.DataType.isInt(type) || (arrow.DataType.isFloat(type) && type.precision !== arrow.Precision.HALF)
        ? numberValues
        : arrow.DataType.isUtf8(type)
          ? textValues
          : undefined;
  if (!read) return [...vector];
  const values: unknown[] = new Array(vector.length);
  let start = 0;
  for (const chunk of vector.data) {
    read(chunk, values, start);
    if (chunk.nullCount > 0) {
      for (let index = 0; index < chunk.length; index += 1) {
        const bit = chunk.offset + index;
        if ((chunk.nullBitmap![bit >> 3]! & (1 << (bit & 7))) === 0) values[start + index] = null;
      }
    }
    start += chunk.length;
  }
  return values;
}

/**
 * Copies a chunk's values into `into` from `start`. A chunk's fixed-width values and its text
 * offsets begin at its first value (Arrow slices them; the text's bytes are whole, reached
 * through the offsets); only its null bitmap counts from `chunk.offset`.
 */
type ChunkReader = (chunk: arrow.Data, into: unknown[], start: number) => void;

const TWO_TO_THE_32 = 2 ** 32;

const int64Values: ChunkReader = (chunk, into, start) => {
  const values = chunk.values as BigInt64Array | BigUint64Array;
  // Little-endian halves: the low word unsigned, the high one signed or not as the type is.
  const words = new Int32Array(values.buffer, values.byteOffset, chunk.length * 2);
  const signed = (chunk.type as arrow.Int).isSigned;
  for (let index = 0; index < chunk.length; index += 1) {
    const high = signed ? words[2 * index + 1]! : words[2 * index + 1]! >>> 0;
    const value = high * TWO_TO_THE_32 + (words[2 * index]! >>> 0);
    // Beyond 2^53 the sum may round; such a value is never a safe integer, so it comes exact as a bigint.
    into[start + index] = Number.isSafeInteger(value) ? value : values[index];
  }
};

const numberValues: ChunkReader = (chunk, into, start) => {
  const values = chunk.values as ArrayLike<number>;
  for (let index = 0; index < chunk.length; index += 1) into[start + index] = values[index];
};

const textValues: ChunkReader = (chunk, into, start) => {
  const offsets = chunk.valueOffsets as Int32Array;
  const bytes = chunk.values as Uint8Array;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let index = 0; index < chunk.length; index += 1) {
    into[start + index] = text.toString('utf8', offsets[index], offsets[index + 1]);
  }
};

/**
 * Parquet files of one schema (the parts Athena's UNLOAD wrote for a table) as one file. Values
 * pass through Arrow unchanged, except nanosecond timestamps (how Arrow reads Hive-style INT96
 * ones), which are written as microseconds: Athena reads INT64 micros, not nanos.
 */
export function mergeParquetFiles(files: readonly Uint8Array[]): Uint8Array {
  const tables = files.map((bytes) => arrow.tableFromIPC(readParquet(bytes).intoIPCStream()));
  const [first, ...rest] = tables;
  if (!first) throw new Error('mergeParquetFiles needs at least one file');
  const merged = first.concat(...rest);
  const columns: Record<string, arrow.Vector> = {};
  for (const field of merged.schema.fields) {
    const column = merged.getChild(field.name)!;
    columns[field.name] = isNanosecondTimestamp(field.type) ? toMicroseconds(column) : column;
  }
  const properties = new WriterPropertiesBuilder().setCompression(Compression.ZSTD).setCreatedBy('customer-marketing-pipeline').build();
  return writeParquet(WasmTable.fromIPCStream(arrow.tableToIPC(new arrow.Table(columns), 'stream')), properties);
}

const isNanosecondTimestamp = (type: arrow.DataType): type is arrow.Timestamp => arrow.DataType.isTimestamp(type) && type.unit === arrow.TimeUnit.NANOSECOND;

function toMicroseconds(column: arrow.Vector): arrow.Vector {
  const type = new arrow.Timestamp(arrow.TimeUnit.MICROSECOND, (column.type as arrow.Timestamp).timezone);
  const chunks = column.data.map((chunk) => {
    const nanos = chunk.values as unknown as BigInt64Array;
    const micros = new BigInt64Array(chunk.length);
    for (let index = 0; index < chunk.length; index += 1) micros[index] = nanos[index]! / 1000n;
    return arrow.makeData({ type, length: chunk.length, nullCount: chunk.nullCount, nullBitmap: chunk.nullBitmap, data: micros });
  });
  return arrow.makeVector(chunks);
}

import * as arrow from 'apache-arrow';
import { readParquet, Table as WasmTable, writeParquet } from 'parquet-wasm';
import { parquetWriterProperties } from './parquet.ts';

/** What to change in a Parquet file: rows to drop, and text cells to set to null. */
export interface RowEdits {
  /** Per row, true to drop it. */
  readonly drop: readonly boolean[];
  /** Per text column, per row: true to set the cell to null. */
  readonly clear: ReadonlyMap<string, readonly boolean[]>;
}

/** A Parquet file's text columns (by name: their values, nulls kept), read without the others. */
export function readTextColumns(bytes: Uint8Array, names?: readonly string[]): Map<string, (string | null)[]> {
  const table = arrow.tableFromIPC(readParquet(bytes, names ? { columns: [...names] } : undefined).intoIPCStream());
  const columns = new Map<string, (string | null)[]>();
  for (const field of table.schema.fields) {
    if (!arrow.DataType.isUtf8(field.type) && !arrow.DataType.isLargeUtf8(field.type)) continue;
    columns.set(field.name, [...table.getChild(field.name)!] as (string | null)[]);
  }
  return columns;
}

/**
 * The file with some rows dropped and some text cells cleared; every other value, and every
 * column's type, as it was (decimals, dates and timestamps pass through Arrow untouched). Null
 * when no row is left.
 */
export function editParquetRows(bytes: Uint8Array, edits: RowEdits): Uint8Array | null {
  let table = arrow.tableFromIPC(readParquet(bytes).intoIPCStream());
  for (const [name, clear] of edits.clear) {
    const values = [...table.getChild(name)!].map((value, row) => (clear[row] ? null : value)) as (string | null)[];
    // Of the column's own type (Utf8 or LargeUtf8).
    table = table.setChild(name, arrow.vectorFromArray(values, table.schema.fields.find((field) => field.name === name)!.type));
  }
  // The kept rows as runs of consecutive rows: slices keep every column's type.
  const runs: arrow.Table[] = [];
  let start = -1;
  for (let row = 0; row <= table.numRows; row += 1) {
    const kept = row < table.numRows && !edits.drop[row];
    if (kept && start < 0) start = row;
    if (!kept && start >= 0) {
      runs.push(table.slice(start, row));
      start = -1;
    }
  }
  if (runs.length === 0) return null;
  const [first, ...rest] = runs;
  const kept = rest.length > 0 ? first!.concat(...rest) : first!;
  return writeParquet(WasmTable.fromIPCStream(arrow.tableToIPC(kept, 'stream')), parquetWriterProperties());
}

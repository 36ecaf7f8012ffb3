import * as arrow from 'apache-arrow';
import { Compression, readParquet, Table as WasmTable, writeParquet, WriterPropertiesBuilder } from 'parquet-wasm';

/** Column types used by the raw event tables. */
export type ColumnKind = 'string' | 'float64' | 'int32' | 'timestamp' | 'boolean' | 'date';

export interface ColumnSpec {
  readonly name: string;
  readonly kind: ColumnKind;
  readonly nullable: boolean;
}

function arrowType(kind: ColumnKind): arrow.DataType {
  switch (kind) {
    case 'string':
      return new arrow.Utf8();
    case 'float64':
      return new arrow.Float64();
    case 'int32':
      return new arrow.Int32();
    case 'timestamp':
      // UTC-adjusted microseconds: DuckDB reads TIMESTAMP WITH TIME ZONE, Athena a timestamp.
      return new arrow.TimestampMicrosecond('UTC');
    case 'boolean':
      return new arrow.Bool();
    case 'date':
      // Values are epoch milliseconds of the day's midnight UTC.
      return new arrow.DateDay();
  }
}

/**
 * Rows collected column by column, then written as one ZSTD Parquet file. Timestamps are held
 * as epoch milliseconds.
 */
export class ColumnBatch {
  private readonly values: unknown[][];
  length = 0;

  constructor(readonly columns: readonly ColumnSpec[]) {
    this.values = columns.map(() => []);
  }

  append(row: Record<string, unknown>): void {
    this.columns.forEach((column, index) => {
      this.values[index]!.push(row[column.name] ?? null);
    });
    this.length += 1;
  }

  /** Encodes the rows as Parquet bytes. */
  toParquet(): Uint8Array {
    const vectors: Record<string, arrow.Vector> = {};
    this.columns.forEach((column, index) => {
      const builder = arrow.makeBuilder({ type: arrowType(column.kind), nullValues: [null] });
      for (const value of this.values[index]!) builder.append(value);
      vectors[column.name] = builder.finish().toVector();
    });
    const table = new arrow.Table(vectors);
    const properties = new WriterPropertiesBuilder()
      .setCompression(Compression.ZSTD)
      .setCreatedBy('customer-marketing-pipeline')
      .build();
    return writeParquet(WasmTable.fromIPCStream(arrow.tableToIPC(table, 'stream')), properties);
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

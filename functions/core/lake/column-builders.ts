import * as arrow from 'apache-arrow';

/*
 * Column builders for the lake's Parquet files: each value is converted as it is appended,
 * straight into growable typed arrays (UTF-8 bytes and offsets for text), and a batch becomes
 * Arrow data without another pass. A batch holds no JavaScript value per row: an ingest
 * buffering a million rows kept ten million strings and boxed numbers alive before, which the
 * collector walked again and again.
 */

/** Column types used by the raw event tables. */
export type ColumnKind = 'string' | 'float64' | 'int32' | 'timestamp' | 'boolean' | 'date';

const encoder = new TextEncoder();
const DAY_MS = 86_400_000;
const INITIAL_ROWS = 64;

type Growable = Uint8Array | Int32Array | Float64Array;

/** The array itself when it holds `needed` elements, else a copy at least twice its size. */
function grown<T extends Growable>(array: T, needed: number): T {
  if (needed <= array.length) return array;
  const larger = new (array.constructor as new (length: number) => T)(Math.max(needed, array.length * 2));
  larger.set(array);
  return larger;
}

/** One column of a batch: values appended one by one, then the column as Arrow data. */
export abstract class ColumnBuilder {
  length = 0;
  private nulls = 0;
  private validity = new Uint8Array(INITIAL_ROWS / 8);

  /** Appends a value (null or undefined: a null). */
  abstract add(value: unknown): void;

  /** The column so far as Arrow data; views of the builder's arrays, to be used before more is appended. */
  abstract finish(): arrow.Data;

  /** Counts the next row, valid unless the value is null or undefined; true when valid. */
  protected next(value: unknown): boolean {
    const index = this.length++;
    if ((index & 7) === 0) this.validity = grown(this.validity, (index >> 3) + 1);
    if (value === null || value === undefined) {
      this.nulls += 1;
      return false;
    }
    this.validity[index >> 3]! |= 1 << (index & 7);
    return true;
  }

  /** Length, null count and the validity bitmap (none when nothing is null). */
  protected nullability(): { length: number; nullCount: number; nullBitmap?: Uint8Array } {
    const base = { length: this.length, nullCount: this.nulls };
    return this.nulls === 0 ? base : { ...base, nullBitmap: this.validity.subarray(0, Math.ceil(this.length / 8)) };
  }
}

/**
 * Text as UTF-8: ASCII (ids, codes, dates: nearly every value) copied code by code, anything
 * else encoded into place. Other values are written as String(value).
 */
class StringColumn extends ColumnBuilder {
  private offsets = new Int32Array(INITIAL_ROWS + 1);
  private bytes = new Uint8Array(INITIAL_ROWS * 16);
  private end = 0;

  add(value: unknown): void {
    if (this.length + 1 >= this.offsets.length) this.offsets = grown(this.offsets, this.length + 2);
    if (this.next(value)) {
      const text = typeof value === 'string' ? value : String(value);
      // A UTF-16 code unit takes at most 3 bytes of UTF-8.
      this.bytes = grown(this.bytes, this.end + text.length * 3);
      const bytes = this.bytes;
      const start = this.end;
      let position = 0;
      for (; position < text.length; position += 1) {
        const code = text.charCodeAt(position);
        if (code > 0x7f) break;
        bytes[start + position] = code;
      }
      this.end += position === text.length ? position : encoder.encodeInto(text, bytes.subarray(start)).written;
    }
    this.offsets[this.length] = this.end;
  }

  finish(): arrow.Data {
    return arrow.makeData({
      type: new arrow.Utf8(),
      valueOffsets: this.offsets.subarray(0, this.length + 1),
      data: this.bytes.subarray(0, this.end),
      ...this.nullability(),
    });
  }
}

/** Numbers as doubles; a null, or a value that is not a number, is held as 0. */
class Float64Column extends ColumnBuilder {
  protected values = new Float64Array(INITIAL_ROWS);

  add(value: unknown): void {
    const index = this.length;
    if (index === this.values.length) this.values = grown(this.values, index + 1);
    this.next(value);
    this.values[index] = typeof value === 'number' ? value : 0;
  }

  finish(): arrow.Data {
    return arrow.makeData({ type: new arrow.Float64(), data: this.values.subarray(0, this.length), ...this.nullability() });
  }
}

/**
 * Instants given as epoch milliseconds, written as microseconds in 64-bit integers (two 32-bit
 * halves: a BigInt per value was measured as the slowest part of building a file). Epoch
 * microseconds up to 2100 are below 2^53, so the arithmetic is exact.
 */
class TimestampColumn extends Float64Column {
  override finish(): arrow.Data {
    const words = new Uint32Array(this.length * 2);
    for (let index = 0; index < this.length; index += 1) {
      const micros = Math.round(this.values[index]!) * 1000;
      const high = Math.floor(micros / 4294967296);
      words[2 * index] = micros - high * 4294967296;
      words[2 * index + 1] = high;
    }
    return arrow.makeData({ type: new arrow.TimestampMicrosecond('UTC'), data: new BigInt64Array(words.buffer), ...this.nullability() });
  }
}

/** Integers as given (truncated), or epoch milliseconds as whole days; 0 for anything else. */
class Int32Column extends ColumnBuilder {
  private values = new Int32Array(INITIAL_ROWS);

  constructor(private readonly unit: 1 | typeof DAY_MS) {
    super();
  }

  add(value: unknown): void {
    const index = this.length;
    if (index === this.values.length) this.values = grown(this.values, index + 1);
    this.next(value);
    this.values[index] = typeof value !== 'number' ? 0 : this.unit === 1 ? Math.trunc(value) : Math.floor(value / DAY_MS);
  }

  finish(): arrow.Data {
    const data = this.values.subarray(0, this.length);
    return this.unit === 1
      ? arrow.makeData({ type: new arrow.Int32(), data, ...this.nullability() })
      : arrow.makeData({ type: new arrow.DateDay(), data, ...this.nullability() });
  }
}

/** true is true; anything else (a null aside) is false. */
class BooleanColumn extends ColumnBuilder {
  private bits = new Uint8Array(INITIAL_ROWS / 8);

  add(value: unknown): void {
    const index = this.length;
    if ((index & 7) === 0) this.bits = grown(this.bits, (index >> 3) + 1);
    this.next(value);
    if (value === true) this.bits[index >> 3]! |= 1 << (index & 7);
  }

  finish(): arrow.Data {
    return arrow.makeData({ type: new arrow.Bool(), data: this.bits.subarray(0, Math.ceil(this.length / 8)), ...this.nullability() });
  }
}

export function columnBuilder(kind: ColumnKind): ColumnBuilder {
  switch (kind) {
    case 'string':
      return new StringColumn();
    case 'float64':
      return new Float64Column();
    case 'timestamp':
      return new TimestampColumn();
    case 'int32':
      return new Int32Column(1);
    case 'date':
      return new Int32Column(DAY_MS);
    case 'boolean':
      return new BooleanColumn();
  }
}

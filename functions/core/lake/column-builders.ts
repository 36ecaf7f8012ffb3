import * as arrow from 'apache-arrow';

/*
 * Column builders for the lake's Parquet files: values converted, a batch of them at a time,
 * into growable typed arrays (UTF-8 bytes and offsets for text), which become Arrow data
 * without another pass. What they hold is no JavaScript value per row: an ingest buffering a
 * million rows kept sixteen million strings and boxed numbers alive, and measured several times
 * slower per row at that size (bench/HISTORY.md), which points at the collector.
 */

/** Column types used by the raw event tables. */
export type ColumnKind = 'string' | 'float64' | 'int32' | 'timestamp' | 'boolean' | 'date';

const encoder = new TextEncoder();
const DAY_MS = 86_400_000;

/** A copy of `array` with room for at least `needed` elements (twice its size or more). */
export function larger<T extends Uint8Array | Int32Array | Float64Array>(array: T, needed: number): T {
  const copy = new (array.constructor as new (length: number) => T)(Math.max(needed, array.length * 2));
  copy.set(array);
  return copy;
}

/**
 * The validity bitmap of a column. Its own class, held by each builder rather than a base class
 * of the builders, so that its code sees one object shape (a base class's code would see the
 * shape of every builder class).
 */
class Validity {
  length = 0;
  nulls = 0;
  private bits: Uint8Array;

  constructor(capacity: number) {
    this.bits = new Uint8Array(Math.ceil(capacity / 8) || 1);
  }

  reset(): void {
    this.bits.fill(0, 0, Math.ceil(this.length / 8));
    this.length = 0;
    this.nulls = 0;
  }

  /** Counts the next row, valid unless the value is null or undefined; true when valid. */
  add(value: unknown): boolean {
    const index = this.length++;
    if (index >> 3 === this.bits.length) this.bits = larger(this.bits, (index >> 3) + 1);
    if (value === null || value === undefined) {
      this.nulls += 1;
      return false;
    }
    this.bits[index >> 3]! |= 1 << (index & 7);
    return true;
  }

  /** Length, null count and the bitmap (none when nothing is null), for arrow.makeData. */
  arrow(): { length: number; nullCount: number; nullBitmap?: Uint8Array } {
    const base = { length: this.length, nullCount: this.nulls };
    return this.nulls === 0 ? base : { ...base, nullBitmap: this.bits.subarray(0, Math.ceil(this.length / 8)) };
  }
}

/** One column of a batch: values appended a batch at a time, then the column as Arrow data. */
export interface ColumnBuilder {
  /** Appends values (null or undefined: a null). */
  addAll(values: readonly unknown[]): void;
  /** Appends one value. */
  add(value: unknown): void;
  /** Appends text given as its UTF-8 bytes (a string column); anything else takes it as a null. */
  addBytes(source: Uint8Array, start: number, end: number): void;
  /** The column so far as Arrow data; views of the builder's arrays, to be used before more is appended. */
  finish(): arrow.Data;
  /** Empties the column but keeps its arrays, for the next rows (once its Arrow data is no longer used). */
  reset(): void;
}

/**
 * Text as UTF-8: ASCII (ids, codes, dates: nearly every value) copied code by code, anything
 * else encoded into place. Other values are written as String(value).
 */
class StringColumn implements ColumnBuilder {
  private readonly validity: Validity;
  private offsets: Int32Array;
  private bytes: Uint8Array;
  private end = 0;

  /** textBytes: room for text to begin with (addAll sizes it from the text it is given). */
  constructor(capacity: number, textBytes: number) {
    this.validity = new Validity(capacity);
    this.offsets = new Int32Array(capacity + 1);
    this.bytes = new Uint8Array(textBytes);
  }

  addAll(values: readonly unknown[]): void {
    const rows = this.validity.length + values.length;
    if (rows + 1 > this.offsets.length) this.offsets = larger(this.offsets, rows + 1);
    // Room for all of them if they are ASCII, as nearly all are (add makes more as needed).
    let characters = 0;
    for (const value of values) if (typeof value === 'string') characters += value.length;
    if (this.end + characters > this.bytes.length) this.bytes = larger(this.bytes, this.end + characters);
    for (const value of values) this.add(value);
  }

  addBytes(source: Uint8Array, start: number, end: number): void {
    const row = this.validity.length;
    if (row + 2 > this.offsets.length) this.offsets = larger(this.offsets, row + 2);
    if (this.end + (end - start) > this.bytes.length) this.bytes = larger(this.bytes, this.end + (end - start));
    const bytes = this.bytes;
    // Ids and codes are short: a loop costs less than a subarray per value.
    if (end - start < 64) {
      let at = this.end;
      for (let index = start; index < end; index += 1) bytes[at++] = source[index]!;
    } else bytes.set(source.subarray(start, end), this.end);
    this.end += end - start;
    this.validity.add(true);
    if (this.end > 0x7fffffff) throw new RangeError('a string column holds more than 2 GiB of text');
    this.offsets[row + 1] = this.end;
  }

  add(value: unknown): void {
    const row = this.validity.length;
    if (row + 2 > this.offsets.length) this.offsets = larger(this.offsets, row + 2);
    // The text first: a value whose String() throws leaves the column as it was.
    const text = value === null || value === undefined ? '' : typeof value === 'string' ? value : String(value);
    if (this.validity.add(value)) {
      if (this.end + text.length > this.bytes.length) this.bytes = larger(this.bytes, this.end + text.length);
      const bytes = this.bytes;
      const start = this.end;
      let position = 0;
      for (; position < text.length; position += 1) {
        const code = text.charCodeAt(position);
        if (code > 0x7f) break;
        bytes[start + position] = code;
      }
      if (position === text.length) this.end += position;
      else {
        // Not ASCII: a UTF-16 code unit takes at most 3 bytes of UTF-8.
        if (start + text.length * 3 > this.bytes.length) this.bytes = larger(this.bytes, start + text.length * 3);
        this.end += encoder.encodeInto(text, this.bytes.subarray(start)).written;
      }
    }
    // Arrow's offsets are 32-bit: a column of more text than that must fail, not wrap.
    if (this.end > 0x7fffffff) throw new RangeError('a string column holds more than 2 GiB of text');
    this.offsets[row + 1] = this.end;
  }

  reset(): void {
    this.validity.reset();
    this.end = 0;
  }

  finish(): arrow.Data {
    return arrow.makeData({
      type: new arrow.Utf8(),
      valueOffsets: this.offsets.subarray(0, this.validity.length + 1),
      data: this.bytes.subarray(0, this.end),
      ...this.validity.arrow(),
    });
  }
}

/**
 * Numbers as doubles; a null, or a value that is not a number, is held as 0. As timestamps:
 * instants given as epoch milliseconds, written as microseconds in 64-bit integers (two 32-bit
 * halves: a BigInt per value was measured as the slowest part of building a file). Epoch
 * microseconds up to 2100 are below 2^53, so the arithmetic is exact.
 */
class DoubleColumn implements ColumnBuilder {
  private readonly validity: Validity;
  private values: Float64Array;

  constructor(
    capacity: number,
    private readonly asTimestamps: boolean,
  ) {
    this.validity = new Validity(capacity);
    this.values = new Float64Array(capacity);
  }

  addAll(values: readonly unknown[]): void {
    const rows = this.validity.length + values.length;
    if (rows > this.values.length) this.values = larger(this.values, rows);
    for (const value of values) {
      this.values[this.validity.length] = typeof value === 'number' ? value : 0;
      this.validity.add(value);
    }
  }

  add(value: unknown): void {
    if (this.validity.length === this.values.length) this.values = larger(this.values, this.validity.length + 1);
    this.values[this.validity.length] = typeof value === 'number' ? value : 0;
    this.validity.add(value);
  }

  addBytes(): void {
    this.add(null);
  }

  reset(): void {
    this.validity.reset();
  }

  finish(): arrow.Data {
    const length = this.validity.length;
    if (!this.asTimestamps) return arrow.makeData({ type: new arrow.Float64(), data: this.values.subarray(0, length), ...this.validity.arrow() });
    const words = new Uint32Array(length * 2);
    for (let index = 0; index < length; index += 1) {
      const micros = Math.round(this.values[index]!) * 1000;
      const high = Math.floor(micros / 4294967296);
      words[2 * index] = micros - high * 4294967296;
      words[2 * index + 1] = high;
    }
    return arrow.makeData({ type: new arrow.TimestampMicrosecond('UTC'), data: new BigInt64Array(words.buffer), ...this.validity.arrow() });
  }
}

/** Integers as given (truncated), or epoch milliseconds as whole days; 0 for anything else. */
class Int32Column implements ColumnBuilder {
  private readonly validity: Validity;
  private values: Int32Array;

  constructor(
    capacity: number,
    private readonly unit: 1 | typeof DAY_MS,
  ) {
    this.validity = new Validity(capacity);
    this.values = new Int32Array(capacity);
  }

  addAll(values: readonly unknown[]): void {
    const rows = this.validity.length + values.length;
    if (rows > this.values.length) this.values = larger(this.values, rows);
    for (const value of values) {
      this.values[this.validity.length] = typeof value !== 'number' ? 0 : this.unit === 1 ? Math.trunc(value) : Math.floor(value / DAY_MS);
      this.validity.add(value);
    }
  }

  add(value: unknown): void {
    if (this.validity.length === this.values.length) this.values = larger(this.values, this.validity.length + 1);
    this.values[this.validity.length] = typeof value !== 'number' ? 0 : this.unit === 1 ? Math.trunc(value) : Math.floor(value / DAY_MS);
    this.validity.add(value);
  }

  addBytes(): void {
    this.add(null);
  }

  reset(): void {
    this.validity.reset();
  }

  finish(): arrow.Data {
    const data = this.values.subarray(0, this.validity.length);
    return this.unit === 1
      ? arrow.makeData({ type: new arrow.Int32(), data, ...this.validity.arrow() })
      : arrow.makeData({ type: new arrow.DateDay(), data, ...this.validity.arrow() });
  }
}

/** true is true; anything else (a null aside) is false. */
class BooleanColumn implements ColumnBuilder {
  private readonly validity: Validity;
  private bits: Uint8Array;

  constructor(capacity: number) {
    this.validity = new Validity(capacity);
    this.bits = new Uint8Array(Math.ceil(capacity / 8) || 1);
  }

  addAll(values: readonly unknown[]): void {
    const bytes = Math.ceil((this.validity.length + values.length) / 8);
    if (bytes > this.bits.length) this.bits = larger(this.bits, bytes);
    for (const value of values) {
      const index = this.validity.length;
      if (value === true) this.bits[index >> 3]! |= 1 << (index & 7);
      this.validity.add(value);
    }
  }

  add(value: unknown): void {
    this.addAll([value]);
  }

  addBytes(): void {
    this.add(null);
  }

  reset(): void {
    this.bits.fill(0, 0, Math.ceil(this.validity.length / 8));
    this.validity.reset();
  }

  finish(): arrow.Data {
    const length = this.validity.length;
    return arrow.makeData({ type: new arrow.Bool(), data: this.bits.subarray(0, Math.ceil(length / 8)), ...this.validity.arrow() });
  }
}

/** A builder for a column of this kind, with room for `capacity` rows (and as many bytes of text per row) to begin with. */
export function columnBuilder(kind: ColumnKind, capacity: number, textBytesPerRow = 0): ColumnBuilder {
  switch (kind) {
    case 'string':
      return new StringColumn(capacity, capacity * textBytesPerRow);
    case 'float64':
      return new DoubleColumn(capacity, false);
    case 'timestamp':
      return new DoubleColumn(capacity, true);
    case 'int32':
      return new Int32Column(capacity, 1);
    case 'date':
      return new Int32Column(capacity, DAY_MS);
    case 'boolean':
      return new BooleanColumn(capacity);
  }
}

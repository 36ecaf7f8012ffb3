import { Buffer } from 'node:buffer';
import { isCurrencyCode, KNOWN_FIELDS, MAX_AMOUNT, MAX_ID_LENGTH, ORDER_STATUSES } from '../events/schemas.ts';
import type { EventType } from '../events/schemas.ts';
import { canonicalInstantOfBytes, parseOtherInstant } from '../events/timestamps.ts';
import { CUSTOMER_FIELDS } from '../erasure/mentions.ts';
import type { ErasedCustomers } from '../erasure/register.ts';
import { larger } from '../lake/column-builders.ts';
import { SlotKind } from '../lake/parquet.ts';
import type { SlotRows } from '../lake/parquet.ts';
import { rawColumns } from '../lake/raw-tables.ts';
import { fingerprintBuilder } from './deliveries.ts';

/*
 * The fast path of a parallel ingest: an order or survey event read from its line's bytes
 * straight into the spans of its raw columns, with no JavaScript object, string or number
 * made for it beyond what its checks need. It takes lines that are written plainly and plainly
 * valid: one flat JSON object of printable ASCII text without escapes, numbers, true, false and
 * null, no key twice, and every field passing the checks of validate.ts's plain-record path.
 * Anything else (an escape, a byte outside printable ASCII, a nested value, items, a number
 * where a label is expected, a value out of bounds) is declined, and the line takes the
 * ordinary path (JSON.parse, validateRecord), which also words every reason. Declining is
 * always safe; taking a line is only allowed when the ordinary path would store the same row
 * with the same fingerprint, which a test holds it to.
 *
 * Why: parsing each line into an object, validating the object and copying its values into
 * columns cost a worker about 3.5 s of CPU per 250,000 ordinary events, most of it the
 * collector's (bench/HISTORY.md).
 */

const SPACE = 0x20;
const TAB = 0x09;
const CARRIAGE_RETURN = 0x0d;
const LINE_FEED = 0x0a;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;
const LAST_PRINTABLE = 0x7e;

/** What a field's value must be for the line to take the fast path. */
type Rule = 'identifier' | 'instant' | 'status' | 'amount' | 'optionalAmount' | 'currency' | 'optionalText' | 'nullOnly' | 'referrer' | 'score';

interface Field {
  readonly name: Uint8Array;
  readonly slot: number;
  readonly rule: Rule;
}

const RULES: Readonly<Record<'orders' | 'surveys', Readonly<Record<string, Rule>>>> = {
  orders: {
    event_id: 'identifier',
    order_id: 'identifier',
    customer_id: 'identifier',
    occurred_at: 'instant',
    status: 'status',
    total: 'amount',
    currency: 'currency',
    refunded_amount: 'optionalAmount',
    channel: 'optionalText',
    // An order's lines are nested objects: such orders take the ordinary path.
    items: 'nullOnly',
    referred_by: 'referrer',
  },
  surveys: {
    event_id: 'identifier',
    customer_id: 'identifier',
    occurred_at: 'instant',
    score: 'score',
    survey_id: 'optionalText',
    comment: 'optionalText',
    channel: 'optionalText',
  },
};

const ascii = (text: string) => Uint8Array.from(text, (character) => character.charCodeAt(0));
const STATUS_BYTES = ORDER_STATUSES.map(ascii);
function isStatus(bytes: Uint8Array, start: number, end: number): boolean {
  for (let index = 0; index < STATUS_BYTES.length; index += 1) if (sameBytes(bytes, start, end, STATUS_BYTES[index]!)) return true;
  return false;
}
const DEFAULT_STATUS = ascii('placed');
const CUSTOMER_FIELD_BYTES = CUSTOMER_FIELDS.map(ascii);
const PROTO = ascii('__proto__');

/** The event types with a fast path. */
export const hasPlainPath = (type: EventType): type is 'orders' | 'surveys' => type === 'orders' || type === 'surveys';

/** Bytes `a[aStart..aEnd)` equal `b`. */
function sameBytes(a: Uint8Array, aStart: number, aEnd: number, b: Uint8Array): boolean {
  if (aEnd - aStart !== b.length) return false;
  for (let index = 0; index < b.length; index += 1) if (a[aStart + index] !== b[index]) return false;
  return true;
}

/** Compares two byte ranges as JavaScript compares ASCII strings. */
function compareBytes(a: Uint8Array, aStart: number, aEnd: number, b: Uint8Array, bStart: number, bEnd: number): number {
  const length = Math.min(aEnd - aStart, bEnd - bStart);
  for (let index = 0; index < length; index += 1) {
    const difference = a[aStart + index]! - b[bStart + index]!;
    if (difference !== 0) return difference;
  }
  return aEnd - aStart - (bEnd - bStart);
}

/**
 * A chunk's plainly valid events as spans of its bytes, one row per event and one slot per
 * event column of the raw table (rawColumns), in column order: null, a span of the line, a span
 * of the arena (text made here: an order's default status, the extra fields as JSON) or a
 * number (occurred_at as epoch milliseconds). Typed arrays only, so that a chunk waiting for
 * its decisions holds nothing for the collector to trace.
 */
export class PlainRows implements SlotRows {
  /** Event columns per row. */
  readonly slots: number;
  count = 0;
  kinds: Uint8Array;
  starts: Int32Array;
  ends: Int32Array;
  numbers: Float64Array;
  /** Each row's line, as a span of the chunk (for the text of a refused repeat). */
  lineStarts: Int32Array;
  lineEnds: Int32Array;
  fingerprints: Float64Array;
  arena: Uint8Array;
  arenaEnd = 0;
  /** The chunk the spans point into. */
  bytes: Uint8Array;
  private text: Buffer;

  constructor(
    readonly type: 'orders' | 'surveys',
    bytes: Uint8Array,
    capacity = 1024,
  ) {
    this.slots = RULES_BY_TYPE[type].slots;
    this.kinds = new Uint8Array(capacity * this.slots);
    this.starts = new Int32Array(capacity * this.slots);
    this.ends = new Int32Array(capacity * this.slots);
    this.numbers = new Float64Array(capacity * this.slots);
    this.lineStarts = new Int32Array(capacity);
    this.lineEnds = new Int32Array(capacity);
    this.fingerprints = new Float64Array(capacity);
    this.arena = new Uint8Array(capacity * 32);
    this.bytes = bytes;
    this.text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /**
   * Empties the rows for another chunk, keeping the arrays: a worker reuses them rather than
   * touching fresh memory for every chunk (page faults cost about 8 us a page on the machines
   * measured, bench/HISTORY.md).
   */
  reuseFor(bytes: Uint8Array): this {
    this.count = 0;
    this.arenaEnd = 0;
    this.bytes = bytes;
    this.text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return this;
  }

  /** A slot's text (ASCII), as a string: for the checks that need one. */
  textOf(row: number, slot: number): string | null {
    const index = row * this.slots + slot;
    const kind = this.kinds[index];
    if (kind === SlotKind.line) return this.text.toString('latin1', this.starts[index]!, this.ends[index]!);
    if (kind === SlotKind.arena)
      return Buffer.from(this.arena.buffer, this.arena.byteOffset, this.arenaEnd).toString('latin1', this.starts[index]!, this.ends[index]!);
    return null;
  }

  /** A span of the chunk as a string (it is ASCII). */
  textOfSpan(start: number, end: number): string {
    return this.text.toString('latin1', start, end);
  }

  /** The bytes a slot's span is in. */
  sourceOf(index: number): Uint8Array {
    return this.kinds[index] === SlotKind.arena ? this.arena : this.bytes;
  }

  /** A row's line as received (printable ASCII, its carriage return dropped as the ordinary path drops it). */
  lineText(row: number): string {
    let end = this.lineEnds[row]!;
    if (end > this.lineStarts[row]! && this.bytes[end - 1] === CARRIAGE_RETURN) end -= 1;
    return this.text.toString('latin1', this.lineStarts[row]!, end);
  }

  /** Room for one more row and `arenaBytes` more bytes of arena. */
  reserve(arenaBytes: number): void {
    if ((this.count + 1) * this.slots > this.kinds.length) {
      const rows = this.lineStarts.length * 2;
      this.kinds = larger(this.kinds, rows * this.slots);
      this.starts = larger(this.starts, rows * this.slots);
      this.ends = larger(this.ends, rows * this.slots);
      this.numbers = larger(this.numbers, rows * this.slots);
      this.lineStarts = larger(this.lineStarts, rows);
      this.lineEnds = larger(this.lineEnds, rows);
      this.fingerprints = larger(this.fingerprints, rows);
    }
    if (this.arenaEnd + arenaBytes > this.arena.length) this.arena = larger(this.arena, this.arenaEnd + arenaBytes);
  }
}

interface TypeRules {
  readonly slots: number;
  /** Known fields, by the length of their name. */
  readonly byLength: readonly (readonly Field[])[];
  readonly required: number;
  readonly customerSlot: number;
  /** -1 where the type has none. */
  readonly statusSlot: number;
  readonly referrerSlot: number;
  readonly extrasSlot: number;
}

function typeRules(type: 'orders' | 'surveys'): TypeRules {
  // The rules must name the contract's fields exactly: a field the contract gains would otherwise
  // be kept as an extra, one it loses read as a field.
  const known = [...KNOWN_FIELDS[type]].sort().join();
  if (Object.keys(RULES[type]).sort().join() !== known) throw new Error(`plain-lines.ts has rules for the ${type} fields other than ${known}`);
  const columns = rawColumns[type].map((column) => column.name);
  const extrasSlot = columns.indexOf('extras');
  const byLength: Field[][] = [];
  let required = 0;
  for (const [name, rule] of Object.entries(RULES[type])) {
    const slot = columns.indexOf(name);
    if (slot < 0 || slot >= extrasSlot) throw new Error(`no event column for ${name}`);
    (byLength[name.length] ??= []).push({ name: ascii(name), slot, rule });
    if (rule === 'identifier' || rule === 'instant' || rule === 'amount' || rule === 'currency' || rule === 'score') required |= 1 << slot;
  }
  return {
    slots: extrasSlot + 1,
    byLength,
    required,
    customerSlot: columns.indexOf('customer_id'),
    statusSlot: columns.indexOf('status'),
    referrerSlot: columns.indexOf('referred_by'),
    extrasSlot,
  };
}

const RULES_BY_TYPE = { orders: typeRules('orders'), surveys: typeRules('surveys') };

/** The value just read: its kind, its span (a string's without the quotes) and a number's value. */
const VALUE_STRING = 1;
const VALUE_NUMBER = 2;
const VALUE_LITERAL = 3;
const VALUE_NULL = 4;

// Parsed from their text, which rounds correctly: each is exact.
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, exponent) => Number(`1e${exponent}`));

/**
 * Reads the chunk's lines into a PlainRows. One instance per worker; its scratch state is reused
 * from line to line.
 */
export class PlainLineReader {
  private readonly rules: TypeRules;
  // The value last read.
  private valueKind = 0;
  private valueStart = 0;
  private valueEnd = 0;
  private valueNumber = 0;
  /** Where reading stopped. */
  private position = 0;
  // Extra fields of the line: key and value spans, value kinds and numbers.
  private extraCount = 0;
  private extraKeyStarts = new Int32Array(16);
  private extraKeyEnds = new Int32Array(16);
  private extraValueStarts = new Int32Array(16);
  private extraValueEnds = new Int32Array(16);
  private extraKinds = new Uint8Array(16);
  private extraNumbers = new Float64Array(16);
  private extraOrder = new Int32Array(16);
  private readonly fingerprint = fingerprintBuilder();
  private readonly currencies = new Map<number, boolean>();

  constructor(
    readonly type: 'orders' | 'surveys',
    /** Events before this instant are refused (validateRecord): the ordinary path words it. */
    private readonly earliestMs: number,
    private readonly erased: ErasedCustomers,
  ) {
    this.rules = RULES_BY_TYPE[type];
  }

  /**
   * Reads the line `bytes[start..end)` (its terminator excluded) as the next row of `rows`;
   * false, with `rows` as it was, when the line is not one for the fast path.
   */
  read(rows: PlainRows, start: number, end: number): boolean {
    const bytes = rows.bytes;
    const rules = this.rules;
    // Room for the extras (no longer than the line, but for numbers written again) and a default status.
    rows.reserve(2 * (end - start) + 64);
    const row = rows.count;
    const base = row * rules.slots;
    const arenaStart = rows.arenaEnd;
    for (let slot = 0; slot < rules.slots; slot += 1) rows.kinds[base + slot] = SlotKind.null;
    let seen = 0;
    this.extraCount = 0;

    let position = this.skipSpace(bytes, start, end);
    if (bytes[position] !== OPEN_BRACE) return false;
    position = this.skipSpace(bytes, position + 1, end);
    for (;;) {
      if (bytes[position] !== QUOTE || !this.readString(bytes, position, end)) return false;
      const keyStart = this.valueStart;
      const keyEnd = this.valueEnd;
      position = this.skipSpace(bytes, this.position, end);
      if (bytes[position] !== COLON) return false;
      position = this.skipSpace(bytes, position + 1, end);
      if (!this.readValue(bytes, position, end)) return false;
      const field = this.fieldAt(bytes, keyStart, keyEnd);
      if (field) {
        if ((seen & (1 << field.slot)) !== 0) return false;
        seen |= 1 << field.slot;
        if (!this.take(rows, base + field.slot, field.rule)) return false;
      } else if (!this.keepExtra(bytes, keyStart, keyEnd)) return false;
      position = this.skipSpace(bytes, this.position, end);
      if (bytes[position] === COMMA) {
        position = this.skipSpace(bytes, position + 1, end);
        continue;
      }
      if (bytes[position] !== CLOSE_BRACE) return false;
      break;
    }
    if (this.skipSpace(bytes, position + 1, end) !== end) return false;
    if ((seen & rules.required) !== rules.required || !this.checkRow(rows, base)) {
      rows.arenaEnd = arenaStart;
      return false;
    }
    this.writeExtras(rows, base + rules.extrasSlot, bytes, end - start);
    rows.lineStarts[row] = start;
    rows.lineEnds[row] = end;
    rows.fingerprints[row] = this.fingerprintOf(rows, base);
    rows.count += 1;
    return true;
  }

  /** What can only be checked once the whole line is read: the default status, a referrer that is not the customer, the instant. */
  private checkRow(rows: PlainRows, base: number): boolean {
    const rules = this.rules;
    if (this.type === 'orders') {
      const status = base + rules.statusSlot;
      if (rows.kinds[status] === SlotKind.null) {
        rows.arena.set(DEFAULT_STATUS, rows.arenaEnd);
        rows.kinds[status] = SlotKind.arena;
        rows.starts[status] = rows.arenaEnd;
        rows.ends[status] = rows.arenaEnd += DEFAULT_STATUS.length;
      }
      const referrer = base + rules.referrerSlot;
      const customer = base + rules.customerSlot;
      if (
        rows.kinds[referrer] === SlotKind.line &&
        compareBytes(rows.bytes, rows.starts[referrer]!, rows.ends[referrer]!, rows.bytes, rows.starts[customer]!, rows.ends[customer]!) === 0
      ) {
        return false;
      }
    }
    // An event naming an erased customer is refused, or stored without its referrer: the ordinary
    // path decides which. It reads those fields from any event (a survey's referred_by is an extra field).
    if (!this.erased.isEmpty) {
      for (let extra = 0; extra < this.extraCount; extra += 1) {
        for (const field of CUSTOMER_FIELD_BYTES) if (sameBytes(rows.bytes, this.extraKeyStarts[extra]!, this.extraKeyEnds[extra]!, field)) return false;
      }
      const row = rows.count;
      const customer = rows.textOf(row, rules.customerSlot)!;
      const referrer = rules.referrerSlot < 0 ? null : rows.textOf(row, rules.referrerSlot);
      if (this.erased.erasedOn(customer) !== undefined || (referrer !== null && this.erased.erasedOn(referrer) !== undefined)) return false;
    }
    return true;
  }

  /** isCurrencyCode of three bytes, asked once per code a file uses rather than once per line. */
  private isCurrency(rows: PlainRows, start: number): boolean {
    const bytes = rows.bytes;
    const code = (bytes[start]! << 16) | (bytes[start + 1]! << 8) | bytes[start + 2]!;
    let known = this.currencies.get(code);
    if (known === undefined) this.currencies.set(code, (known = isCurrencyCode(rows.textOfSpan(start, start + 3))));
    return known;
  }

  private fieldAt(bytes: Uint8Array, start: number, end: number): Field | undefined {
    const candidates = this.rules.byLength[end - start];
    if (candidates === undefined) return undefined;
    for (let index = 0; index < candidates.length; index += 1) if (sameBytes(bytes, start, end, candidates[index]!.name)) return candidates[index];
    return undefined;
  }

  /** Checks the value just read against a known field's rule and puts it in its slot. */
  private take(rows: PlainRows, index: number, rule: Rule): boolean {
    const kind = this.valueKind;
    const bytes = rows.bytes;
    const start = this.valueStart;
    const end = this.valueEnd;
    switch (rule) {
      case 'identifier':
      case 'referrer':
        if (kind === VALUE_NULL && rule === 'referrer') return true;
        if (kind !== VALUE_STRING || end - start > MAX_ID_LENGTH || !hasNonSpace(bytes, start, end)) return false;
        return this.span(rows, index, start, end);
      case 'optionalText':
        if (kind === VALUE_NULL) return true;
        return kind === VALUE_STRING && this.span(rows, index, start, end);
      case 'status':
        if (kind !== VALUE_STRING || !isStatus(bytes, start, end)) return false;
        return this.span(rows, index, start, end);
      case 'currency':
        if (kind !== VALUE_STRING || end - start !== 3 || !this.isCurrency(rows, start)) return false;
        return this.span(rows, index, start, end);
      case 'instant': {
        if (kind !== VALUE_STRING) return false;
        // The usual shapes from the line's bytes; any other goes through the string parser.
        let epochMs = canonicalInstantOfBytes(bytes, start, end);
        if (epochMs === undefined) {
          const instant = parseOtherInstant(rows.textOfSpan(start, end));
          if (!instant.ok) return false;
          epochMs = instant.epochMs;
        }
        return epochMs >= this.earliestMs && this.number(rows, index, epochMs);
      }
      case 'amount':
        return kind === VALUE_NUMBER && this.valueNumber >= 0 && this.valueNumber <= MAX_AMOUNT && this.number(rows, index, this.valueNumber);
      case 'optionalAmount':
        if (kind === VALUE_NULL) return true;
        return kind === VALUE_NUMBER && this.valueNumber >= 0 && this.valueNumber <= MAX_AMOUNT && this.number(rows, index, this.valueNumber);
      case 'score':
        return (
          kind === VALUE_NUMBER &&
          Number.isInteger(this.valueNumber) &&
          this.valueNumber >= 0 &&
          this.valueNumber <= 10 &&
          this.number(rows, index, this.valueNumber)
        );
      case 'nullOnly':
        return kind === VALUE_NULL;
    }
  }

  private span(rows: PlainRows, index: number, start: number, end: number): true {
    rows.kinds[index] = SlotKind.line;
    rows.starts[index] = start;
    rows.ends[index] = end;
    return true;
  }

  private number(rows: PlainRows, index: number, value: number): true {
    rows.kinds[index] = SlotKind.number;
    rows.numbers[index] = value;
    return true;
  }

  /**
   * Remembers an extra field. Declines a key that is `__proto__` (JSON.parse makes it an own
   * key, the extras object would make it a prototype), that starts with a digit (an object puts
   * integer keys first whatever the sort), or that the line already had.
   */
  private keepExtra(bytes: Uint8Array, keyStart: number, keyEnd: number): boolean {
    const first = bytes[keyStart];
    if (first === undefined || keyStart === keyEnd || (first >= DIGIT_0 && first <= DIGIT_9) || sameBytes(bytes, keyStart, keyEnd, PROTO)) return false;
    const count = this.extraCount;
    for (let other = 0; other < count; other += 1) {
      if (compareBytes(bytes, keyStart, keyEnd, bytes, this.extraKeyStarts[other]!, this.extraKeyEnds[other]!) === 0) return false;
    }
    if (count === this.extraKinds.length) this.growExtras();
    this.extraKeyStarts[count] = keyStart;
    this.extraKeyEnds[count] = keyEnd;
    this.extraValueStarts[count] = this.valueStart;
    this.extraValueEnds[count] = this.valueEnd;
    this.extraKinds[count] = this.valueKind;
    this.extraNumbers[count] = this.valueNumber;
    this.extraCount = count + 1;
    return true;
  }

  private growExtras(): void {
    const length = this.extraKinds.length * 2;
    this.extraKeyStarts = larger(this.extraKeyStarts, length);
    this.extraKeyEnds = larger(this.extraKeyEnds, length);
    this.extraValueStarts = larger(this.extraValueStarts, length);
    this.extraValueEnds = larger(this.extraValueEnds, length);
    this.extraKinds = larger(this.extraKinds, length);
    this.extraNumbers = larger(this.extraNumbers, length);
    this.extraOrder = larger(this.extraOrder, length);
  }

  /** The extra fields as validate.ts's extrasOf writes them: JSON.stringify of them, keys sorted. */
  private writeExtras(rows: PlainRows, index: number, bytes: Uint8Array, lineLength: number): void {
    const count = this.extraCount;
    if (count === 0) return;
    const order = this.extraOrder;
    for (let next = 0; next < count; next += 1) {
      let at = next;
      while (
        at > 0 &&
        compareBytes(
          bytes,
          this.extraKeyStarts[order[at - 1]!]!,
          this.extraKeyEnds[order[at - 1]!]!,
          bytes,
          this.extraKeyStarts[next]!,
          this.extraKeyEnds[next]!,
        ) > 0
      ) {
        order[at] = order[at - 1]!;
        at -= 1;
      }
      order[at] = next;
    }
    const start = rows.arenaEnd;
    let end = start;
    let arena = rows.arena;
    arena[end++] = OPEN_BRACE;
    for (let position = 0; position < count; position += 1) {
      const extra = order[position]!;
      if (position > 0) arena[end++] = COMMA;
      arena[end++] = QUOTE;
      end = copyInto(arena, end, bytes, this.extraKeyStarts[extra]!, this.extraKeyEnds[extra]!);
      arena[end++] = QUOTE;
      arena[end++] = COLON;
      const kind = this.extraKinds[extra];
      if (kind === VALUE_STRING) {
        arena[end++] = QUOTE;
        end = copyInto(arena, end, bytes, this.extraValueStarts[extra]!, this.extraValueEnds[extra]!);
        arena[end++] = QUOTE;
      } else if (kind === VALUE_NUMBER && !isCanonicalInteger(bytes, this.extraValueStarts[extra]!, this.extraValueEnds[extra]!)) {
        // JSON.stringify writes a number as String does: "1.50" is 1.5, "1e2" is 100.
        const text = String(this.extraNumbers[extra]);
        rows.reserve(end - rows.arenaEnd + text.length + lineLength);
        arena = rows.arena;
        for (let character = 0; character < text.length; character += 1) arena[end++] = text.charCodeAt(character);
      } else end = copyInto(arena, end, bytes, this.extraValueStarts[extra]!, this.extraValueEnds[extra]!);
    }
    arena[end++] = CLOSE_BRACE;
    rows.kinds[index] = SlotKind.arena;
    rows.starts[index] = start;
    rows.ends[index] = end;
    rows.arenaEnd = end;
  }

  /** fingerprintOf the row the ordinary path would make: its values in column order. */
  private fingerprintOf(rows: PlainRows, base: number): number {
    const fingerprint = this.fingerprint;
    fingerprint.reset();
    for (let index = base; index < base + this.rules.slots; index += 1) {
      const kind = rows.kinds[index];
      if (kind === SlotKind.number) fingerprint.number(rows.numbers[index]!);
      else if (kind === SlotKind.null) fingerprint.absent();
      else fingerprint.bytes(rows.sourceOf(index), rows.starts[index]!, rows.ends[index]!);
    }
    return fingerprint.value();
  }

  private skipSpace(bytes: Uint8Array, position: number, end: number): number {
    while (position < end) {
      const byte = bytes[position];
      if (byte !== SPACE && byte !== TAB && byte !== CARRIAGE_RETURN && byte !== LINE_FEED) break;
      position += 1;
    }
    return position;
  }

  /** A string of printable ASCII without escapes, from its opening quote at `position`. */
  private readString(bytes: Uint8Array, position: number, end: number): boolean {
    const start = position + 1;
    for (let at = start; at < end; at += 1) {
      const byte = bytes[at]!;
      if (byte === QUOTE) {
        this.valueKind = VALUE_STRING;
        this.valueStart = start;
        this.valueEnd = at;
        this.position = at + 1;
        return true;
      }
      if (byte === BACKSLASH || byte < SPACE || byte > LAST_PRINTABLE) return false;
    }
    return false;
  }

  private readValue(bytes: Uint8Array, position: number, end: number): boolean {
    const first = bytes[position];
    if (first === QUOTE) return this.readString(bytes, position, end);
    if (first === MINUS || (first !== undefined && first >= DIGIT_0 && first <= DIGIT_9)) return this.readNumber(bytes, position, end);
    const literal = first === LOWER_N ? NULL : first === LOWER_T ? TRUE : first === LOWER_F ? FALSE : undefined;
    if (literal === undefined || position + literal.length > end || !sameBytes(bytes, position, position + literal.length, literal)) return false;
    this.valueKind = literal === NULL ? VALUE_NULL : VALUE_LITERAL;
    this.valueStart = position;
    this.valueEnd = this.position = position + literal.length;
    return true;
  }

  /**
   * A number as JSON writes one, valued as JSON.parse values it: a decimal of up to 15
   * significant digits and 22 fraction digits is the quotient of two exact doubles, which IEEE
   * division rounds correctly; anything longer is handed to Number.
   */
  private readNumber(bytes: Uint8Array, position: number, end: number): boolean {
    const start = position;
    let at = position;
    const negative = bytes[at] === MINUS;
    if (negative) at += 1;
    let mantissa = 0;
    let digits = 0;
    if (bytes[at] === DIGIT_0) at += 1;
    else if (isDigit(bytes[at])) {
      while (at < end && isDigit(bytes[at])) {
        mantissa = mantissa * 10 + (bytes[at]! - DIGIT_0);
        digits += 1;
        at += 1;
      }
    } else return false;
    let scale = 0;
    if (bytes[at] === DOT) {
      at += 1;
      if (!isDigit(bytes[at])) return false;
      while (at < end && isDigit(bytes[at])) {
        mantissa = mantissa * 10 + (bytes[at]! - DIGIT_0);
        if (mantissa !== 0) digits += 1;
        scale += 1;
        at += 1;
      }
    }
    let exact = digits <= 15 && scale <= 22;
    if (bytes[at] === LOWER_E || bytes[at] === UPPER_E) {
      at += 1;
      if (bytes[at] === PLUS || bytes[at] === MINUS) at += 1;
      if (!isDigit(bytes[at])) return false;
      while (at < end && isDigit(bytes[at])) at += 1;
      exact = false;
    }
    const value = exact ? mantissa / POWERS_OF_TEN[scale]! : Number(Buffer.from(bytes.buffer, bytes.byteOffset + start, at - start).toString('latin1'));
    // JSON.parse reads 1e400 as Infinity, which JSON.stringify writes as null: the ordinary path's business.
    if (!Number.isFinite(value)) return false;
    this.valueKind = VALUE_NUMBER;
    this.valueNumber = negative && exact ? -value : value;
    this.valueStart = start;
    this.valueEnd = at;
    this.position = at;
    return true;
  }
}

const NULL = ascii('null');
const TRUE = ascii('true');
const FALSE = ascii('false');
const LOWER_N = 0x6e;
const LOWER_T = 0x74;
const LOWER_F = 0x66;

/** Copies `source[from..to)` into `target` at `at`; returns where it ends. */
function copyInto(target: Uint8Array, at: number, source: Uint8Array, from: number, to: number): number {
  for (let index = from; index < to; index += 1) target[at++] = source[index]!;
  return at;
}

const isDigit = (byte: number | undefined) => byte !== undefined && byte >= DIGIT_0 && byte <= DIGIT_9;

/** Not only spaces (the only blank in printable ASCII): what trim() leaves something of. */
function hasNonSpace(bytes: Uint8Array, start: number, end: number): boolean {
  for (let at = start; at < end; at += 1) if (bytes[at] !== SPACE) return true;
  return false;
}

/** An integer JSON.stringify would write as it is: no minus zero, at most 15 digits. */
function isCanonicalInteger(bytes: Uint8Array, start: number, end: number): boolean {
  const digitsStart = bytes[start] === MINUS ? start + 1 : start;
  if (end - digitsStart > 15) return false;
  for (let at = digitsStart; at < end; at += 1) if (!isDigit(bytes[at])) return false;
  return !(bytes[digitsStart] === DIGIT_0 && (end - digitsStart > 1 || digitsStart !== start));
}

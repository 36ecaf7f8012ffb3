import { larger } from '../lake/column-builders.ts';
import { eventIdText, hashIdBytes, idByteLength, writeEventId } from './event-ids.ts';
import type { IngestCounts } from './ingest-types.ts';

/*
 * Repeated deliveries of an event within one batch: every valid record's content is
 * fingerprinted, the first delivery of each event_id remembered, and each later one decided in
 * file order as an exact repeat (counted, stored once) or a conflicting one (refused).
 */

const numberBits = new Float64Array(1);
const numberWords = new Uint32Array(numberBits.buffer);

/**
 * A 53-bit hash (cyrb53) of a row's values in column order (strings by character with their
 * length, numbers by their bits, null as its own mark), fed one value at a time: fingerprintOf
 * feeds it a row object, the fast path of a parallel ingest (plain-lines.ts) the spans of a
 * line's bytes, and both must give the same fingerprint for the same row. Two 32-bit lanes,
 * mixed inline: this runs over every character of every accepted row.
 */
export class FingerprintBuilder {
  private h1 = 0;
  private h2 = 0;

  reset(): void {
    this.h1 = 0xdeadbeef | 0;
    this.h2 = 0x41c6ce57 | 0;
  }

  text(value: string): void {
    let h1 = Math.imul(this.h1 ^ value.length, 2654435761);
    let h2 = Math.imul(this.h2 ^ value.length, 1597334677);
    for (let index = 0; index < value.length; index += 1) {
      const code = value.charCodeAt(index);
      h1 = Math.imul(h1 ^ code, 2654435761);
      h2 = Math.imul(h2 ^ code, 1597334677);
    }
    this.h1 = h1;
    this.h2 = h2;
  }

  /** Text given as bytes of ASCII, one character each: the same as text() of its string. */
  bytes(source: Uint8Array, start: number, end: number): void {
    let h1 = Math.imul(this.h1 ^ (end - start), 2654435761);
    let h2 = Math.imul(this.h2 ^ (end - start), 1597334677);
    for (let index = start; index < end; index += 1) {
      const code = source[index]!;
      h1 = Math.imul(h1 ^ code, 2654435761);
      h2 = Math.imul(h2 ^ code, 1597334677);
    }
    this.h1 = h1;
    this.h2 = h2;
  }

  number(value: number): void {
    numberBits[0] = value;
    const low = numberWords[0]!;
    const high = numberWords[1]! ^ 0x9e3779b9;
    this.h1 = Math.imul(Math.imul(this.h1 ^ low, 2654435761) ^ high, 2654435761);
    this.h2 = Math.imul(Math.imul(this.h2 ^ low, 1597334677) ^ high, 1597334677);
  }

  /** A null (or undefined) value. */
  absent(): void {
    this.h1 = Math.imul(this.h1 ^ 0x85ebca6b, 2654435761);
    this.h2 = Math.imul(this.h2 ^ 0x85ebca6b, 1597334677);
  }

  value(): number {
    const h1 = Math.imul(this.h1 ^ (this.h1 >>> 16), 2246822507) ^ Math.imul(this.h2 ^ (this.h2 >>> 13), 3266489909);
    const h2 = Math.imul(this.h2 ^ (this.h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    return 4294967296 * (2097151 & h2) + (h1 >>> 0);
  }
}

export const fingerprintBuilder = () => new FingerprintBuilder();

const rowFingerprint = new FingerprintBuilder();

/**
 * The fingerprint of a row's values in column order: tells an exact re-delivery from a
 * conflicting one without keeping every row in memory, and without serializing the row. At 53
 * bits a collision among even ten million distinct events in one file is about a
 * one-in-a-hundred-million chance.
 */
export function fingerprintOf(row: object): number {
  rowFingerprint.reset();
  for (const value of Object.values(row)) {
    if (typeof value === 'string') rowFingerprint.text(value);
    else if (typeof value === 'number') rowFingerprint.number(value);
    else rowFingerprint.absent();
  }
  return rowFingerprint.value();
}

/**
 * The first delivery of each event_id in the batch: the id's bytes (event-ids.ts), its
 * fingerprint and line, in an open-addressing table of typed arrays. Ten million entries are
 * neither ten million strings nor ten million objects for the collector to trace.
 */
export class FirstDeliveries {
  size = 0;
  /** Per slot: an entry's index plus one, 0 when free. Never more than half full. */
  private table: Int32Array;
  private hashes: Int32Array;
  private starts: Float64Array;
  private ends: Float64Array;
  private fingerprints: Float64Array;
  private lines: Float64Array;
  private arena: Uint8Array;
  private arenaEnd = 0;
  /** Where the ids given as strings are written, to be looked up as bytes. */
  private scratch = new Uint8Array(1024);

  /**
   * expected: the ids to make room for to begin with. Growing copies every array into fresh
   * memory, and room never used costs no memory, so a parallel ingest sizes it from the file.
   */
  constructor(expected = 1024) {
    const capacity = Math.max(1024, Math.ceil(expected));
    this.table = new Int32Array(2 ** Math.ceil(Math.log2(capacity * 2)));
    this.hashes = new Int32Array(capacity);
    this.starts = new Float64Array(capacity);
    this.ends = new Float64Array(capacity);
    this.fingerprints = new Float64Array(capacity);
    this.lines = new Float64Array(capacity);
    this.arena = new Uint8Array(capacity * 40);
  }

  /** The entry of an id; when there is none, -1 - the free slot where it would go. */
  private find(bytes: Uint8Array, start: number, end: number, hash: number): number {
    const mask = this.table.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = this.table[slot]! - 1;
      if (entry < 0) return -1 - slot;
      if (this.hashes[entry] === hash && this.holds(entry, bytes, start, end)) return entry;
    }
  }

  private holds(entry: number, bytes: Uint8Array, start: number, end: number): boolean {
    const from = this.starts[entry]!;
    if (this.ends[entry]! - from !== end - start) return false;
    for (let index = 0; index < end - start; index += 1) if (this.arena[from + index] !== bytes[start + index]) return false;
    return true;
  }

  /**
   * Decides a delivery of the id at `bytes[start..end)` (hashed with hashIdBytes): the first is
   * remembered with its fingerprint and line.
   */
  decide(bytes: Uint8Array, start: number, end: number, hash: number, fingerprint: number, lineNumber: number): DeliveryVerdict {
    const entry = this.find(bytes, start, end, hash);
    if (entry >= 0) {
      if (this.fingerprints[entry] === fingerprint) return REPEAT;
      const id = JSON.stringify(eventIdText(bytes, start, end));
      const earlierLine = this.lines[entry]!;
      return { kind: 'conflict', reason: `event_id: ${id} was already received on line ${earlierLine} of this file with different content`, earlierLine };
    }
    this.add(-1 - entry, bytes, start, end, hash, fingerprint, lineNumber);
    return FIRST;
  }

  /** decide, for an id given as a string. */
  decideText(eventId: string, fingerprint: number, lineNumber: number): DeliveryVerdict {
    if (idByteLength(eventId) > this.scratch.length) this.scratch = new Uint8Array(idByteLength(eventId));
    const end = writeEventId(eventId, this.scratch, 0);
    return this.decide(this.scratch, 0, end, hashIdBytes(this.scratch, 0, end), fingerprint, lineNumber);
  }

  private add(slot: number, bytes: Uint8Array, start: number, end: number, hash: number, fingerprint: number, lineNumber: number): void {
    const entry = this.size;
    if (entry === this.hashes.length) {
      this.hashes = larger(this.hashes, entry + 1);
      this.starts = larger(this.starts, entry + 1);
      this.ends = larger(this.ends, entry + 1);
      this.fingerprints = larger(this.fingerprints, entry + 1);
      this.lines = larger(this.lines, entry + 1);
    }
    if (this.arenaEnd + (end - start) > this.arena.length) this.arena = larger(this.arena, this.arenaEnd + (end - start));
    let at = this.arenaEnd;
    for (let index = start; index < end; index += 1) this.arena[at++] = bytes[index]!;
    this.starts[entry] = this.arenaEnd;
    this.ends[entry] = at;
    this.arenaEnd = at;
    this.hashes[entry] = hash;
    this.fingerprints[entry] = fingerprint;
    this.lines[entry] = lineNumber;
    this.table[slot] = entry + 1;
    this.size += 1;
    if (this.size * 2 > this.table.length) this.rehash();
  }

  /** Twice the slots, the entries placed again by their hashes. */
  private rehash(): void {
    const table = new Int32Array(this.table.length * 2);
    const mask = table.length - 1;
    for (let entry = 0; entry < this.size; entry += 1) {
      let slot = this.hashes[entry]! & mask;
      while (table[slot] !== 0) slot = (slot + 1) & mask;
      table[slot] = entry + 1;
    }
    this.table = table;
  }
}

/** What a delivery of an event_id is: its first, an exact repeat, or a repeat with other content. */
export type DeliveryVerdict =
  | { readonly kind: 'first' }
  | { readonly kind: 'repeat' }
  | { readonly kind: 'conflict'; readonly reason: string; readonly earlierLine: number };

// One object each, not one per record: the verdicts of millions of records allocate nothing.
const FIRST: DeliveryVerdict = { kind: 'first' };
const REPEAT: DeliveryVerdict = { kind: 'repeat' };

/**
 * The batch-level decision for a valid record, in file order: the first delivery of an
 * event_id is stored, an exact repeat is a duplicate, and a repeat with other content is
 * refused with the line of the first. Remembers the first delivery; counts nothing.
 */
export function decideDelivery(seen: FirstDeliveries, eventId: string, fingerprint: number, lineNumber: number): DeliveryVerdict {
  return seen.decideText(eventId, fingerprint, lineNumber);
}

/** Counts a verdict: a first delivery is accepted and stored, a repeat accepted as a duplicate; a conflict is counted where it is rejected. */
export function countDelivery(counts: IngestCounts, verdict: DeliveryVerdict): void {
  if (verdict.kind === 'conflict') return;
  counts.accepted += 1;
  if (verdict.kind === 'first') counts.stored += 1;
  else counts.duplicates += 1;
}

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
 * The first delivery of each event_id in the batch: its fingerprint and line. The map holds
 * small integers only; the values live in typed arrays, so ten million entries are not ten
 * million objects for the collector to trace.
 */
export class FirstDeliveries {
  private readonly slots = new Map<string, number>();
  private fingerprints = new Float64Array(1024);
  private lines = new Float64Array(1024);

  get(eventId: string): { fingerprint: number; lineNumber: number } | undefined {
    const slot = this.slots.get(eventId);
    return slot === undefined ? undefined : { fingerprint: this.fingerprints[slot]!, lineNumber: this.lines[slot]! };
  }

  add(eventId: string, fingerprint: number, lineNumber: number): void {
    const slot = this.slots.size;
    if (slot === this.fingerprints.length) {
      this.fingerprints = grow(this.fingerprints);
      this.lines = grow(this.lines);
    }
    this.fingerprints[slot] = fingerprint;
    this.lines[slot] = lineNumber;
    this.slots.set(eventId, slot);
  }
}

function grow(values: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> {
  const larger = new Float64Array(values.length * 2);
  larger.set(values);
  return larger;
}

/** What a delivery of an event_id is: its first, an exact repeat, or a repeat with other content. */
export type DeliveryVerdict = { readonly kind: 'first' } | { readonly kind: 'repeat' } | { readonly kind: 'conflict'; readonly reason: string };

// One object each, not one per record: the verdicts of millions of records allocate nothing.
const FIRST: DeliveryVerdict = { kind: 'first' };
const REPEAT: DeliveryVerdict = { kind: 'repeat' };

/**
 * The batch-level decision for a valid record, in file order: the first delivery of an
 * event_id is stored, an exact repeat is a duplicate, and a repeat with other content is
 * refused with the line of the first. Remembers the first delivery; counts nothing.
 */
export function decideDelivery(seen: FirstDeliveries, eventId: string, fingerprint: number, lineNumber: number): DeliveryVerdict {
  const earlier = seen.get(eventId);
  if (earlier === undefined) {
    seen.add(eventId, fingerprint, lineNumber);
    return FIRST;
  }
  if (earlier.fingerprint === fingerprint) return REPEAT;
  return {
    kind: 'conflict',
    reason: `event_id: ${JSON.stringify(eventId)} was already received on line ${earlier.lineNumber} of this file with different content`,
  };
}

/** Counts a verdict: a first delivery is accepted and stored, a repeat accepted as a duplicate; a conflict is counted where it is rejected. */
export function countDelivery(counts: IngestCounts, verdict: DeliveryVerdict): void {
  if (verdict.kind === 'conflict') return;
  counts.accepted += 1;
  if (verdict.kind === 'first') counts.stored += 1;
  else counts.duplicates += 1;
}

/*
 * Event ids as bytes, for deciding repeated deliveries without a JavaScript string per event:
 * the ingest workers send the main thread each chunk's ids as one array of bytes (moved, not
 * copied), and the main thread remembers first deliveries in typed arrays (deliveries.ts).
 * Sent as strings, ten thousand ids a chunk were cloned one by one and kept in a Map, which
 * took the main thread about a second per 500,000 events (bench/HISTORY.md).
 *
 * An id is its UTF-8 when it is well formed (as nearly every one is: the fast path's are
 * printable ASCII); one holding a lone surrogate (JSON allows "\ud800") is the byte 0xFF
 * followed by the UTF-8 of its JSON text, in which the surrogate is escaped. UTF-8 never holds
 * 0xFF, so two ids have the same bytes exactly when they are the same string.
 */

import { finalizedHash } from '../hash-mix.ts';
import { larger } from '../lake/column-builders.ts';

const encoder = new TextEncoder();
// A leading U+FEFF is part of an id, not a byte-order mark.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
const ILL_FORMED = 0xff;

/** Writes an id's bytes into `target` at `at` (it must have room for idByteLength(id)); returns where they end. */
export function writeEventId(id: string, target: Uint8Array, at: number): number {
  if (id.isWellFormed()) return at + encoder.encodeInto(id, target.subarray(at)).written;
  target[at] = ILL_FORMED;
  return at + 1 + encoder.encodeInto(JSON.stringify(id), target.subarray(at + 1)).written;
}

/** The most bytes writeEventId may write for an id: six per UTF-16 unit (an escape; UTF-8 takes at most three), quotes and the mark. */
export const idByteLength = (id: string) => 6 * id.length + 3;

/** The id written at `bytes[start..end)`. */
export function eventIdText(bytes: Uint8Array, start: number, end: number): string {
  if (bytes[start] === ILL_FORMED) return JSON.parse(decoder.decode(bytes.subarray(start + 1, end))) as string;
  return decoder.decode(bytes.subarray(start, end));
}

/** A 32-bit hash of some bytes (FNV-1a, then murmur3's finalizer so that every bit counts in a table index). */
export function hashIdBytes(bytes: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5 | 0;
  for (let index = start; index < end; index += 1) hash = Math.imul(hash ^ bytes[index]!, 16777619);
  return finalizedHash(hash);
}

/** A chunk's event ids, as a worker sends them: their bytes end to end, where each ends, and each one's hash. */
export interface EventIds {
  readonly count: number;
  readonly bytes: Uint8Array;
  readonly ends: Int32Array;
  readonly hashes: Int32Array;
}

/** Builds an EventIds, an id at a time. */
export class EventIdList {
  count = 0;
  private end = 0;
  private bytes: Uint8Array;
  private ends: Int32Array;
  private hashes: Int32Array;

  constructor(capacity = 1024) {
    this.bytes = new Uint8Array(capacity * 40);
    this.ends = new Int32Array(capacity);
    this.hashes = new Int32Array(capacity);
  }

  /** An id given as bytes of its UTF-8 (the fast path's printable ASCII). */
  addBytes(source: Uint8Array, start: number, end: number): void {
    this.reserve(end - start);
    const bytes = this.bytes;
    let at = this.end;
    for (let index = start; index < end; index += 1) bytes[at++] = source[index]!;
    this.finishId(at);
  }

  addText(id: string): void {
    this.reserve(idByteLength(id));
    this.finishId(writeEventId(id, this.bytes, this.end));
  }

  /** The ids as arrays of their own (to be moved to another thread). */
  take(): EventIds {
    return { count: this.count, bytes: this.bytes.slice(0, this.end), ends: this.ends.slice(0, this.count), hashes: this.hashes.slice(0, this.count) };
  }

  private finishId(end: number): void {
    this.hashes[this.count] = hashIdBytes(this.bytes, this.end, end);
    this.ends[this.count] = end;
    this.end = end;
    this.count += 1;
  }

  private reserve(bytes: number): void {
    if (this.count === this.ends.length) {
      this.ends = larger(this.ends, this.count + 1);
      this.hashes = larger(this.hashes, this.count + 1);
    }
    if (this.end + bytes > this.bytes.length) this.bytes = larger(this.bytes, this.end + bytes);
  }
}

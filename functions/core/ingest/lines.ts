/**
 * Splits a byte stream into text lines without holding the file in memory. Each line is
 * decoded on its own so that invalid UTF-8 taints only the line it is on (and the record that
 * line belongs to) instead of failing or silently mangling the whole file.
 */
import { MAX_RECORD_BYTES, OversizedAccumulator, oversizedRecordOf, prefixText } from './oversized.ts';
import type { OversizedRecord } from './oversized.ts';

export interface Line {
  /** 1-based physical line number in the input. */
  readonly number: number;
  /** Line text without its terminator ("\n" or "\r\n"). */
  readonly text: string;
  /** True when the line's bytes were not valid UTF-8 (text then holds U+FFFD replacements). */
  readonly invalidUtf8: boolean;
  /** Set when the line is over MAX_RECORD_BYTES: text then holds only its kept prefix. */
  readonly oversized?: OversizedRecord;
}

const NEWLINE = 0x0a;
// ignoreBOM keeps a U+FEFF in the text: only the file's first bytes are a byte-order mark (stripped
// explicitly); anywhere else it is content, whichever block the line happens to start.
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenientDecoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

function stripCarriageReturn(text: string): string {
  return text.endsWith('\r') ? text.slice(0, -1) : text;
}

function decodeOne(bytes: Uint8Array): { text: string; invalidUtf8: boolean } {
  try {
    return { text: strictDecoder.decode(bytes), invalidUtf8: false };
  } catch {
    return { text: lenientDecoder.decode(bytes), invalidUtf8: true };
  }
}

/** One line's bytes (its terminator excluded) as a Line: what linesOfBlock makes of it. */
export function lineOf(bytes: Uint8Array, number: number): Line {
  const decoded = decodeOne(bytes);
  return { number, text: stripCarriageReturn(decoded.text), invalidUtf8: decoded.invalidUtf8 };
}

/**
 * The lines of a block of bytes that ends at a line end (the terminator itself excluded),
 * numbered from `firstNumber`. Decoded once when the block is valid UTF-8, else line by line.
 */
export function linesOfBlock(block: Uint8Array, firstNumber: number): Line[] {
  const lines: Line[] = [];
  let lineNumber = firstNumber - 1;
  let texts: string[] | undefined;
  try {
    texts = strictDecoder.decode(block).split('\n');
  } catch {
    texts = undefined;
  }
  if (texts) {
    for (const text of texts) lines.push({ number: ++lineNumber, text: stripCarriageReturn(text), invalidUtf8: false });
    return lines;
  }
  let start = 0;
  for (;;) {
    const end = block.indexOf(NEWLINE, start);
    lines.push(lineOf(block.subarray(start, end < 0 ? block.length : end), ++lineNumber));
    if (end < 0) return lines;
    start = end + 1;
  }
}

/** True when the bytes start with a UTF-8 byte-order mark, which is metadata, not content. */
export const startsWithByteOrderMark = (bytes: Uint8Array) => bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;

/**
 * A stretch of the input that ends at a line end (the terminator included; only the last one
 * may lack it) with no line over MAX_RECORD_BYTES in it, or one line that is over the limit,
 * of which only the prefix and a digest were kept.
 */
export type LineBlock = BytesOrOversized;

/** Bytes collected within the limit, or what is known of bytes that went over it. */
export type BytesOrOversized = { readonly bytes: Uint8Array; readonly oversized?: undefined } | { readonly oversized: OversizedRecord };

/**
 * One record's bytes as they arrive in pieces: held (uncopied) while within MAX_RECORD_BYTES,
 * then only streamed through an OversizedAccumulator, so that memory stays bounded. Shared by
 * the line splitter (a line spanning chunks) and the JSON array splitter (an element).
 */
export class RecordBytes {
  private parts: Uint8Array[] = [];
  private held = 0;
  private long: OversizedAccumulator | undefined;

  /** True before any byte of the record arrived. */
  get empty(): boolean {
    return this.held === 0 && this.long === undefined;
  }

  get oversized(): boolean {
    return this.long !== undefined;
  }

  add(piece: Uint8Array): void {
    if (this.long) {
      this.long.add(piece);
      return;
    }
    this.parts.push(piece);
    this.held += piece.length;
    if (this.held <= MAX_RECORD_BYTES) return;
    this.long = new OversizedAccumulator();
    for (const part of this.parts) this.long.add(part);
    this.parts = [];
    this.held = 0;
  }

  /** What was collected, with `tail` joined on, and starts over. */
  take(tail?: Uint8Array): BytesOrOversized {
    const { parts, long } = this;
    this.parts = [];
    this.held = 0;
    this.long = undefined;
    if (long) {
      if (tail) long.add(tail);
      return { oversized: long.finish() };
    }
    return { bytes: concat(tail ? [...parts, tail] : parts) };
  }
}

/**
 * Cuts a byte stream into blocks of whole lines, a block per chunk read, after the byte-order
 * mark if there is one. Memory stays bounded whatever the input: a line longer than the limit
 * is never held whole, only streamed through a digest.
 */
export async function* lineBlocks(source: AsyncIterable<Uint8Array>): AsyncGenerator<LineBlock> {
  // A line that spans chunks; its pieces are joined once, when its end arrives (a long line made
  // of 64 KiB chunks would otherwise be copied hundreds of times).
  const carry = new RecordBytes();
  let first = true;
  for await (const incoming of source) {
    let chunk: Uint8Array = incoming;
    if (first && chunk.length > 0) {
      first = false;
      if (startsWithByteOrderMark(chunk)) chunk = chunk.subarray(3);
    }
    if (carry.oversized) {
      const end = chunk.indexOf(NEWLINE);
      if (end < 0) {
        carry.add(chunk);
        continue;
      }
      yield carry.take(chunk.subarray(0, end));
      chunk = chunk.subarray(end + 1);
    }
    const lastNewline = chunk.lastIndexOf(NEWLINE);
    if (lastNewline < 0) {
      if (chunk.length > 0) carry.add(chunk);
      continue;
    }
    const block = carry.take(chunk.subarray(0, lastNewline + 1));
    // A copy (Buffer#slice would be a view): the tail must not pin the whole chunk.
    if (lastNewline + 1 < chunk.length) carry.add(new Uint8Array(chunk.subarray(lastNewline + 1)));
    yield* withinLimit(block);
  }
  if (!carry.empty) yield* withinLimit(carry.take());
}

/** The block, with any line over the limit taken out as a block of its own. */
export function* withinLimit(taken: LineBlock): Generator<LineBlock> {
  if (taken.oversized || taken.bytes.length <= MAX_RECORD_BYTES) {
    yield taken;
    return;
  }
  const block = taken.bytes;
  let blockStart = 0;
  let lineStart = 0;
  while (lineStart < block.length) {
    let lineEnd = block.indexOf(NEWLINE, lineStart);
    if (lineEnd < 0) lineEnd = block.length;
    if (lineEnd - lineStart > MAX_RECORD_BYTES) {
      if (lineStart > blockStart) yield { bytes: block.subarray(blockStart, lineStart) };
      yield { oversized: oversizedRecordOf(block.subarray(lineStart, lineEnd)) };
      blockStart = lineEnd + 1;
    }
    lineStart = lineEnd + 1;
  }
  if (blockStart < block.length) yield { bytes: block.subarray(blockStart) };
}

/** The one line of an oversized block: its kept prefix as text, flagged. */
export const oversizedLine = (number: number, oversized: OversizedRecord): Line => ({
  number,
  text: prefixText(oversized),
  invalidUtf8: false,
  oversized,
});

/** A block's bytes without the terminator of its last line. */
export const withoutFinalNewline = (bytes: Uint8Array) => (bytes[bytes.length - 1] === NEWLINE ? bytes.subarray(0, bytes.length - 1) : bytes);

/** Yields the lines of a byte stream, a batch per chunk read; a final line without a terminator is yielded too. */
export async function* splitLines(source: AsyncIterable<Uint8Array>): AsyncGenerator<Line[]> {
  let lineNumber = 0;
  for await (const block of lineBlocks(source)) {
    if (block.oversized) {
      yield [oversizedLine(++lineNumber, block.oversized)];
      continue;
    }
    const lines = linesOfBlock(withoutFinalNewline(block.bytes), lineNumber + 1);
    lineNumber += lines.length;
    yield lines;
  }
}

/** Joins byte chunks into one array (the chunk itself when there is only one). */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let length = 0;
  for (const part of parts) length += part.length;
  const joined = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}

/**
 * Splits a byte stream into text lines without holding the file in memory. Each line is
 * decoded on its own so that invalid UTF-8 taints only the line it is on (and the record that
 * line belongs to) instead of failing or silently mangling the whole file.
 */

export interface Line {
  /** 1-based physical line number in the input. */
  readonly number: number;
  /** Line text without its terminator ("\n" or "\r\n"). */
  readonly text: string;
  /** True when the line's bytes were not valid UTF-8 (text then holds U+FFFD replacements). */
  readonly invalidUtf8: boolean;
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
    const decoded = decodeOne(block.subarray(start, end < 0 ? block.length : end));
    lines.push({ number: ++lineNumber, text: stripCarriageReturn(decoded.text), invalidUtf8: decoded.invalidUtf8 });
    if (end < 0) return lines;
    start = end + 1;
  }
}

/** True when the bytes start with a UTF-8 byte-order mark, which is metadata, not content. */
export const startsWithByteOrderMark = (bytes: Uint8Array) => bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;

/**
 * Yields the lines of a byte stream, a batch per chunk read; a final line without a
 * terminator is yielded too.
 */
export async function* splitLines(source: AsyncIterable<Uint8Array>): AsyncGenerator<Line[]> {
  // Pieces of a line that spans chunks; joined once, when its end arrives (a 50 MB line made of
  // 64 KiB chunks would otherwise be copied hundreds of times).
  let carry: Uint8Array[] = [];
  let lineNumber = 0;
  let first = true;
  for await (const incoming of source) {
    let chunk: Uint8Array = incoming;
    if (first && chunk.length > 0) {
      first = false;
      if (startsWithByteOrderMark(chunk)) chunk = chunk.subarray(3);
    }
    const lastNewline = chunk.lastIndexOf(NEWLINE);
    if (lastNewline < 0) {
      carry.push(chunk);
      continue;
    }
    const lines = linesOfBlock(concat([...carry, chunk.subarray(0, lastNewline)]), lineNumber + 1);
    lineNumber += lines.length;
    carry = lastNewline + 1 < chunk.length ? [chunk.slice(lastNewline + 1)] : [];
    yield lines;
  }
  const rest = concat(carry);
  if (rest.length > 0) {
    const decoded = decodeOne(rest);
    yield [{ number: ++lineNumber, text: stripCarriageReturn(decoded.text), invalidUtf8: decoded.invalidUtf8 }];
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

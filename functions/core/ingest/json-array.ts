import { InputFileError } from '../errors.ts';
import { RecordBytes } from './lines.ts';
import { oversizedReason, prefixText } from './oversized.ts';
import type { OversizedRecord } from './oversized.ts';
import type { RawRecord } from './records.ts';

/**
 * A JSON array of records, split into its elements at the byte level so that a file of any
 * size streams, minified on one line or not. The splitter only tracks strings and brackets to
 * find where each top-level element ends (structural characters are single bytes in UTF-8 and
 * never occur inside a multi-byte sequence); each element is then decoded and given to
 * JSON.parse, so a malformed element is rejected alone.
 *
 * A damaged element must not swallow the ones after it. JSON strings cannot contain a raw
 * newline, so a string still open at the end of a line, or a closing bracket that does not
 * match, ends the broken element at that line; reading resumes on the next line.
 */
export async function* readJsonArray(source: AsyncIterable<Uint8Array>): AsyncGenerator<RawRecord[]> {
  const splitter = new ArraySplitter();
  let recordNumber = 0;
  for await (const chunk of source) {
    const records: RawRecord[] = [];
    for (const element of splitter.feed(chunk)) {
      recordNumber += 1;
      records.push(toRecord(element, recordNumber));
    }
    if (records.length > 0) yield records;
  }
  const last = splitter.finish();
  if (last) {
    recordNumber += 1;
    yield [toRecord(last, recordNumber)];
  }
}

interface Element {
  readonly bytes: Uint8Array;
  readonly lineNumber: number;
  readonly problem?: string;
  /** Set for an element over MAX_RECORD_BYTES, whose bytes were not kept. */
  readonly oversized?: OversizedRecord;
}

const strictDecoder = new TextDecoder('utf-8', { fatal: true });
const lenientDecoder = new TextDecoder('utf-8', { fatal: false });

function toRecord(element: Element, recordNumber: number): RawRecord {
  if (element.oversized) {
    const text = prefixText(element.oversized);
    return { recordNumber, lineNumber: element.lineNumber, text, typed: true, parseError: oversizedReason('element', element.oversized) };
  }
  let text: string;
  let problem = element.problem;
  try {
    text = strictDecoder.decode(element.bytes).trim();
  } catch {
    text = lenientDecoder.decode(element.bytes).trim();
    problem ??= 'not valid UTF-8';
  }
  const base = { recordNumber, lineNumber: element.lineNumber, text, typed: true };
  if (problem !== undefined) return { ...base, parseError: problem };
  try {
    return { ...base, value: JSON.parse(text) };
  } catch (error) {
    return { ...base, parseError: `invalid JSON: ${(error as Error).message}` };
  }
}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;

function isWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === NEWLINE || byte === 0x0d;
}

class ArraySplitter {
  private state: 'before' | 'inside' | 'after' | 'trailing' = 'before';
  private readonly open: number[] = [];
  private inString = false;
  private escaped = false;
  /** The current element's bytes; past the limit, only digested. */
  private readonly element = new RecordBytes();
  private line = 1;
  private elementLine = 0;
  private problem: string | undefined;
  private atStart = true;

  *feed(input: Uint8Array): Generator<Element> {
    let chunk = input;
    if (this.atStart && chunk.length > 0) {
      this.atStart = false;
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
    }
    let segmentStart = 0;
    for (let index = 0; index < chunk.length; index += 1) {
      const byte = chunk[index]!;
      if (this.state === 'before') {
        if (byte === NEWLINE) this.line += 1;
        if (isWhitespace(byte)) continue;
        if (byte !== OPEN_BRACKET) throw new InputFileError(`line ${this.line}: a JSON array file must start with "["`);
        this.state = 'inside';
        segmentStart = index + 1;
        continue;
      }
      if (this.state === 'after') {
        if (byte === NEWLINE) this.line += 1;
        if (isWhitespace(byte)) continue;
        // Content after the array is kept and rejected as one record rather than dropped.
        this.state = 'trailing';
        this.elementLine = this.line;
        segmentStart = index;
        continue;
      }
      if (this.state === 'trailing') {
        if (byte === NEWLINE) this.line += 1;
        continue;
      }
      if (this.elementLine === 0 && !isWhitespace(byte)) this.elementLine = this.line;
      if (byte === NEWLINE) {
        this.line += 1;
        if (this.inString || this.problem !== undefined) {
          // A raw newline cannot be inside a JSON string: the element is broken; end it here.
          this.problem ??= `a string is not closed before the end of line ${this.line - 1}`;
          this.collect(chunk.subarray(segmentStart, index));
          segmentStart = index + 1;
          const element = this.take();
          if (element) yield element;
        }
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (byte === BACKSLASH) this.escaped = true;
        else if (byte === QUOTE) this.inString = false;
        continue;
      }
      if (this.problem !== undefined) continue;
      if (byte === QUOTE) {
        this.inString = true;
      } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
        this.open.push(byte);
      } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        const expected = this.open.pop();
        if (expected === undefined && byte === CLOSE_BRACKET) {
          this.collect(chunk.subarray(segmentStart, index));
          const element = this.take();
          if (element) yield element;
          this.state = 'after';
          continue;
        }
        if (expected !== (byte === CLOSE_BRACE ? OPEN_BRACE : OPEN_BRACKET)) {
          this.problem = `"${String.fromCharCode(byte)}" on line ${this.line} does not close what is open`;
        }
      } else if (byte === COMMA && this.open.length === 0) {
        this.collect(chunk.subarray(segmentStart, index));
        segmentStart = index + 1;
        const element = this.take();
        if (element) yield element;
      }
    }
    if (this.state === 'inside' || this.state === 'trailing') this.collect(chunk.subarray(segmentStart));
  }

  finish(): Element | undefined {
    if (this.state === 'trailing') {
      const element = this.take();
      return element && { ...element, problem: 'content after the closing "]" of the array' };
    }
    if (this.state === 'inside') {
      const element = this.take();
      return element && { ...element, problem: element.problem ?? 'the array ends before this element does' };
    }
    return undefined;
  }

  /** Adds bytes to the current element, holding at most MAX_RECORD_BYTES of it. */
  private collect(input: Uint8Array): void {
    let segment = input;
    if (this.element.empty) {
      // The element starts at its first character, so an oversized one's digest is of the element alone.
      let start = 0;
      while (start < segment.length && isWhitespace(segment[start]!)) start += 1;
      if (start === segment.length) return;
      segment = segment.subarray(start);
    }
    this.element.add(segment);
  }

  /** The element collected so far, or nothing when it is blank ("[]", a trailing comma). */
  private take(): Element | undefined {
    const collected = this.element.take();
    const problem = this.problem;
    const lineNumber = this.elementLine;
    this.elementLine = 0;
    this.problem = undefined;
    this.inString = false;
    this.escaped = false;
    this.open.length = 0;
    if (collected.oversized) return { bytes: new Uint8Array(0), lineNumber, oversized: collected.oversized };
    const bytes = collected.bytes;
    if (bytes.every(isWhitespace)) return undefined;
    return problem === undefined ? { bytes, lineNumber } : { bytes, lineNumber, problem };
  }
}

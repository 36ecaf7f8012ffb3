import { InputFileError } from '../errors.ts';
import type { Line } from './lines.ts';
import type { RawRecord } from './records.ts';

/**
 * A JSON array of records, read element by element so that a file of any size streams. The
 * splitter only tracks strings and nesting to find where each top-level element ends; each
 * element is then given to JSON.parse, so a malformed element is rejected alone.
 */
export async function* readJsonArray(lines: AsyncIterable<Line>): AsyncGenerator<RawRecord> {
  const splitter = new ArraySplitter();
  let recordNumber = 0;
  for await (const line of lines) {
    for (const element of splitter.feed(line)) {
      recordNumber += 1;
      yield toRecord(element, recordNumber);
    }
  }
  const trailing = splitter.finish();
  if (trailing) {
    recordNumber += 1;
    yield toRecord(trailing, recordNumber);
  }
}

interface Element {
  text: string;
  lineNumber: number;
  invalidUtf8: boolean;
  truncated?: boolean;
  trailing?: boolean;
}

function toRecord(element: Element, recordNumber: number): RawRecord {
  const base = { recordNumber, lineNumber: element.lineNumber, text: element.text, typed: true };
  if (element.trailing) return { ...base, parseError: 'content after the closing "]" of the array' };
  if (element.truncated) return { ...base, parseError: 'the array ends before this element does' };
  if (element.invalidUtf8) return { ...base, parseError: 'not valid UTF-8' };
  try {
    return { ...base, value: JSON.parse(element.text) };
  } catch (error) {
    return { ...base, parseError: `invalid JSON: ${(error as Error).message}` };
  }
}

const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const COMMA = 44;
const QUOTE = 34;
const BACKSLASH = 92;

class ArraySplitter {
  private state: 'before' | 'inside' | 'after' | 'trailing' = 'before';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private parts: string[] = [];
  private elementLine = 0;
  private elementInvalidUtf8 = false;

  *feed(line: Line): Generator<Element> {
    const text = line.text;
    if (this.state === 'trailing') {
      this.append(text + '\n', line);
      return;
    }
    let segmentStart = 0;
    for (let index = 0; index < text.length; index += 1) {
      const code = text.charCodeAt(index);
      if (this.state === 'before') {
        if (isWhitespace(code)) continue;
        if (code !== OPEN_BRACKET) {
          throw new InputFileError(`line ${line.number}: a JSON array file must start with "["`);
        }
        this.state = 'inside';
        segmentStart = index + 1;
        continue;
      }
      if (this.state === 'after') {
        if (isWhitespace(code)) continue;
        // Content after the array is kept and rejected as one record rather than dropped.
        this.state = 'trailing';
        this.elementLine = line.number;
        segmentStart = index;
        break;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (code === BACKSLASH) this.escaped = true;
        else if (code === QUOTE) this.inString = false;
        continue;
      }
      if (code === QUOTE) this.inString = true;
      else if (code === OPEN_BRACE || code === OPEN_BRACKET) this.depth += 1;
      else if ((code === CLOSE_BRACE || code === CLOSE_BRACKET) && this.depth > 0) this.depth -= 1;
      else if (this.depth === 0 && (code === COMMA || code === CLOSE_BRACKET)) {
        this.append(text.slice(segmentStart, index), line);
        const element = this.take();
        if (element) yield element;
        segmentStart = index + 1;
        if (code === CLOSE_BRACKET) this.state = 'after';
        continue;
      }
      if (this.elementLine === 0 && !isWhitespace(code)) this.elementLine = line.number;
    }
    if (this.state === 'inside' || this.state === 'trailing') this.append(text.slice(segmentStart) + '\n', line);
  }

  finish(): Element | undefined {
    if (this.state === 'trailing') {
      const element = this.take();
      return element && { ...element, trailing: true };
    }
    if (this.state === 'inside') {
      const element = this.take();
      return element && { ...element, truncated: true };
    }
    return undefined;
  }

  private append(segment: string, line: Line): void {
    this.parts.push(segment);
    if (line.invalidUtf8 && segment.trim() !== '') this.elementInvalidUtf8 = true;
  }

  private take(): Element | undefined {
    const text = this.parts.join('').trim();
    const element = { text, lineNumber: this.elementLine, invalidUtf8: this.elementInvalidUtf8 };
    this.parts = [];
    this.elementLine = 0;
    this.elementInvalidUtf8 = false;
    // "[]" and a trailing comma leave nothing between separators: no record there.
    return text === '' ? undefined : element;
  }
}

function isWhitespace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13;
}

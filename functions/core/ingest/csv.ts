import { InputFileError } from '../errors.ts';
import type { Line } from './lines.ts';
import { MAX_RECORD_BYTES, oversizedReason } from './oversized.ts';
import type { RawRecord } from './records.ts';

/**
 * RFC 4180 CSV with a header row: quoted fields, doubled quotes, separators and newlines inside
 * quotes, CRLF. Written here rather than taken from csv-parse because csv-parse, after a
 * malformed quote, swallows the records that follow (measured: a bad quote on line 3 lost
 * lines 4-6), and this pipeline must account for every record. A malformed record is reported
 * with its reason and parsing resumes on the next line.
 */
export async function* readCsv(lines: AsyncIterable<readonly Line[]>): AsyncGenerator<RawRecord[]> {
  let header: string[] | undefined;
  let recordNumber = 0;
  const parser = new CsvRecordParser();
  const completed: ParsedCsvRecord[] = [];
  const drain = function* (): Generator<RawRecord> {
    for (const complete of completed.splice(0)) {
      if (complete.error === undefined && complete.text.trim() === '') continue;
      if (header === undefined) {
        // Without a header no record can be read: the file as a whole is bad input.
        if (complete.error) throw new InputFileError(`CSV header on line ${complete.lineNumber}: ${complete.error}`);
        header = complete.fields.map((name) => name.trim());
        parser.expectFields(header.length);
        continue;
      }
      recordNumber += 1;
      yield toRecord(header, complete, recordNumber);
    }
  };
  for await (const batch of lines) {
    const records: RawRecord[] = [];
    for (const line of batch) {
      parser.push(line, completed);
      for (const record of drain()) records.push(record);
    }
    if (records.length > 0) yield records;
  }
  parser.finish(completed);
  const rest = [...drain()];
  if (rest.length > 0) yield rest;
}

/**
 * A quoted field may span lines, but an unterminated quote must not make the parser hold the
 * rest of the file: past this many lines (or MAX_RECORD_BYTES of text) the opening line is
 * rejected alone and parsing restarts on the line after it.
 */
const MAX_LINES_PER_RECORD = 1000;

/** True when the text's UTF-8 form is longer than limit bytes (counted only when it could be). */
const byteLengthOver = (text: string, limit: number) => text.length > limit || (text.length * 3 > limit && Buffer.byteLength(text, 'utf8') > limit);

function toRecord(header: string[], parsed: ParsedCsvRecord, recordNumber: number): RawRecord {
  const base = { recordNumber, lineNumber: parsed.lineNumber, text: parsed.text, typed: false };
  if (parsed.error) return { ...base, parseError: parsed.error };
  if (parsed.fields.length !== header.length) {
    return {
      ...base,
      parseError: `has ${parsed.fields.length} fields but the header has ${header.length}`,
    };
  }
  const value: Record<string, string> = {};
  header.forEach((name, index) => {
    const field = parsed.fields[index]!;
    // An empty CSV cell means "no value", as a missing key does in JSON.
    if (field !== '') value[name] = field;
  });
  return { ...base, value };
}

interface ParsedCsvRecord {
  readonly lineNumber: number;
  readonly text: string;
  readonly fields: string[];
  readonly error?: string;
}

/** Accumulates physical lines until they form one CSV record. */
class CsvRecordParser {
  private pendingLines: Line[] = [];
  private expectedFields: number | undefined;

  /** Once the header is known, a record spanning lines must have as many fields to be trusted. */
  expectFields(count: number): void {
    this.expectedFields = count;
  }

  push(line: Line, out: ParsedCsvRecord[]): void {
    if (line.oversized) {
      // Nothing can continue across it: what was open is rejected as at the end of the file.
      this.finish(out);
      out.push({ lineNumber: line.number, text: line.text, fields: [], error: oversizedReason('line', line.oversized) });
      return;
    }
    this.pendingLines.push(line);
    const text = this.pendingLines.map((pending) => pending.text).join('\n');
    const parsed = parseFields(text);
    if (!parsed.openQuote) {
      // A stray quote can open a "field" that a later line's quote closes, gluing good records
      // into one bad one: a multi-line record that does not come out right is not trusted,
      // only its opening line is rejected and the lines after it are read again.
      const suspicious =
        this.pendingLines.length > 1 &&
        (parsed.error !== undefined ||
          (this.expectedFields !== undefined && parsed.fields.length !== this.expectedFields) ||
          byteLengthOver(text, MAX_RECORD_BYTES));
      if (suspicious) this.rejectOpeningLine(out);
      else out.push(this.complete(this.pendingLines.length, text, parsed));
      return;
    }
    if (this.pendingLines.length > MAX_LINES_PER_RECORD || byteLengthOver(text, MAX_RECORD_BYTES)) this.rejectOpeningLine(out);
  }

  finish(out: ParsedCsvRecord[]): void {
    while (this.pendingLines.length > 0) this.rejectOpeningLine(out);
  }

  /** Rejects the line that opened an unterminated quote, then re-reads the lines after it. */
  private rejectOpeningLine(out: ParsedCsvRecord[]): void {
    const [opening, ...rest] = this.pendingLines;
    this.pendingLines = [];
    out.push({
      lineNumber: opening!.number,
      text: opening!.text,
      fields: [],
      error: `unterminated quoted field starting on line ${opening!.number}`,
    });
    for (const line of rest) this.push(line, out);
  }

  private complete(lineCount: number, text: string, parsed: FieldParse): ParsedCsvRecord {
    const lines = this.pendingLines.slice(0, lineCount);
    this.pendingLines = [];
    const lineNumber = lines[0]!.number;
    const badLine = lines.find((pending) => pending.invalidUtf8);
    if (badLine) return { lineNumber, text, fields: [], error: `not valid UTF-8 (line ${badLine.number})` };
    if (parsed.error) return { lineNumber, text, fields: [], error: parsed.error };
    return { lineNumber, text, fields: parsed.fields };
  }
}

interface FieldParse {
  fields: string[];
  openQuote: boolean;
  error?: string;
}

const QUOTE = 34;
const COMMA = 44;

function parseFields(text: string): FieldParse {
  const fields: string[] = [];
  let index = 0;
  let error: string | undefined;
  for (;;) {
    if (text.charCodeAt(index) === QUOTE) {
      let value = '';
      let cursor = index + 1;
      for (;;) {
        const close = text.indexOf('"', cursor);
        if (close < 0) return { fields, openQuote: true };
        value += text.slice(cursor, close);
        if (text.charCodeAt(close + 1) === QUOTE) {
          value += '"';
          cursor = close + 2;
          continue;
        }
        index = close + 1;
        break;
      }
      fields.push(value);
      if (index >= text.length) break;
      if (text.charCodeAt(index) !== COMMA) {
        error ??= `unexpected character ${JSON.stringify(text[index])} after a closing quote in field ${fields.length}`;
        // Skip to the next separator so the rest of the record is still split consistently.
        const next = text.indexOf(',', index);
        if (next < 0) break;
        index = next + 1;
        continue;
      }
      index += 1;
      if (index === text.length) {
        fields.push('');
        break;
      }
      continue;
    }
    const next = text.indexOf(',', index);
    if (next < 0) {
      fields.push(text.slice(index));
      break;
    }
    fields.push(text.slice(index, next));
    index = next + 1;
    if (index === text.length) {
      fields.push('');
      break;
    }
  }
  return error === undefined ? { fields, openQuote: false } : { fields, openQuote: false, error };
}

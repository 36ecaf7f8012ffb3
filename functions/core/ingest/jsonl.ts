import type { Line } from './lines.ts';
import { oversizedReason } from './oversized.ts';
import type { RawRecord } from './records.ts';

/** True for a line that holds no record (blank lines are skipped, not refused). */
export const isBlankLine = (text: string) => text.trim() === '';

/** The records of some lines of a JSON Lines file, numbered from `firstRecordNumber`. */
export function recordsOfLines(lines: readonly Line[], firstRecordNumber: number): RawRecord[] {
  const records: RawRecord[] = [];
  let recordNumber = firstRecordNumber;
  for (const line of lines) {
    const record = recordOfLine(line, recordNumber);
    if (record) {
      records.push(record);
      recordNumber += 1;
    }
  }
  return records;
}

/** The record on a line, numbered `recordNumber`; none for a blank line. */
export function recordOfLine(line: Line, recordNumber: number): RawRecord | undefined {
  // A line over the limit is refused even if it is all spaces: nothing that large passes unnoticed.
  if (!line.oversized && isBlankLine(line.text)) return undefined;
  if (line.oversized) return { recordNumber, lineNumber: line.number, text: line.text, typed: true, parseError: oversizedReason('line', line.oversized) };
  if (line.invalidUtf8) return { recordNumber, lineNumber: line.number, text: line.text, typed: true, parseError: 'not valid UTF-8' };
  try {
    return { recordNumber, lineNumber: line.number, text: line.text, typed: true, value: JSON.parse(line.text) };
  } catch (error) {
    return { recordNumber, lineNumber: line.number, text: line.text, typed: true, parseError: `invalid JSON: ${(error as Error).message}` };
  }
}

/** JSON Lines: one JSON value per line; blank lines are not records. */
export async function* readJsonLines(lines: AsyncIterable<readonly Line[]>): AsyncGenerator<RawRecord[]> {
  let recordNumber = 0;
  for await (const batch of lines) {
    const records = recordsOfLines(batch, recordNumber + 1);
    recordNumber += records.length;
    if (records.length > 0) yield records;
  }
}

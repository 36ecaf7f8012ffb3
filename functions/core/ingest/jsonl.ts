import type { Line } from './lines.ts';
import { oversizedReason } from './oversized.ts';
import type { RawRecord } from './records.ts';

/** True for a line that holds no record (blank lines are skipped, not refused). */
export const isBlankLine = (text: string) => text.trim() === '';

/** The records of some lines of a JSON Lines file, numbered from `firstRecordNumber`. */
export function recordsOfLines(lines: readonly Line[], firstRecordNumber: number): RawRecord[] {
  const records: RawRecord[] = [];
  let recordNumber = firstRecordNumber - 1;
  for (const line of lines) {
    // A line over the limit is refused even if it is all spaces: nothing that large passes unnoticed.
    if (!line.oversized && isBlankLine(line.text)) continue;
    recordNumber += 1;
    if (line.oversized) {
      records.push({ recordNumber, lineNumber: line.number, text: line.text, typed: true, parseError: oversizedReason('line', line.oversized) });
      continue;
    }
    if (line.invalidUtf8) {
      records.push({ recordNumber, lineNumber: line.number, text: line.text, typed: true, parseError: 'not valid UTF-8' });
      continue;
    }
    try {
      records.push({ recordNumber, lineNumber: line.number, text: line.text, typed: true, value: JSON.parse(line.text) });
    } catch (error) {
      records.push({ recordNumber, lineNumber: line.number, text: line.text, typed: true, parseError: `invalid JSON: ${(error as Error).message}` });
    }
  }
  return records;
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

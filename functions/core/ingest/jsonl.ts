import type { Line } from './lines.ts';
import type { RawRecord } from './records.ts';

/** JSON Lines: one JSON value per line; blank lines are not records. */
export async function* readJsonLines(lines: AsyncIterable<readonly Line[]>): AsyncGenerator<RawRecord[]> {
  let recordNumber = 0;
  for await (const batch of lines) {
    const records: RawRecord[] = [];
    for (const line of batch) {
      if (line.text.trim() === '') continue;
      recordNumber += 1;
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
    if (records.length > 0) yield records;
  }
}

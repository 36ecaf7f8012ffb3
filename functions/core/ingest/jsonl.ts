import type { Line } from './lines.ts';
import type { RawRecord } from './records.ts';

/** JSON Lines: one JSON value per line; blank lines are not records. */
export async function* readJsonLines(lines: AsyncIterable<Line>): AsyncGenerator<RawRecord> {
  let recordNumber = 0;
  for await (const line of lines) {
    if (line.text.trim() === '') continue;
    recordNumber += 1;
    const base = { recordNumber, lineNumber: line.number, text: line.text, typed: true };
    if (line.invalidUtf8) {
      yield { ...base, parseError: 'not valid UTF-8' };
      continue;
    }
    try {
      yield { ...base, value: JSON.parse(line.text) };
    } catch (error) {
      yield { ...base, parseError: `invalid JSON: ${(error as Error).message}` };
    }
  }
}

import { gunzipSync, gzipSync } from 'node:zlib';
import { formatFromName, recordsFromStream } from '../ingest/open-input.ts';
import type { IdMatcher } from './mentions.ts';

async function* oneChunk(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

const isGzip = (bytes: Uint8Array) => bytes[0] === 0x1f && bytes[1] === 0x8b;

/**
 * An input file kept under landing/ (JSON Lines, CSV or a JSON array, gzip or not) without the
 * records that name any of the ids: the same format and compression, every other record's
 * text as it was. Records are found as ingest reads them, so a CSV record whose quoted field
 * spans lines goes whole. Returns how many records were removed and the new bytes, or null
 * bytes when nothing but a header (or nothing) is left.
 */
export async function withoutMentions(name: string, bytes: Uint8Array, matcher: IdMatcher): Promise<{ removed: number; bytes: Uint8Array | null }> {
  const gzip = isGzip(bytes);
  const plain = gzip ? gunzipSync(bytes) : bytes;
  const text = new TextDecoder().decode(plain);
  if (!matcher.mentionsAny(text)) return { removed: 0, bytes };
  const kept =
    (formatFromName(name) ?? (text.trimStart().startsWith('[') ? 'json' : 'jsonl')) === 'json'
      ? withoutArrayElements(text, matcher)
      : await withoutLineRecords(name, plain, text, matcher);
  const body = kept.text === undefined ? null : new TextEncoder().encode(kept.text);
  return { removed: kept.removed, bytes: body === null ? null : gzip ? gzipSync(body) : body };
}

/** A JSON array without its elements that name an id (it is read whole: such files are small). */
function withoutArrayElements(text: string, matcher: IdMatcher): { removed: number; text?: string } {
  const elements = JSON.parse(text.replace(/^\uFEFF/, '')) as unknown[];
  const kept = elements.filter((element) => !matcher.mentionsAny(JSON.stringify(element)));
  const removed = elements.length - kept.length;
  return kept.length === 0 ? { removed } : { removed, text: `[\n${kept.map((element) => JSON.stringify(element)).join(',\n')}\n]\n` };
}

/**
 * JSON Lines or CSV without the records that name an id: each record owns the physical lines
 * from the one it starts on to the next record's first line (blank lines included), and the
 * lines before the first record (a CSV header) stay.
 */
async function withoutLineRecords(name: string, plain: Uint8Array, text: string, matcher: IdMatcher): Promise<{ removed: number; text?: string }> {
  const starts: { line: number; mentions: boolean }[] = [];
  for await (const batch of recordsFromStream(name, oneChunk(plain)))
    for (const record of batch) starts.push({ line: record.lineNumber, mentions: matcher.mentionsAny(record.text) });
  const lines = text.split('\n');
  const drop = new Uint8Array(lines.length);
  starts.forEach(({ line, mentions }, index) => {
    if (!mentions) return;
    const end = index + 1 < starts.length ? starts[index + 1]!.line : lines.length + 1;
    for (let number = line; number < end; number += 1) drop[number - 1] = 1;
  });
  const removed = starts.filter((start) => start.mentions).length;
  const kept = lines.filter((_, index) => drop[index] === 0);
  if (removed === starts.length) return { removed };
  const body = kept.join('\n');
  return { removed, text: text.endsWith('\n') && !body.endsWith('\n') ? `${body}\n` : body };
}

import { gunzipSync, gzipSync } from 'node:zlib';
import { formatFromName, recordsFromStream } from '../ingest/open-input.ts';
import type { RawRecord } from '../ingest/records.ts';
import { namesCustomer } from './mentions.ts';
import type { IdMatcher } from './mentions.ts';

async function* oneChunk(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

const isGzip = (bytes: Uint8Array) => bytes[0] === 0x1f && bytes[1] === 0x8b;
const BYTE_ORDER_MARK = '\uFEFF';

/** A record names a customer by its fields when ingest could read it (JSON or CSV), else by the id anywhere in its text. */
const recordNamesAny = (record: RawRecord, ids: ReadonlySet<string>, matcher: IdMatcher) =>
  record.value !== undefined ? namesCustomer(record.value, ids) : matcher.mentionsAny(record.text);

/**
 * An input file kept under landing/ (JSON Lines, CSV or a JSON array, gzip or not) without the
 * records that name any of the ids: the same format and compression, every other record's
 * text as received. Records are read as ingest reads them, so a CSV record whose quoted field
 * spans lines goes whole. Returns how many records were removed and the new bytes (null when
 * no record is left). Throws when the file cannot be read through (a truncated gzip).
 */
export async function withoutMentions(
  name: string,
  bytes: Uint8Array,
  ids: ReadonlySet<string>,
  matcher: IdMatcher,
): Promise<{ removed: number; bytes: Uint8Array | null }> {
  const gzip = isGzip(bytes);
  const plain = gzip ? gunzipSync(bytes) : bytes;
  const text = new TextDecoder().decode(plain);
  // Quick way out: a file that does not even contain the ids' text names none of them.
  if (!matcher.mentionsAny(text)) return { removed: 0, bytes };
  const records: RawRecord[] = [];
  for await (const batch of recordsFromStream(name, oneChunk(plain))) records.push(...batch);
  const names = records.map((record) => recordNamesAny(record, ids, matcher));
  const removed = names.filter(Boolean).length;
  if (removed === 0) return { removed: 0, bytes };
  if (removed === records.length) return { removed, bytes: null };
  const array = (formatFromName(name) ?? (text.replace(BYTE_ORDER_MARK, '').trimStart().startsWith('[') ? 'json' : 'jsonl')) === 'json';
  const kept = array ? withoutArrayElements(text, records, names) : withoutLineRecords(text, records, names);
  const body = new TextEncoder().encode(kept);
  return { removed, bytes: gzip ? gzipSync(body) : body };
}

/** A JSON array of the kept elements, each as received. */
function withoutArrayElements(text: string, records: readonly RawRecord[], names: readonly boolean[]): string {
  const bom = text.startsWith(BYTE_ORDER_MARK) ? BYTE_ORDER_MARK : '';
  return `${bom}[\n${records
    .filter((_, index) => !names[index])
    .map((record) => record.text)
    .join(',\n')}\n]\n`;
}

/**
 * JSON Lines or CSV without the records that name an id: each record owns the physical lines
 * from the one it starts on to the next record's first line (blank lines included), and the
 * lines before the first record (a CSV header) stay.
 */
function withoutLineRecords(text: string, records: readonly RawRecord[], names: readonly boolean[]): string {
  const lines = text.split('\n');
  const drop = new Uint8Array(lines.length);
  records.forEach((record, index) => {
    if (!names[index]) return;
    const end = index + 1 < records.length ? records[index + 1]!.lineNumber : lines.length + 1;
    for (let number = record.lineNumber; number < end; number += 1) drop[number - 1] = 1;
  });
  const body = lines.filter((_, index) => drop[index] === 0).join('\n');
  return text.endsWith('\n') && !body.endsWith('\n') ? `${body}\n` : body;
}

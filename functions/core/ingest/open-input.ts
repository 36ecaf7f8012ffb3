import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { open, stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { InputFileError } from '../errors.ts';
import { readCsv } from './csv.ts';
import { readJsonArray } from './json-array.ts';
import { readJsonLines } from './jsonl.ts';
import { splitLines } from './lines.ts';
import type { InputFormat, RawRecord, RecordBatches } from './records.ts';

const GZIP_MAGIC = [0x1f, 0x8b];

/**
 * The format a file is read as: the explicit one if given, else its extension (.csv, .jsonl,
 * .ndjson, .json, each optionally .gz), else its first character ("[" means a JSON array).
 */
export function formatFromName(name: string): InputFormat | undefined {
  const base = name.toLowerCase().replace(/\.gz$/, '');
  if (base.endsWith('.csv')) return 'csv';
  if (base.endsWith('.jsonl') || base.endsWith('.ndjson')) return 'jsonl';
  return undefined;
}

/** Fails with a clear InputFileError unless `path` is a readable regular file. */
export async function assertReadableFile(path: string): Promise<void> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new InputFileError(`cannot read ${path}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
  });
  if (!info.isFile()) throw new InputFileError(`cannot read ${path}: not a file`);
}

/** Reads the first bytes of a file to tell gzip from plain and a JSON array from JSON Lines. */
async function sniff(path: string): Promise<{ gzip: boolean; firstChar?: string }> {
  await assertReadableFile(path);
  const handle = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
    throw new InputFileError(`cannot read ${path}: ${error.message}`);
  });
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(4096), 0, 4096, 0);
    const gzip = bytesRead >= 2 && buffer[0] === GZIP_MAGIC[0] && buffer[1] === GZIP_MAGIC[1];
    const text = gzip
      ? ''
      : buffer
          .subarray(0, bytesRead)
          .toString('utf8')
          .replace(/^\uFEFF/, '');
    const firstChar = text.trimStart()[0];
    return firstChar === undefined ? { gzip } : { gzip, firstChar };
  } finally {
    await handle.close();
  }
}

/** The decompressed bytes of a file, streamed. */
function byteStream(path: string, gzip: boolean): AsyncIterable<Uint8Array> {
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  if (!gzip) return file;
  const gunzip = createGunzip();
  file.on('error', (error) => gunzip.destroy(error));
  return file.pipe(gunzip);
}

/** Peeks at the first non-blank character of a decompressed stream without losing bytes. */
async function* peekFirstChar(source: AsyncIterable<Uint8Array>, onFirstChar: (char: string | undefined) => void): AsyncGenerator<Uint8Array> {
  let seen = false;
  for await (const chunk of source) {
    if (!seen) {
      const first = Buffer.from(chunk)
        .toString('utf8')
        .replace(/^\uFEFF/, '')
        .trimStart()[0];
      if (first !== undefined) {
        seen = true;
        onFirstChar(first);
      }
    }
    yield chunk;
  }
  if (!seen) onFirstChar(undefined);
}

/** True when the file would be read as uncompressed JSON Lines: the kind a parallel ingest can split. */
export async function isPlainJsonLines(path: string, format?: InputFormat): Promise<boolean> {
  const { gzip, firstChar } = await sniff(path);
  const resolved = format ?? formatFromName(path) ?? (gzip ? undefined : firstChar === '[' ? 'json' : 'jsonl');
  return !gzip && resolved === 'jsonl';
}

/** Opens an input file as a stream of raw records, whatever its format and compression. */
export async function openRecords(path: string, format?: InputFormat): Promise<RecordBatches> {
  const { gzip, firstChar } = await sniff(path);
  const resolved = format ?? formatFromName(path);
  if (resolved !== undefined) return recordsOf(resolved, byteStream(path, gzip));
  if (!gzip) return recordsOf(firstChar === '[' ? 'json' : 'jsonl', byteStream(path, gzip));
  // Compressed and named neither .csv nor .jsonl: decide from the first decompressed character.
  return sniffedRecords(byteStream(path, gzip));
}

async function* sniffedRecords(bytes: AsyncIterable<Uint8Array>): AsyncGenerator<readonly RawRecord[]> {
  let first: string | undefined;
  const iterator = peekFirstChar(bytes, (char) => (first = char))[Symbol.asyncIterator]();
  const head = await iterator.next();
  const rest: AsyncIterable<Uint8Array> = {
    async *[Symbol.asyncIterator]() {
      if (!head.done) yield head.value;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value;
      }
    },
  };
  yield* recordsOf(first === '[' ? 'json' : 'jsonl', rest);
}

/** Passes bytes through, decompressing them first when they start with the gzip magic bytes. */
async function* decompressIfGzip(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const iterator = source[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return;
  const rest: AsyncIterable<Uint8Array> = {
    async *[Symbol.asyncIterator]() {
      yield first.value;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value;
      }
    },
  };
  const head = first.value;
  if (head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1]) yield* Readable.from(rest).pipe(createGunzip());
  else yield* rest;
}

/**
 * Records from a byte stream named `name` (an S3 key, say): gzip is detected from the bytes,
 * the format from the name or, failing that, from the first character.
 */
export function recordsFromStream(name: string, source: AsyncIterable<Uint8Array>, format?: InputFormat): RecordBatches {
  const bytes = decompressIfGzip(source);
  const resolved = format ?? formatFromName(name);
  return resolved === undefined ? sniffedRecords(bytes) : recordsOf(resolved, bytes);
}

/** Parses a byte stream in the given format. */
export function recordsOf(format: InputFormat, bytes: AsyncIterable<Uint8Array>): RecordBatches {
  switch (format) {
    case 'csv':
      return readCsv(splitLines(bytes));
    case 'json':
      // Arrays are split on bytes, not lines: a minified array is one line of any length.
      return readJsonArray(bytes);
    case 'jsonl':
      return readJsonLines(splitLines(bytes));
  }
}

import { createHash, type Hash } from 'node:crypto';

/**
 * The largest record read, in bytes. Far above any real order or survey event (SQS caps a
 * message at 1 MiB too); without a cap one runaway line (a file with no newlines, a blob
 * pasted into a field) would have to be held whole, and memory would grow with the input.
 */
export const MAX_RECORD_BYTES = 1024 * 1024;

/** How much of a record over the limit is kept, verbatim, with its rejection. */
export const KEPT_PREFIX_BYTES = 64 * 1024;

/** What is known of a record over the limit: its size, its digest and its first bytes. */
export interface OversizedRecord {
  readonly bytes: number;
  /** SHA-256 of all its bytes, to find and check it in the source. */
  readonly sha256: string;
  readonly prefix: Uint8Array;
}

/** Takes a record's bytes as they stream by, keeping only the prefix and a running digest. */
export class OversizedAccumulator {
  private readonly hash: Hash = createHash('sha256');
  private readonly kept: Uint8Array[] = [];
  private keptBytes = 0;
  private total = 0;

  add(bytes: Uint8Array): void {
    this.hash.update(bytes);
    this.total += bytes.length;
    if (this.keptBytes < KEPT_PREFIX_BYTES) {
      // A copy (Buffer#slice would be a view): the prefix must not pin the (much larger) chunk it was cut from.
      const piece = new Uint8Array(bytes.subarray(0, KEPT_PREFIX_BYTES - this.keptBytes));
      this.kept.push(piece);
      this.keptBytes += piece.length;
    }
  }

  finish(): OversizedRecord {
    const prefix = new Uint8Array(this.keptBytes);
    let offset = 0;
    for (const piece of this.kept) {
      prefix.set(piece, offset);
      offset += piece.length;
    }
    return { bytes: this.total, sha256: this.hash.digest('hex'), prefix };
  }
}

/** The whole record at once, for one that sits inside a single block. */
export function oversizedRecordOf(bytes: Uint8Array): OversizedRecord {
  const accumulator = new OversizedAccumulator();
  accumulator.add(bytes);
  return accumulator.finish();
}

const lenientDecoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** The kept prefix as text (a character cut at the edge shows as U+FFFD). */
export const prefixText = (record: OversizedRecord) => lenientDecoder.decode(record.prefix);

/** The rejection reason: the limit, the size, what was kept and how to find the rest. */
export function oversizedReason(what: 'line' | 'record' | 'element', record: OversizedRecord): string {
  return (
    `${what} is ${record.bytes.toLocaleString('en-US')} bytes, over the ${MAX_RECORD_BYTES.toLocaleString('en-US')}-byte limit ` +
    `for one record; its first ${record.prefix.length.toLocaleString('en-US')} bytes are kept (sha256 of all of it: ${record.sha256})`
  );
}

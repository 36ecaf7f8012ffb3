import { DEFAULT_EARLIEST_EVENT_DATE, earliestEventMs } from '../events/timestamps.ts';
import { batchIdentity, BatchWriter, Rejections, RowBuffer } from './batch-output.ts';
import { countDelivery, decideDelivery, fingerprintOf, FirstDeliveries } from './deliveries.ts';
import { ErasedCustomers } from '../erasure/register.ts';
import { screenRecord } from '../erasure/screen.ts';
import { DEFAULT_ROWS_PER_FLUSH, newCounts } from './ingest-types.ts';
import type { IngestOptions, IngestResult } from './ingest-types.ts';
import type { RecordBatches } from './records.ts';

/**
 * Validates records, drops exact duplicates within the batch, writes accepted rows as ZSTD
 * Parquet under raw/<type>/dt=<received date>/ and every refused record, verbatim and with its
 * reason, under rejected/<type>/dt=<received date>/ (the UTC date the batch was received).
 * Nothing received goes unaccounted: received = accepted + rejected.
 */
export async function ingestRecords(records: RecordBatches, options: IngestOptions): Promise<IngestResult> {
  const batch = batchIdentity(options);
  const rowsPerFlush = options.rowsPerFlush ?? DEFAULT_ROWS_PER_FLUSH;
  const progressEvery = options.progressEvery ?? 100_000;
  const counts = newCounts();
  const writer = new BatchWriter(options.store, batch);
  const rows = new RowBuffer(batch);
  const rejections = new Rejections(batch);
  const reject = (record: Parameters<Rejections['add']>[0], reason: string) => {
    counts.rejected += 1;
    rejections.add(record, reason);
  };
  const seen = new FirstDeliveries();
  const earliestMs = earliestEventMs(options.earliestEventDate ?? DEFAULT_EARLIEST_EVENT_DATE);
  const erased = options.erased ?? (await ErasedCustomers.load(options.store));
  let lastRecord = { recordNumber: 0, lineNumber: 0 };

  try {
    for await (const chunk of records)
      for (const record of chunk) {
        counts.received += 1;
        lastRecord = record;
        const { validation, keepPayload } = screenRecord(batch.eventType, record, earliestMs, erased);
        const refused = keepPayload ? record : { ...record, text: null };
        if (!validation.ok) {
          reject(refused, validation.reason);
        } else {
          const row = validation.row;
          const verdict = decideDelivery(seen, row.event_id, fingerprintOf(row), record.lineNumber);
          countDelivery(counts, verdict);
          if (verdict.kind === 'first') rows.append(row, record.recordNumber);
          else if (verdict.kind === 'conflict') reject(refused, verdict.reason);
        }
        if (rows.size >= rowsPerFlush) await writer.putRawFiles(rows.drain());
        if (rejections.full) await rejections.flush(writer);
        if (counts.received % progressEvery === 0) options.onProgress?.({ ...counts });
      }
  } catch (error) {
    // A damaged compressed stream is bad input, not a system failure: the unreadable tail is
    // kept as one rejected record so that what was received is still accounted for.
    if (!isCorruptCompression(error)) throw error;
    counts.received += 1;
    reject(
      { recordNumber: lastRecord.recordNumber + 1, lineNumber: lastRecord.lineNumber + 1, text: '' },
      `input ended unexpectedly: ${(error as Error).message}`,
    );
  }
  await writer.putRawFiles(rows.drain());
  await rejections.flush(writer);
  options.onProgress?.({ ...counts });
  return { ...counts, ingestId: batch.ingestId, keys: writer.keys, sampleRejections: rejections.sample };
}

function isCorruptCompression(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}

import type { EventType } from '../events/schemas.ts';

export const CURATED_FILE = 'data.parquet';

/** part-<batch>-<n>: the files of one batch sort together, in the order they were written. */
const batchFileName = (ingestId: string, n: number) => `part-${ingestId}-${String(n).padStart(4, '0')}`;

/**
 * Where things live in the lake. The same keys are used in the local directory and in the S3
 * bucket, so a lake can move between the two unchanged.
 */
export const lakeLayout = {
  /**
   * Prefix of one raw partition: the UTC date the batch was received, as for refused records.
   * Not the event's own date, which would spread one backfill over a file per day it touches.
   */
  rawPartition: (type: EventType, date: string) => `raw/${type}/dt=${date}/`,
  /** Prefix of one rejected-records partition, by the date the records were received ('unknown': a message without a known event_type). */
  rejectedPartition: (type: EventType | 'unknown', date: string) => `rejected/${type}/dt=${date}/`,
  /** The n-th file an ingest batch writes to its raw partition: every writer names its files so. */
  rawFile: (type: EventType, receivedDate: string, ingestId: string, n: number) => `raw/${type}/dt=${receivedDate}/${batchFileName(ingestId, n)}.parquet`,
  /** The n-th file of refused records an ingest batch writes. */
  rejectedFile: (type: EventType | 'unknown', receivedDate: string, ingestId: string, n: number) =>
    `rejected/${type}/dt=${receivedDate}/${batchFileName(ingestId, n)}.jsonl`,
  /** Prefix of one curated table partition. */
  curatedPartition: (table: string, asOf: string) => `curated/${table}/as_of=${asOf}/`,
  /**
   * The one file of a curated partition, replaced whole by every run of its as_of: a single
   * object is the only thing a store can swap at once, so readers see the old table or the new.
   */
  curatedFile: (table: string, asOf: string) => `curated/${table}/as_of=${asOf}/${CURATED_FILE}`,
  curatedTable: (table: string) => `curated/${table}/`,
  rawTable: (type: EventType) => `raw/${type}/`,
  rejected: 'rejected/',
  landing: 'landing/',
  /** The log of campaign messages sent, per as_of: what makes publishing idempotent. */
  publishedPartition: (asOf: string) => `published/campaigns/as_of=${asOf}/`,
  published: 'published/campaigns/',
  /** Leases (lake/lease.ts): who runs or publishes now. */
  locks: 'locks/',
  /** The local sink: campaign messages as JSON Lines, per as_of. */
  outboxPartition: (asOf: string) => `outbox/campaigns/as_of=${asOf}/`,
  outbox: 'outbox/',
  curated: 'curated/',
  /** HTML reports, per as_of (reports/as_of=DATE/report.html). */
  reports: 'reports/',
  erasures: 'erasures/',
  /** The lake's secret key for the erasure register's keyed ids (erasure/register.ts). */
  erasureKey: 'erasures/key',
  /** The erasure register: one object per erasure request. */
  erasureRegister: 'erasures/register/',
  erasureRequest: (requestId: string) => `erasures/register/${requestId}.json`,
} as const;

/** A unique, time-ordered id for one ingest batch or run: 20261122T053300123Z-k3j9x2. */
export function newBatchId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:.]/g, '');
  const random = Math.random().toString(36).slice(2, 8).padEnd(6, '0');
  return `${stamp}-${random}`;
}

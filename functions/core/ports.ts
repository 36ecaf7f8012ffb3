import type { CampaignMessage } from './campaigns/message.ts';

/**
 * The ports the core talks through. Adapters live in functions/adapters: a filesystem store
 * and DuckDB locally; S3 and Athena in AWS. The core never imports a client directly.
 */

/** A key-value object store with the lake's key layout ("raw/orders/dt=2024-01-31/part-x.parquet"). */
export interface ObjectStore {
  /**
   * Writes an object whole or not at all: readers never see a partial object. Metadata is kept
   * with the object where the store can (S3 user metadata); a directory has none.
   */
  put(key: string, body: Uint8Array | string, metadata?: Readonly<Record<string, string>>): Promise<void>;
  /** Reads an object; rejects when it does not exist. */
  get(key: string): Promise<Uint8Array>;
  /** Keys under a prefix, sorted; temporary objects of in-flight writes are never listed. */
  list(prefix: string): Promise<string[]>;
  /** Deletes objects; keys that do not exist are ignored. */
  delete(keys: readonly string[]): Promise<void>;
  /**
   * Creates an object only if no object has its key: true when this call created it, false
   * when the key existed. Of concurrent calls for one key, exactly one creates it (S3's
   * conditional write, an exclusive link on a filesystem): the base of leases (lake/lease.ts).
   * After a lost reply and a retry a creator may be told false; a lease reads the object back.
   */
  putIfAbsent(key: string, body: Uint8Array | string): Promise<boolean>;
}

/** A column of a query result. */
export interface ResultColumn {
  readonly name: string;
  readonly type: string;
}

/** A small query result, for summaries, checks and the `query` command. */
export interface QueryResult {
  readonly columns: readonly ResultColumn[];
  /** Rows as JSON-safe values: numbers, strings (dates, timestamps, big integers), booleans, null. */
  readonly rows: readonly (readonly unknown[])[];
}

/** A SQL engine over the lake's tables. */
export interface QueryEngine {
  /** Runs a statement whose result is not needed. */
  execute(sql: string): Promise<void>;
  /** Runs a query and returns its rows. */
  query(sql: string): Promise<QueryResult>;
  /** Releases the engine. */
  close(): void;
}

/** What a sink did with a batch: every message is either delivered or failed with a reason. */
export interface SinkOutcome {
  readonly delivered: readonly string[];
  readonly failed: readonly { readonly messageId: string; readonly reason: string }[];
}

/**
 * Where campaign messages go: the outbox locally, an SQS queue in AWS. A sink reports
 * per-message outcomes; it throws only when it cannot tell what happened (the queue is gone,
 * credentials are wrong), and then nothing it did is recorded as sent.
 */
export interface MessageSink {
  /** Short name recorded with every message sent ("outbox", "sqs"). */
  readonly name: string;
  send(messages: readonly CampaignMessage[]): Promise<SinkOutcome>;
}

/** A query result as one object per row, keyed by column name. */
export function rowObjects(result: QueryResult): Record<string, unknown>[] {
  return result.rows.map((row) => Object.fromEntries(result.columns.map((column, index) => [column.name, row[index]])));
}

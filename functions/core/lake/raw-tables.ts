import type { EventType } from '../events/schemas.ts';
import type { ColumnSpec } from './parquet.ts';

/**
 * Columns of the raw event tables. The event's own fields come first, then where the record
 * came from: a later delivery of the same event_id loses to the first one received.
 */
const deliveryColumns: ColumnSpec[] = [
  { name: 'received_at', kind: 'timestamp', nullable: false },
  { name: 'ingest_id', kind: 'string', nullable: false },
  { name: 'source', kind: 'string', nullable: false },
  { name: 'record_number', kind: 'int32', nullable: false },
];

export const rawColumns: Record<EventType, readonly ColumnSpec[]> = {
  orders: [
    { name: 'event_id', kind: 'string', nullable: false },
    { name: 'order_id', kind: 'string', nullable: false },
    { name: 'customer_id', kind: 'string', nullable: false },
    { name: 'occurred_at', kind: 'timestamp', nullable: false },
    { name: 'status', kind: 'string', nullable: false },
    { name: 'total', kind: 'float64', nullable: false },
    { name: 'currency', kind: 'string', nullable: false },
    { name: 'refunded_amount', kind: 'float64', nullable: true },
    { name: 'channel', kind: 'string', nullable: true },
    { name: 'items', kind: 'string', nullable: true },
    { name: 'referred_by', kind: 'string', nullable: true },
    { name: 'extras', kind: 'string', nullable: true },
    ...deliveryColumns,
  ],
  surveys: [
    { name: 'event_id', kind: 'string', nullable: false },
    { name: 'customer_id', kind: 'string', nullable: false },
    { name: 'occurred_at', kind: 'timestamp', nullable: false },
    { name: 'score', kind: 'int32', nullable: false },
    { name: 'survey_id', kind: 'string', nullable: true },
    { name: 'comment', kind: 'string', nullable: true },
    { name: 'channel', kind: 'string', nullable: true },
    { name: 'extras', kind: 'string', nullable: true },
    ...deliveryColumns,
  ],
  spend: [
    { name: 'event_id', kind: 'string', nullable: false },
    { name: 'occurred_at', kind: 'timestamp', nullable: false },
    { name: 'spend_date', kind: 'date', nullable: false },
    { name: 'channel', kind: 'string', nullable: false },
    { name: 'campaign', kind: 'string', nullable: true },
    { name: 'amount', kind: 'float64', nullable: false },
    { name: 'currency', kind: 'string', nullable: false },
    { name: 'replaces', kind: 'string', nullable: true },
    { name: 'extras', kind: 'string', nullable: true },
    ...deliveryColumns,
  ],
  fx_rates: [
    { name: 'event_id', kind: 'string', nullable: false },
    { name: 'occurred_at', kind: 'timestamp', nullable: false },
    { name: 'rate_date', kind: 'date', nullable: false },
    { name: 'currency', kind: 'string', nullable: false },
    { name: 'rate', kind: 'float64', nullable: false },
    { name: 'extras', kind: 'string', nullable: true },
    ...deliveryColumns,
  ],
};

/** SQL types of the raw columns, for declaring empty tables before any data arrives. */
export const SQL_TYPE_OF_KIND = {
  string: 'varchar',
  float64: 'double',
  int32: 'integer',
  timestamp: 'timestamp with time zone',
  boolean: 'boolean',
  date: 'date',
} as const;

/** Columns of a rejected record as stored (JSON Lines) and as the `rejected_events` table. */
export const rejectedColumns = [
  { name: 'event_type', sqlType: 'varchar' },
  { name: 'reason', sqlType: 'varchar' },
  { name: 'payload', sqlType: 'varchar' },
  { name: 'received_at', sqlType: 'timestamp with time zone' },
  { name: 'ingest_id', sqlType: 'varchar' },
  { name: 'source', sqlType: 'varchar' },
  { name: 'record_number', sqlType: 'bigint' },
  { name: 'line_number', sqlType: 'bigint' },
] as const;

export interface RejectedRecord {
  event_type: EventType;
  reason: string;
  /** The record as received; null for a record of an erased customer (docs/erasure.md). */
  payload: string | null;
  received_at: string;
  ingest_id: string;
  source: string;
  record_number: number;
  line_number: number;
}

/**
 * Columns of a published-message log line and of the `published_messages` table: every
 * audience member of a send, messaged (`is_holdout` false) or deliberately held out (true).
 */
export const publishedColumns = [
  { name: 'message_id', sqlType: 'varchar' },
  { name: 'campaign', sqlType: 'varchar' },
  { name: 'customer_id', sqlType: 'varchar' },
  { name: 'as_of', sqlType: 'date' },
  { name: 'priority', sqlType: 'integer' },
  { name: 'sink', sqlType: 'varchar' },
  { name: 'published_at', sqlType: 'timestamp with time zone' },
  // Lines logged before holdouts existed have no is_holdout: they were all sent (null reads as false).
  { name: 'is_holdout', sqlType: 'boolean' },
] as const;

export interface PublishedRecord {
  message_id: string;
  campaign: string;
  customer_id: string;
  as_of: string;
  priority: number;
  sink: string;
  /** When it was delivered, or, for a holdout, logged. */
  published_at: string;
  /** Held out: logged, not sent. Absent in lines logged before holdouts existed (they were sent). */
  is_holdout?: boolean;
}

import type { z } from 'zod';
import { eventSchemas, KNOWN_FIELDS, NUMERIC_FIELDS } from '../events/schemas.ts';
import type { EventType, OrderEvent, SurveyEvent } from '../events/schemas.ts';
import { parseInstant } from '../events/timestamps.ts';
import type { RawRecord } from './records.ts';

/** An accepted event, flattened to the columns stored in raw/. */
export interface OrderRow {
  event_id: string;
  order_id: string;
  customer_id: string;
  occurred_at_ms: number;
  status: string;
  total: number;
  currency: string;
  refunded_amount: number | null;
  channel: string | null;
  extras: string | null;
}

export interface SurveyRow {
  event_id: string;
  customer_id: string;
  occurred_at_ms: number;
  score: number;
  survey_id: string | null;
  comment: string | null;
  channel: string | null;
  extras: string | null;
}

export type EventRow<T extends EventType> = T extends 'orders' ? OrderRow : SurveyRow;

export type Validation<T extends EventType> = { ok: true; row: EventRow<T> } | { ok: false; reason: string };

const NUMBER_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** CSV cells are text: turn the numeric fields into numbers, leaving bad text for zod to name. */
function coerceCsvNumbers(type: EventType, value: Record<string, unknown>): Record<string, unknown> {
  const coerced = { ...value };
  for (const field of NUMERIC_FIELDS[type]) {
    const cell = coerced[field];
    if (typeof cell === 'string' && NUMBER_TEXT.test(cell.trim())) coerced[field] = Number(cell.trim());
  }
  return coerced;
}

/** "total: must be >= 0 (got -5)"; one clause per problem, field named first. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], input: Record<string, unknown>): string {
  return issues
    .map((issue) => {
      const field = issue.path.map(String).join('.') || 'record';
      const got = issue.path.length > 0 ? input[String(issue.path[0])] : undefined;
      if (got === undefined && issue.code === 'invalid_type') return `${field}: is required`;
      return `${field}: ${humanize(issue)}${got === undefined ? '' : ` (got ${preview(got)})`}`;
    })
    .join('; ');
}

function humanize(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `must be a ${issue.expected}`;
    case 'too_small':
      return issue.origin === 'string' ? 'must not be empty' : `must be >= ${String(issue.minimum)}`;
    case 'too_big':
      return issue.origin === 'string' ? `must be at most ${String(issue.maximum)} characters` : `must be <= ${String(issue.maximum)}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((option) => JSON.stringify(option)).join(', ')}`;
    default:
      return issue.message;
  }
}

function preview(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Extra fields as JSON, keys sorted so that the same event always serializes the same way. */
function extrasOf(type: EventType, value: Record<string, unknown>): string | null {
  const known = KNOWN_FIELDS[type];
  let extras: Record<string, unknown> | undefined;
  for (const key of Object.keys(value).sort()) {
    if (known.has(key)) continue;
    (extras ??= {})[key] = value[key];
  }
  return extras === undefined ? null : JSON.stringify(extras);
}

/** Validates one received record against its event contract. */
export function validateRecord<T extends EventType>(type: T, record: RawRecord): Validation<T> {
  if (record.parseError !== undefined) return { ok: false, reason: record.parseError };
  const value = record.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: `record: must be a JSON object (got ${Array.isArray(value) ? 'an array' : preview(value)})` };
  }
  const input = record.typed ? (value as Record<string, unknown>) : coerceCsvNumbers(type, value as Record<string, unknown>);
  const result = eventSchemas[type].safeParse(input);
  if (!result.success) return { ok: false, reason: describeIssues(result.error.issues, input) };
  const occurredAt = parseInstant(result.data.occurred_at);
  if (!occurredAt.ok) return { ok: false, reason: `occurred_at: ${occurredAt.reason}` };
  const extras = extrasOf(type, input);
  if (type === 'orders') {
    const order = result.data as OrderEvent;
    const row: OrderRow = {
      event_id: order.event_id,
      order_id: order.order_id,
      customer_id: order.customer_id,
      occurred_at_ms: occurredAt.epochMs,
      status: order.status,
      total: order.total,
      currency: order.currency,
      refunded_amount: order.refunded_amount ?? null,
      channel: order.channel ?? null,
      extras,
    };
    return { ok: true, row: row as EventRow<T> };
  }
  const survey = result.data as SurveyEvent;
  const row: SurveyRow = {
    event_id: survey.event_id,
    customer_id: survey.customer_id,
    occurred_at_ms: occurredAt.epochMs,
    score: survey.score,
    survey_id: survey.survey_id ?? null,
    comment: survey.comment ?? null,
    channel: survey.channel ?? null,
    extras,
  };
  return { ok: true, row: row as EventRow<T> };
}

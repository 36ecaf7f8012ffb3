import type { z } from 'zod';
import {
  CONTROL_CHARACTER,
  eventSchemas,
  isCurrencyCode,
  KNOWN_FIELDS,
  MAX_AMOUNT,
  MAX_ID_LENGTH,
  MAX_ORDER_LINES,
  MAX_QUANTITY,
  NUMERIC_FIELDS,
  ORDER_STATUSES,
} from '../events/schemas.ts';
import type { EventType, FxRate, OrderEvent, SpendEvent, SurveyEvent } from '../events/schemas.ts';
import { DEFAULT_EARLIEST_EVENT_DATE, earliestEventMs, parseInstant } from '../events/timestamps.ts';
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
  /** The order's lines as a JSON array (docs/events.md, "Order lines"), keys sorted and category trimmed; null without items. */
  items: string | null;
  /** The customer who referred this one (docs/events.md, `referred_by`). */
  referred_by: string | null;
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

/**
 * An accepted exchange rate. Its event_id is "<currency>/<date>": the same rate twice in a file
 * is a duplicate, another rate for the same day in the same file is refused as a conflict.
 * occurred_at is the date's midnight UTC.
 */
export interface FxRateRow {
  event_id: string;
  occurred_at_ms: number;
  /** The rate's date, as epoch milliseconds of its midnight UTC (a date column in Parquet). */
  rate_date: number;
  currency: string;
  rate: number;
  extras: string | null;
}

/** Accepted spend: what a channel cost on a day (occurred_at is the day's midnight UTC). */
export interface SpendRow {
  event_id: string;
  occurred_at_ms: number;
  /** The spend's date, as epoch milliseconds of its midnight UTC (a date column in Parquet). */
  spend_date: number;
  channel: string;
  campaign: string | null;
  amount: number;
  currency: string;
  replaces: string | null;
  extras: string | null;
}

export type EventRow<T extends EventType> = T extends 'orders' ? OrderRow : T extends 'surveys' ? SurveyRow : T extends 'spend' ? SpendRow : FxRateRow;

export type AnyEventRow = OrderRow | SurveyRow | FxRateRow | SpendRow;

export type Validation<T extends EventType> = { ok: true; row: EventRow<T> } | { ok: false; reason: string };

const NUMBER_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * CSV cells are text: turn the numeric fields into numbers and an order's items cell (a JSON
 * array) into its lines, leaving bad text for zod to name.
 */
function coerceCsvCells(type: EventType, value: Record<string, unknown>): Record<string, unknown> {
  const coerced = { ...value };
  for (const field of NUMERIC_FIELDS[type]) {
    const cell = coerced[field];
    if (typeof cell === 'string' && NUMBER_TEXT.test(cell.trim())) coerced[field] = Number(cell.trim());
  }
  const items = coerced['items'];
  if (type === 'orders' && typeof items === 'string') {
    if (items.trim() === '') delete coerced['items'];
    else coerced['items'] = parseJsonOr(items);
  }
  return coerced;
}

/** The JSON value of a text, or the text itself when it is not JSON (for zod to refuse by type). */
function parseJsonOr(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * "total: must be >= 0 (got -5)", "items[2].quantity: must be an integer >= 1 (got 0)"; one
 * clause per problem, field named first.
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[], input: Record<string, unknown>): string {
  return issues
    .map((issue) => {
      const field = fieldName(issue.path) || 'record';
      const got = issue.path.length > 0 ? valueAt(input, issue.path) : undefined;
      if (got === undefined && issue.code === 'invalid_type') return `${field}: is required`;
      return `${field}: ${humanize(issue)}${got === undefined ? '' : ` (got ${preview(got)})`}`;
    })
    .join('; ');
}

const fieldName = (path: readonly PropertyKey[]): string =>
  path.map((key, index) => (typeof key === 'number' ? `[${key}]` : `${index === 0 ? '' : '.'}${String(key)}`)).join('');

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function humanize(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `must be ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`;
    case 'too_small':
      return issue.origin === 'string' ? 'must not be empty' : `must be ${issue.inclusive === false ? '>' : '>='} ${String(issue.minimum)}`;
    case 'too_big':
      if (issue.origin === 'string') return `must be at most ${String(issue.maximum)} characters`;
      if (issue.origin === 'array') return `must have at most ${String(issue.maximum)} entries`;
      return `must be ${issue.inclusive === false ? '<' : '<='} ${String(issue.maximum)}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((option) => JSON.stringify(option)).join(', ')}`;
    default:
      return issue.message;
  }
}

function preview(value: unknown): string {
  if (nestedTooDeeply(value, MAX_NESTING_DEPTH)) return 'a value nested too deeply to show';
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * Extra fields may hold objects and arrays, but not nested deeper than this: no real event is,
 * and serializing one that is (JSON.parse takes any depth) would exhaust the stack.
 */
export const MAX_NESTING_DEPTH = 32;

function nestedTooDeeply(value: unknown, levelsLeft: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (levelsLeft === 0) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (nestedTooDeeply(item, levelsLeft - 1)) return true;
    return false;
  }
  for (const key in value) if (nestedTooDeeply((value as Record<string, unknown>)[key], levelsLeft - 1)) return true;
  return false;
}

/** An extra field nested too deeply to keep: the record is refused naming it. */
interface TooDeep {
  readonly tooDeep: string;
}

/** Extra fields as JSON, keys sorted so that the same event always serializes the same way. */
function extrasOf(type: EventType, value: Record<string, unknown>): string | null | TooDeep {
  const known = KNOWN_FIELDS[type];
  let keys: string[] | undefined;
  for (const key in value) if (!known.has(key)) (keys ??= []).push(key);
  if (keys === undefined) return null;
  const extras: Record<string, unknown> = {};
  for (const key of keys.sort()) {
    if (nestedTooDeeply(value[key], MAX_NESTING_DEPTH)) return { tooDeep: key };
    extras[key] = value[key];
  }
  return JSON.stringify(extras);
}

const isTooDeep = (extras: string | null | TooDeep): extras is TooDeep => typeof extras === 'object' && extras !== null;

/**
 * An order's lines as stored: the array as received with each line's keys sorted (so that a
 * re-delivery listing them in another order is the same event), or null without items. The
 * category is stored trimmed, and a blank one as null: the SQL engines trim different sets of
 * Unicode spaces, so the tables must not have to.
 */
function itemsJson(items: unknown): string | null | TooDeep {
  if (!Array.isArray(items)) return null;
  if (nestedTooDeeply(items, MAX_NESTING_DEPTH)) return { tooDeep: 'items' };
  return JSON.stringify(
    items.map((line: Record<string, unknown>) =>
      Object.fromEntries(
        Object.keys(line)
          .sort()
          .map((key) => [key, key === 'category' ? categoryOf(line[key]) : line[key]]),
      ),
    ),
  );
}

const categoryOf = (category: unknown): unknown => (typeof category === 'string' ? category.trim() || null : category);

/** The bound of the default earliest event date, computed once rather than per record. */
const DEFAULT_EARLIEST_MS = earliestEventMs(DEFAULT_EARLIEST_EVENT_DATE);

/** The field that dates each type's events, for the reason of an event before the earliest date. */
const DATE_FIELDS: Readonly<Record<EventType, string>> = { orders: 'occurred_at', surveys: 'occurred_at', fx_rates: 'date', spend: 'spend_date' };

/**
 * Validates one received record against its event contract, and refuses an event dated (in
 * UTC) before the earliest event date, given as earliestEventMs.
 */
export function validateRecord<T extends EventType>(type: T, record: RawRecord, earliestMs = DEFAULT_EARLIEST_MS): Validation<T> {
  const validation = validateShape(type, record);
  if (validation.ok && validation.row.occurred_at_ms < earliestMs) {
    const earliest = new Date(earliestMs).toISOString().slice(0, 10);
    return { ok: false, reason: `${DATE_FIELDS[type]}: must be on or after ${earliest} (UTC), the earliest event date (earliestEventDate)` };
  }
  return validation;
}

function validateShape<T extends EventType>(type: T, record: RawRecord): Validation<T> {
  if (record.parseError !== undefined) return { ok: false, reason: record.parseError };
  const value = record.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: `record: must be a JSON object (got ${Array.isArray(value) ? 'an array' : preview(value)})` };
  }
  const input = record.typed ? (value as Record<string, unknown>) : coerceCsvCells(type, value as Record<string, unknown>);
  // Rates and spend are few (about one per day and currency or channel): they take the schema path.
  const row = (type === 'orders' ? plainOrderRow(input) : type === 'surveys' ? plainSurveyRow(input) : undefined) as EventRow<T> | undefined;
  return row ? { ok: true, row } : validateWithSchema(type, input);
}

/**
 * The event schema's verdict and, for a refused record, its reasons. validateRecord first tries
 * the plain-record path below and comes here for everything else; a test holds the two to the
 * same answers.
 */
export function validateWithSchema<T extends EventType>(type: T, input: Record<string, unknown>): Validation<T> {
  const result = eventSchemas[type].safeParse(input);
  if (!result.success) return { ok: false, reason: describeIssues(result.error.issues, input) };
  if (type === 'fx_rates') return fxRateRow(result.data as FxRate, input) as Validation<T>;
  if (type === 'spend') return spendRow(result.data as SpendEvent, input) as Validation<T>;
  const occurredAt = parseInstant((result.data as OrderEvent | SurveyEvent).occurred_at);
  if (!occurredAt.ok) return { ok: false, reason: `occurred_at: ${occurredAt.reason}` };
  const extras = extrasOf(type, input);
  if (isTooDeep(extras)) return { ok: false, reason: `${extras.tooDeep}: nested more than ${MAX_NESTING_DEPTH} levels deep` };
  if (type === 'orders') {
    const order = result.data as OrderEvent;
    const items = itemsJson(input['items']);
    if (isTooDeep(items)) return { ok: false, reason: `items: nested more than ${MAX_NESTING_DEPTH} levels deep` };
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
      items,
      referred_by: order.referred_by ?? null,
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

function fxRateRow(rate: FxRate, input: Record<string, unknown>): Validation<'fx_rates'> {
  const extras = extrasOf('fx_rates', input);
  if (isTooDeep(extras)) return { ok: false, reason: `${extras.tooDeep}: nested more than ${MAX_NESTING_DEPTH} levels deep` };
  return {
    ok: true,
    row: {
      event_id: `${rate.currency}/${rate.date}`,
      occurred_at_ms: Date.parse(`${rate.date}T00:00:00Z`),
      rate_date: Date.parse(`${rate.date}T00:00:00Z`),
      currency: rate.currency,
      rate: rate.rate,
      extras,
    },
  };
}

function spendRow(spend: SpendEvent, input: Record<string, unknown>): Validation<'spend'> {
  const extras = extrasOf('spend', input);
  if (isTooDeep(extras)) return { ok: false, reason: `${extras.tooDeep}: nested more than ${MAX_NESTING_DEPTH} levels deep` };
  const midnight = Date.parse(`${spend.spend_date}T00:00:00Z`);
  return {
    ok: true,
    row: {
      event_id: spend.event_id,
      occurred_at_ms: midnight,
      spend_date: midnight,
      channel: spend.channel,
      campaign: spend.campaign ?? null,
      amount: spend.amount,
      currency: spend.currency,
      replaces: spend.replaces ?? null,
      extras,
    },
  };
}

/*
 * The plain-record path: the checks of the event schemas, written out for records whose every
 * field is plainly valid, so that the common case costs a few comparisons instead of a schema
 * walk (measured: zod was a tenth of ingest time). Anything unusual returns undefined and goes
 * to the schema, which also words the reasons. It may refuse more than the schema, never less.
 */
const STATUSES: ReadonlySet<unknown> = new Set(ORDER_STATUSES);

/** An id as the event contract allows one: non-blank text of at most MAX_ID_LENGTH characters, no control characters. */
export const isIdentifier = (value: unknown): value is string =>
  typeof value === 'string' && value.length <= MAX_ID_LENGTH && value.trim().length > 0 && !CONTROL_CHARACTER.test(value);
const isAmount = (value: unknown): value is number => typeof value === 'number' && value >= 0 && value <= MAX_AMOUNT;
const isLabel = (value: unknown): value is string | number | null | undefined =>
  value === undefined || value === null || typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
const labelOf = (value: string | number | null | undefined): string | null => (value === undefined || value === null ? null : String(value));

function instantOf(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const parsed = parseInstant(value);
  return parsed.ok ? parsed.epochMs : undefined;
}

const isOptionalText = (value: unknown): boolean => value === undefined || value === null || typeof value === 'string';

/** A line every field of which is plainly valid (orderLineSchema, written out). */
function isPlainLine(line: unknown): boolean {
  if (typeof line !== 'object' || line === null || Array.isArray(line)) return false;
  const { sku, category, name, quantity, unit_price, discount_amount } = line as Record<string, unknown>;
  if (!isIdentifier(sku) || !isOptionalText(name) || !isOptionalText(category)) return false;
  if (typeof category === 'string' && (category.length > MAX_ID_LENGTH || CONTROL_CHARACTER.test(category))) return false;
  if (!(typeof quantity === 'number' && Number.isInteger(quantity) && quantity >= 1 && quantity <= MAX_QUANTITY) || !isAmount(unit_price)) return false;
  if (discount_amount === undefined || discount_amount === null) return true;
  return isAmount(discount_amount) && discount_amount <= quantity * unit_price;
}

function isPlainItems(items: unknown): boolean {
  if (items === undefined || items === null) return true;
  if (!Array.isArray(items) || items.length > MAX_ORDER_LINES) return false;
  for (const line of items) if (!isPlainLine(line)) return false;
  return true;
}

function plainOrderRow(input: Record<string, unknown>): OrderRow | undefined {
  const { event_id, order_id, customer_id, status, total, currency, refunded_amount, channel, items, referred_by } = input;
  if (!isIdentifier(event_id) || !isIdentifier(order_id) || !isIdentifier(customer_id)) return undefined;
  if (!(status === undefined || STATUSES.has(status)) || !isAmount(total) || !isCurrencyCode(currency)) return undefined;
  if (!(refunded_amount === undefined || refunded_amount === null || isAmount(refunded_amount)) || !isLabel(channel)) return undefined;
  if (!isPlainItems(items)) return undefined;
  if (!(referred_by === undefined || referred_by === null || (isIdentifier(referred_by) && referred_by !== customer_id))) return undefined;
  const occurredAtMs = instantOf(input['occurred_at']);
  if (occurredAtMs === undefined) return undefined;
  const extras = extrasOf('orders', input);
  const itemsText = itemsJson(items);
  if (isTooDeep(extras) || isTooDeep(itemsText)) return undefined;
  return {
    event_id,
    order_id,
    customer_id,
    occurred_at_ms: occurredAtMs,
    status: (status as string | undefined) ?? 'placed',
    total,
    currency: currency as string,
    refunded_amount: (refunded_amount as number | null | undefined) ?? null,
    channel: labelOf(channel),
    items: itemsText,
    referred_by: (referred_by as string | null | undefined) ?? null,
    extras,
  };
}

function plainSurveyRow(input: Record<string, unknown>): SurveyRow | undefined {
  const { event_id, customer_id, score, survey_id, comment, channel } = input;
  if (!isIdentifier(event_id) || !isIdentifier(customer_id)) return undefined;
  if (!(typeof score === 'number' && Number.isInteger(score) && score >= 0 && score <= 10)) return undefined;
  if (!isLabel(survey_id) || !isLabel(channel) || !(comment === undefined || comment === null || typeof comment === 'string')) return undefined;
  const occurredAtMs = instantOf(input['occurred_at']);
  if (occurredAtMs === undefined) return undefined;
  const extras = extrasOf('surveys', input);
  if (isTooDeep(extras)) return undefined;
  return {
    event_id,
    customer_id,
    occurred_at_ms: occurredAtMs,
    score,
    survey_id: labelOf(survey_id),
    comment: comment ?? null,
    channel: labelOf(channel),
    extras,
  };
}

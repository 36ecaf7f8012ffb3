import { z } from 'zod';
import { parseInstant } from './timestamps.ts';

/**
 * The event contracts (README, "Input: events"). These schemas are the single source of truth for
 * what an accepted event is; the types below come from them.
 */

export const MAX_ID_LENGTH = 256;

/**
 * The largest amount accepted (10^12 in any currency). Nothing real comes close; a larger one is
 * a unit bug or an attack, and amounts are summed as decimal(38, 6), which a few 1e300s would
 * overflow, failing every run.
 */
export const MAX_AMOUNT = 1e12;

/**
 * C0 and C1 control characters and DEL. An id holding one is damaged data (a stray NUL, a
 * terminal escape), and ids are joined on, grouped by and printed.
 */
export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

const identifier = z
  .string()
  .max(MAX_ID_LENGTH)
  .refine((value) => value.trim().length > 0, { message: 'must not be empty' })
  .refine((value) => !CONTROL_CHARACTER.test(value), { message: 'must not contain control characters' });

const instant = z.string().superRefine((value, context) => {
  const parsed = parseInstant(value);
  if (!parsed.ok) context.addIssue({ code: 'custom', message: parsed.reason });
});

const knownCurrencies = new Set(Intl.supportedValuesOf('currency'));

/** True for a known ISO 4217 code; every known code is three uppercase letters. */
export const isCurrencyCode = (code: unknown): boolean => typeof code === 'string' && knownCurrencies.has(code) && /^[A-Z]{3}$/.test(code);

const currencyCode = z.string().superRefine((code, context) => {
  if (!/^[A-Z]{3}$/.test(code)) {
    context.addIssue({ code: 'custom', message: 'must be a three-letter uppercase ISO 4217 code, like USD' });
  } else if (!knownCurrencies.has(code)) {
    context.addIssue({ code: 'custom', message: 'is not an ISO 4217 currency code' });
  }
});

/** Free-text extras that producers sometimes send as numbers (a numeric survey id, say). */
const label = z.union([z.string(), z.number()]).transform(String).nullish();

export const ORDER_STATUSES = ['placed', 'cancelled', 'refunded'] as const;

export const orderEventSchema = z
  .object({
    event_id: identifier,
    order_id: identifier,
    customer_id: identifier,
    occurred_at: instant,
    status: z.enum(ORDER_STATUSES).default('placed'),
    total: z.number().nonnegative().max(MAX_AMOUNT),
    currency: currencyCode,
    refunded_amount: z.number().nonnegative().max(MAX_AMOUNT).nullish(),
    channel: label,
  })
  // Extra fields (items, coupon, ...) are part of the contract: they are kept, not refused.
  .loose();

export const surveyEventSchema = z
  .object({
    event_id: identifier,
    customer_id: identifier,
    occurred_at: instant,
    score: z.number().int().min(0).max(10),
    survey_id: label,
    comment: z.string().nullish(),
    channel: label,
  })
  .loose();

export type OrderEvent = z.output<typeof orderEventSchema>;
export type SurveyEvent = z.output<typeof surveyEventSchema>;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const EVENT_TYPES = ['orders', 'surveys'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const eventSchemas = {
  orders: orderEventSchema,
  surveys: surveyEventSchema,
} as const;

/** Fields that CSV carries as text but the contract types as numbers. */
export const NUMERIC_FIELDS: Record<EventType, readonly string[]> = {
  orders: ['total', 'refunded_amount'],
  surveys: ['score'],
};

/** Fields every event type stores in its own column; everything else goes to `extras`. */
export const KNOWN_FIELDS: Record<EventType, ReadonlySet<string>> = {
  orders: new Set(Object.keys(orderEventSchema.shape)),
  surveys: new Set(Object.keys(surveyEventSchema.shape)),
};

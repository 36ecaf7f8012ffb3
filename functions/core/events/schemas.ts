import { z } from 'zod';
import { isCalendarDate, parseInstant } from './timestamps.ts';

/**
 * The event contracts (docs/events.md). These schemas are the single source of truth for
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

/** The most units one order line may hold: more is a unit bug, like an amount above MAX_AMOUNT. */
export const MAX_QUANTITY = 1e9;

/**
 * The most lines one order may have. Athena's sequence() stops at 10,000 elements, and reading
 * the lines costs time and memory that grow with their square: 6,000 lines (250 KB) in one order
 * ran DuckDB out of its 3 GB. No real basket comes near 1,000.
 */
export const MAX_ORDER_LINES = 1000;

/** Why a line's discount is refused: it may not exceed what the line costs before it. */
export const DISCOUNT_TOO_BIG = 'must not exceed quantity x unit_price';

/**
 * One line of an order (docs/events.md, "Order lines"). Lines need not add up to the order's total,
 * which may include shipping and tax. Extra fields of a line (variant, options, ...) are kept.
 */
export const orderLineSchema = z
  .object({
    sku: identifier,
    // Free text: an empty or blank category means "uncategorised", not a bad event.
    category: z
      .string()
      .max(MAX_ID_LENGTH)
      .refine((value) => !CONTROL_CHARACTER.test(value), { message: 'must not contain control characters' })
      .nullish(),
    name: z.string().nullish(),
    quantity: z.number().superRefine((quantity, context) => {
      if (!Number.isInteger(quantity) || quantity < 1) context.addIssue({ code: 'custom', message: 'must be an integer >= 1' });
      else if (quantity > MAX_QUANTITY) context.addIssue({ code: 'custom', message: `must be <= ${MAX_QUANTITY}` });
    }),
    unit_price: z.number().nonnegative().max(MAX_AMOUNT),
    discount_amount: z.number().nonnegative().max(MAX_AMOUNT).nullish(),
  })
  .loose()
  .superRefine((line, context) => {
    // Only between valid numbers: a bad quantity or price is reported as itself, not as this.
    const valid =
      Number.isInteger(line.quantity) && line.quantity >= 1 && line.quantity <= MAX_QUANTITY && line.unit_price >= 0 && line.unit_price <= MAX_AMOUNT;
    if (valid && (line.discount_amount ?? 0) > line.quantity * line.unit_price) {
      context.addIssue({ code: 'custom', path: ['discount_amount'], message: DISCOUNT_TOO_BIG });
    }
  });

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
    items: z.array(orderLineSchema).max(MAX_ORDER_LINES).nullish(),
    referred_by: identifier.nullish(),
  })
  // Extra fields (coupon, shipping address, ...) are part of the contract: kept, not refused.
  .loose()
  .superRefine((order, context) => {
    if (typeof order.referred_by === 'string' && order.referred_by === order.customer_id)
      context.addIssue({ code: 'custom', path: ['referred_by'], message: SELF_REFERRAL });
  });

/** Why an order whose referrer is its own customer is refused. */
export const SELF_REFERRAL = 'must not be the customer_id: a customer cannot refer themselves';

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

/** The largest exchange rate accepted: more is a unit bug (no currency is worth 10^9 of another). */
export const MAX_RATE = 1e9;

/**
 * An exchange rate (docs/events.md, "Exchange rates"): on `date`, one unit of `currency` is worth
 * `rate` units of the reporting currency. A rate has no event id: its currency and date are its
 * identity, and a later file that gives another rate for them corrects it.
 */
export const fxRateSchema = z
  .object({
    date: z.string().refine(isCalendarDate, { message: 'must be a calendar date, YYYY-MM-DD' }),
    currency: currencyCode,
    rate: z.number().positive().max(MAX_RATE),
  })
  .loose();

/**
 * Marketing spend (docs/events.md, "Spend"): what a channel cost on a day. Several events for
 * one day, channel and campaign add up (several invoices); an event with `replaces` restates
 * the event it names, which then counts no more.
 */
export const spendEventSchema = z
  .object({
    event_id: identifier,
    spend_date: z.string().refine(isCalendarDate, { message: 'must be a calendar date, YYYY-MM-DD' }),
    channel: identifier,
    campaign: label,
    amount: z.number().nonnegative().max(MAX_AMOUNT),
    currency: currencyCode,
    replaces: identifier.nullish(),
  })
  .loose()
  .superRefine((spend, context) => {
    if (typeof spend.replaces === 'string' && spend.replaces === spend.event_id)
      context.addIssue({ code: 'custom', path: ['replaces'], message: 'must name another event, not this one' });
  });

export type OrderEvent = z.output<typeof orderEventSchema>;
export type SpendEvent = z.output<typeof spendEventSchema>;
export type SurveyEvent = z.output<typeof surveyEventSchema>;
export type FxRate = z.output<typeof fxRateSchema>;

/** What ingest takes in: events (orders, surveys, marketing spend), and the exchange rates that convert amounts. */
export const EVENT_TYPES = ['orders', 'surveys', 'fx_rates', 'spend'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * How each input is named on the command line (`pipeline ingest fx-rates FILE`) and as its
 * landing folder on S3 (landing/fx-rates/): the table name, with hyphens.
 */
export const INPUT_NAMES: Record<EventType, string> = { orders: 'orders', surveys: 'surveys', fx_rates: 'fx-rates', spend: 'spend' };

/** The input a command-line or landing-folder name stands for (either spelling of fx rates). */
export function eventTypeNamed(name: string): EventType | undefined {
  return EVENT_TYPES.find((type) => type === name || INPUT_NAMES[type] === name);
}

export const eventSchemas = {
  orders: orderEventSchema,
  surveys: surveyEventSchema,
  fx_rates: fxRateSchema,
  spend: spendEventSchema,
} as const;

/** Fields that CSV carries as text but the contract types as numbers. */
export const NUMERIC_FIELDS: Record<EventType, readonly string[]> = {
  orders: ['total', 'refunded_amount'],
  surveys: ['score'],
  fx_rates: ['rate'],
  spend: ['amount'],
};

/** Fields every event type stores in its own column; everything else goes to `extras`. */
export const KNOWN_FIELDS: Record<EventType, ReadonlySet<string>> = {
  orders: new Set(Object.keys(orderEventSchema.shape)),
  surveys: new Set(Object.keys(surveyEventSchema.shape)),
  fx_rates: new Set(Object.keys(fxRateSchema.shape)),
  spend: new Set(Object.keys(spendEventSchema.shape)),
};

import { Random } from './random.ts';

/**
 * Realistic sample data for the demo and the tests: acquisition cohorts that grow and peak in
 * November and December, customers who buy at their own rate and may drop out after any
 * purchase, the first included (the MBG/NBD story), order values that vary by customer,
 * cancellations, partial and full refunds, duplicate deliveries, customers in many time zones,
 * survey answers that follow the customer's experience, order lines in categories, daily
 * spend on three acquisition channels (the costliest keeping its customers best), customers
 * who refer others, and a few broken records of each kind a real feed produces.
 */
export interface DemoOptions {
  readonly customers: number;
  readonly seed: number;
  /** First day of data, YYYY-MM-DD. */
  readonly startDate: string;
  /** Last day of data, YYYY-MM-DD (the demo's as_of). */
  readonly endDate: string;
  /** Share of records deliberately broken. Default 0.003. */
  readonly brokenShare?: number;
  /** Share of events delivered twice. Default 0.015. */
  readonly duplicateShare?: number;
  /** Some customers buy in a second currency, with its daily rates to USD (none by default). */
  readonly secondCurrency?: SecondCurrency;
}

/** A second currency for the demo: who buys in it, and where its rate to USD starts. */
export interface SecondCurrency {
  /** Its ISO 4217 code. */
  readonly code: string;
  /** The share of customers who buy in it. */
  readonly share: number;
  /** USD per unit of it on the first day; it drifts each working day after. */
  readonly startRate: number;
}

/** A daily exchange rate, as `pipeline ingest fx-rates` reads it. */
export interface DemoFxRate {
  readonly date: string;
  readonly currency: string;
  readonly rate: number;
}

export interface DemoData {
  /** Order events as JSON Lines text lines (some broken, some repeated). */
  readonly orderLines: string[];
  /** Survey events as objects, for CSV. */
  readonly surveys: Record<string, string | number>[];
  /** Survey records that are broken on purpose, as CSV rows (already encoded). */
  readonly brokenSurveyRows: string[];
  /** Rates of the second currency to USD, working days only; empty without one. */
  readonly fxRates: DemoFxRate[];
  /** Marketing spend per channel and day, as JSON Lines text lines, some restated later. */
  readonly spendLines: string[];
}

export const DEMO_DEFAULTS = {
  customers: 3000,
  seed: 20_240_101,
  startDate: '2025-01-01',
  endDate: '2026-09-30',
  /** Earlier dates the demo runs and publishes, every two weeks, so that endDate's run can measure their campaigns. */
  sendDates: ['2026-06-23', '2026-07-07', '2026-07-21', '2026-08-04', '2026-08-18', '2026-09-01'],
} as const;

const DAY_MS = 86_400_000;
const OFFSETS = [
  ['-08:00', 3],
  ['-05:00', 4],
  ['+00:00', 2],
  ['+01:00', 3],
  ['+05:30', 1],
  ['+09:00', 1],
] as const;
const CHANNELS = [
  ['web', 6],
  ['app', 3],
  ['store', 1],
] as const;
/** App customers' chance to drop out after a purchase, relative to the others'. */
const APP_DROPOUT_FACTOR = 0.6;
const COMMENTS = [
  'Fast delivery, great quality',
  'Item arrived damaged, "refund" took weeks',
  'Good, but shipping was slow',
  'Love it, will buy again',
  'Meh.',
  'Support was helpful, thanks',
];

/** The catalogue: product numbers 1-400 in categories of uneven size (the first ones sell most). */
const CATEGORIES = [
  ['Apparel', 140],
  ['Footwear', 220],
  ['Accessories', 290],
  ['Home', 350],
  ['Beauty', 385],
  ['Gift cards', 400],
] as const;

const categoryOf = (product: number): string => CATEGORIES.find(([, last]) => product <= last)![0];

/**
 * An order's lines: the chosen products with the order's total shared evenly between the lines,
 * and every seventh product on a 10 % line discount. Derived from the draws already made, so
 * that the lines change nothing else the generator produces.
 */
function orderItems(total: number, lines: readonly { product: number; quantity: number }[]): Record<string, unknown>[] {
  return lines.map(({ product, quantity }) => {
    const unitPrice = Math.round((total / lines.length / quantity) * 100) / 100;
    const line: Record<string, unknown> = { sku: `sku-${product}`, name: `Product ${product}`, category: categoryOf(product), quantity, unit_price: unitPrice };
    if (product % 7 === 0) line['discount_amount'] = Math.round(quantity * unitPrice * 10) / 100;
    return line;
  });
}

/** An earlier customer, or now and then one from before the data (whom the lake never sees). */
function referrerOf(customerIndex: number, random: Random): string {
  if (random.chance(0.05)) return `cust-legacy-${random.integer(1, 99)}`;
  return `cust-${random
    .integer(1, customerIndex - 1)
    .toString()
    .padStart(6, '0')}`;
}

/** Formats an instant as ISO-8601 in a fixed offset ("2025-03-01T09:15:00-05:00"). */
export function isoWithOffset(epochMs: number, offset: string): string {
  const sign = offset.startsWith('-') ? -1 : 1;
  const [hours, minutes] = offset.slice(1).split(':').map(Number) as [number, number];
  const local = new Date(epochMs + sign * (hours * 60 + minutes) * 60_000);
  const text = local.toISOString().slice(0, 19);
  return offset === '+00:00' ? `${text}Z` : `${text}${offset}`;
}

/** Acquisition weight of a month: growth plus a holiday peak. */
function acquisitionWeight(monthIndex: number, calendarMonth: number): number {
  const growth = 1 + 0.05 * monthIndex;
  const holiday = calendarMonth === 10 || calendarMonth === 11 ? 1.6 : calendarMonth === 0 ? 0.8 : 1;
  return growth * holiday;
}

export function generateDemoData(options: DemoOptions): DemoData {
  const random = new Random(options.seed);
  const start = Date.parse(`${options.startDate}T00:00:00Z`);
  const end = Date.parse(`${options.endDate}T23:59:59Z`);
  const brokenShare = options.brokenShare ?? 0.003;
  const duplicateShare = options.duplicateShare ?? 0.015;

  const months: { start: number; end: number; weight: number }[] = [];
  for (let cursor = new Date(start), index = 0; cursor.getTime() <= end; index += 1) {
    const monthStart = cursor.getTime();
    const next = Date.UTC(cursor.getUTCFullYear(), cursor.getUTCMonth() + 1, 1);
    months.push({ start: monthStart, end: Math.min(next, end), weight: acquisitionWeight(index, cursor.getUTCMonth()) });
    cursor = new Date(next);
  }

  // Currencies draw from a stream of their own, so that the rest of the data is the same with or without them.
  const currencyRandom = new Random(options.seed + 1);
  // Referrals too: one customer in eight names an earlier customer (a few, one the lake never saw).
  const referralRandom = new Random(options.seed + 3);
  const second = options.secondCurrency;
  const fxRates = second === undefined ? [] : workingDayRates(second, start, end, currencyRandom);
  const orderLines: string[] = [];
  const surveys: Record<string, string | number>[] = [];
  const brokenSurveyRows: string[] = [];
  let eventSequence = 0;
  let orderSequence = 0;
  const nextEventId = () => `evt-${(++eventSequence).toString().padStart(8, '0')}`;

  const emitOrder = (event: Record<string, unknown>) => {
    const line = JSON.stringify(event);
    orderLines.push(line);
    // At-least-once delivery: some events arrive twice.
    if (random.chance(duplicateShare)) orderLines.push(line);
  };

  for (let customerIndex = 1; customerIndex <= options.customers; customerIndex += 1) {
    const customerId = `cust-${customerIndex.toString().padStart(6, '0')}`;
    const offset = random.weighted(OFFSETS);
    const month = random.weighted(months.map((m) => [m, m.weight] as const));
    let time = month.start + random.next() * (month.end - month.start);
    // MBG/NBD-like behaviour: a purchase rate per day, and a chance to drop out after each
    // purchase, the first included.
    const purchaseRate = random.gamma(0.8, 1 / 50);
    const typicalDropout = random.beta(1.6, 2.4);
    const meanSpend = Math.exp(random.normal(Math.log(55), 0.45));
    const satisfaction = random.normal(8.1, 1.5);
    const channel = random.weighted(CHANNELS);
    // The app costs most per customer and keeps them best: its customers drop out at 60 % of the rate.
    const dropout = channel === 'app' ? typicalDropout * APP_DROPOUT_FACTOR : typicalDropout;
    // Prices in the second currency are its start rate's worth of the USD ones.
    const inSecond = second !== undefined && currencyRandom.chance(second.share);
    const currency = inSecond ? second.code : 'USD';
    const priced = (usd: number) => (inSecond ? Math.round((usd / second.startRate) * 100) / 100 : usd);
    const referrer = customerIndex > 20 && referralRandom.chance(0.125) ? referrerOf(customerIndex, referralRandom) : undefined;
    let firstOrder = true;

    while (time <= end) {
      const orderId = `ord-${(++orderSequence).toString().padStart(8, '0')}`;
      const usdTotal = Math.round(random.gamma(6, meanSpend / 6) * 100) / 100;
      const units = Math.max(1, Math.round(usdTotal / 25));
      const total = priced(usdTotal);
      const base = { order_id: orderId, customer_id: customerId, currency };
      emitOrder({
        event_id: nextEventId(),
        ...base,
        occurred_at: isoWithOffset(time, offset),
        status: 'placed',
        total,
        channel,
        // Every order of a referred customer names the referrer until one becomes a purchase.
        ...(referrer !== undefined && firstOrder ? { referred_by: referrer } : {}),
        items: orderItems(
          total,
          Array.from({ length: Math.min(units, 3) }, (_, index) => ({
            product: random.integer(1, 400),
            quantity: index === 0 ? units - Math.min(units, 3) + 1 : 1,
          })),
        ),
      });
      let experience = satisfaction;
      const cancelled = random.chance(0.03);
      if (cancelled) {
        const cancelledAt = time + random.integer(1, 36) * 3_600_000;
        if (cancelledAt <= end) emitOrder({ event_id: nextEventId(), ...base, occurred_at: isoWithOffset(cancelledAt, offset), status: 'cancelled', total });
        experience -= 2;
      } else if (random.chance(0.05)) {
        const refundedAt = time + random.integer(3, 25) * DAY_MS;
        const partial = random.chance(0.5);
        const event: Record<string, unknown> = { event_id: nextEventId(), ...base, occurred_at: isoWithOffset(refundedAt, offset), status: 'refunded', total };
        if (partial) event['refunded_amount'] = Math.round(total * (0.2 + 0.4 * random.next()) * 100) / 100;
        else if (random.chance(0.5)) event['refunded_amount'] = total;
        if (refundedAt <= end) emitOrder(event);
        experience -= partial ? 2 : 4;
      }
      if (!cancelled) firstOrder = false;
      if (random.chance(0.28)) {
        const answeredAt = time + random.integer(2, 10) * DAY_MS + random.integer(0, 86_399) * 1000;
        if (answeredAt <= end) {
          const score = Math.max(0, Math.min(10, Math.round(random.normal(experience, 1.3))));
          const survey: Record<string, string | number> = {
            event_id: nextEventId(),
            customer_id: customerId,
            occurred_at: isoWithOffset(answeredAt, offset),
            score,
            survey_id: `post-purchase-${new Date(answeredAt).getUTCFullYear()}`,
            channel: random.pick(['email', 'app']),
          };
          if (random.chance(0.3)) survey['comment'] = random.pick(COMMENTS);
          surveys.push(survey);
        }
      }
      if (random.chance(dropout)) break;
      // Purchases cluster before the holidays: gaps shrink in November.
      const seasonal = new Date(time).getUTCMonth() === 10 ? 1.4 : 1;
      time += Math.max(DAY_MS, (random.exponential(purchaseRate * seasonal) + 1) * DAY_MS);
    }
  }

  // Broken records, of each kind a real feed produces; each must end up in rejected_events.
  const brokenOrders = Math.max(6, Math.round(orderLines.length * brokenShare));
  const at = isoWithOffset(end - 3 * DAY_MS, '+00:00');
  const breakers: ((n: number) => string)[] = [
    (n) => `{"event_id":"bad-${n}","order_id":"ord-x${n}","customer_id":"cust-x","occurred_at":"${at}","total":19.9,"currency":"USD"`,
    (n) => JSON.stringify({ event_id: `bad-${n}`, order_id: `ord-x${n}`, customer_id: 'cust-x', occurred_at: at, total: -5, currency: 'USD' }),
    (n) => JSON.stringify({ event_id: `bad-${n}`, order_id: `ord-x${n}`, occurred_at: at, total: 12, currency: 'USD' }),
    (n) => JSON.stringify({ event_id: `bad-${n}`, order_id: `ord-x${n}`, customer_id: 'cust-x', occurred_at: '31/12/2025 10:00', total: 12, currency: 'USD' }),
    (n) =>
      JSON.stringify({ event_id: `bad-${n}`, order_id: `ord-x${n}`, customer_id: 'cust-x', occurred_at: at, status: 'shipped', total: 12, currency: 'USD' }),
    (n) => JSON.stringify({ event_id: '', order_id: `ord-x${n}`, customer_id: 'cust-x', occurred_at: at, total: 12, currency: 'USD' }),
    (n) => JSON.stringify({ event_id: `bad-${n}`, order_id: `ord-x${n}`, customer_id: 'cust-x', occurred_at: at, total: '12.00', currency: 'usd' }),
  ];
  for (let n = 0; n < brokenOrders; n += 1) {
    const position = random.integer(0, orderLines.length);
    orderLines.splice(position, 0, breakers[n % breakers.length]!(n));
  }
  brokenSurveyRows.push(`bad-s1,cust-000001,${at},11,post-purchase,,email`);
  brokenSurveyRows.push(`bad-s2,,${at},8,post-purchase,,email`);
  brokenSurveyRows.push(`bad-s3,cust-000002,yesterday,8,post-purchase,,email`);
  return { orderLines, surveys, brokenSurveyRows, fxRates, spendLines: dailySpend(start, end, new Random(options.seed + 2)) };
}

/**
 * What each channel costs a day, on average. The app brings three customers in ten for 30 a day
 * and the web six in ten for 18, so an app customer costs about three times as much; its
 * customers also stay longer (APP_DROPOUT_FACTOR), the trade-off acquisition_metrics shows.
 */
const DAILY_SPEND = { web: 18, app: 30, store: 6 } as const;

/**
 * Spend per channel and day (USD), 30 % either way around its average; every 30th day the web
 * spend is restated a few days later (the ad platform's correction) with 90 % of the amount.
 */
function dailySpend(start: number, end: number, random: Random): string[] {
  const lines: string[] = [];
  for (let day = start - (start % DAY_MS), index = 0; day <= end; day += DAY_MS, index += 1) {
    const date = new Date(day).toISOString().slice(0, 10);
    for (const [channel, average] of Object.entries(DAILY_SPEND)) {
      const amount = Math.round(average * (0.7 + 0.6 * random.next()) * 100) / 100;
      const event = { event_id: `spend-${date}-${channel}`, spend_date: date, channel, amount, currency: 'USD' };
      lines.push(JSON.stringify(event));
      if (channel === 'web' && index % 30 === 0) {
        lines.push(JSON.stringify({ ...event, event_id: `${event.event_id}-restated`, amount: Math.round(amount * 90) / 100, replaces: event.event_id }));
      }
    }
  }
  return lines;
}

/** A rate per working day (none on weekends, as published rates go), drifting about 0.3 % a day. */
function workingDayRates(second: SecondCurrency, start: number, end: number, random: Random): DemoFxRate[] {
  const rates: DemoFxRate[] = [];
  let rate = second.startRate;
  for (let day = start - (start % DAY_MS); day <= end; day += DAY_MS) {
    const weekday = new Date(day).getUTCDay();
    if (weekday === 0 || weekday === 6) continue;
    rates.push({ date: new Date(day).toISOString().slice(0, 10), currency: second.code, rate: Math.round(rate * 1e6) / 1e6 });
    rate *= Math.exp(random.normal(0, 0.003));
  }
  return rates;
}

/** The survey CSV columns, in file order. */
export const SURVEY_CSV_COLUMNS = ['event_id', 'customer_id', 'occurred_at', 'score', 'survey_id', 'comment', 'channel'] as const;

/** Encodes surveys as CSV text (header first), quoting where RFC 4180 requires. */
export function surveysToCsv(data: DemoData): string {
  const field = (value: string | number | undefined) => {
    if (value === undefined) return '';
    const text = String(value);
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  const rows = data.surveys.map((survey) => SURVEY_CSV_COLUMNS.map((column) => field(survey[column])).join(','));
  return `${[SURVEY_CSV_COLUMNS.join(','), ...rows, ...data.brokenSurveyRows].join('\r\n')}\r\n`;
}

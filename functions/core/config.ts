import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { PURCHASE_MODELS } from './clv/purchase-models.ts';
import { ConfigError } from './errors.ts';
import { isCurrencyCode } from './events/schemas.ts';
import { DEFAULT_EARLIEST_EVENT_DATE, isCalendarDate } from './events/timestamps.ts';

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** Segment names the RFM step produces (sql/rfm_segments.sql). */
export const RFM_SEGMENTS = [
  'champions',
  'loyal_customers',
  'potential_loyalists',
  'new_customers',
  'promising',
  'need_attention',
  'about_to_sleep',
  'cannot_lose_them',
  'at_risk',
  'hibernating',
] as const;

const priority = (fallback: number) => z.int().min(1).max(1000).default(fallback);
const days = (fallback: number) => z.int().min(0).max(3660).default(fallback);
/** A holdout share: at most half of an audience may be held out, or the treatment loses its power. */
const holdoutShare = z.number().min(0).max(0.5);
/**
 * Overrides campaigns.holdout.share for one campaign (0 sends to everyone who qualifies).
 * Optional: without it the campaign holds out the global share.
 */
const campaignHoldoutShare = holdoutShare.optional();

/**
 * Campaign rules (sql/campaign_audience.sql). Each campaign has an on/off switch, a priority
 * (when a customer qualifies for several, the highest wins) and a cooldown in days (a customer
 * who was sent the campaign less than this many days before is not sent it again).
 */
const campaignsSchema = z.strictObject({
  /** Lapsed customers (no purchase within the activity window) who were valuable. */
  winBack: z
    .strictObject({
      enabled: z.boolean().default(true),
      priority: priority(80),
      cooldownDays: days(60),
      holdoutShare: campaignHoldoutShare,
      /**
       * Share of customers that counts as valuable, by historical net revenue or by predicted
       * CLV (either qualifies). Default 0.2.
       */
      topValueShare: z.number().gt(0).max(1).default(0.2),
      /** Customers gone longer than this are not worth a win-back message. Default 365. */
      maxDaysSinceLastPurchase: days(365),
      /**
       * With predictive CLV: only customers the selected purchase model thinks more likely gone
       * than this (churn_probability); a lapse that is usual for the customer is left alone.
       * Customers without a prediction qualify on the days alone. Default 0.5.
       */
      minChurnProbability: z.number().min(0).max(1).default(0.5),
    })
    .prefault({}),
  /** Active customers whose time since the last purchase is well past their usual gap. */
  churnRisk: z
    .strictObject({
      enabled: z.boolean().default(true),
      priority: priority(90),
      cooldownDays: days(30),
      holdoutShare: campaignHoldoutShare,
      /** "Well past" means more than this many usual gaps. Default 2. */
      gapMultiplier: z.number().min(1).max(100).default(2),
      /** Repeat purchase days needed before a usual gap means anything. Default 1. */
      minRepeatDays: z.int().min(1).max(1000).default(1),
      /**
       * With predictive CLV: an active customer whose P(alive) under the selected purchase model
       * is below this, and whose CLV if retained (predicted_clv / p_alive) is in the top
       * topValueShare, is at risk too; a one-time buyer can be, under MBG/NBD or Pareto/NBD.
       * Default 0.5.
       */
      maxProbabilityAlive: z.number().gt(0).max(1).default(0.5),
      topValueShare: z.number().gt(0).max(1).default(0.2),
    })
    .prefault({}),
  /** Customers in the best RFM segments. */
  loyaltyUpgrade: z
    .strictObject({
      enabled: z.boolean().default(true),
      priority: priority(50),
      cooldownDays: days(90),
      holdoutShare: campaignHoldoutShare,
      segments: z.array(z.enum(RFM_SEGMENTS)).min(1).default(['champions', 'loyal_customers']),
    })
    .prefault({}),
  /** Recent promoters (latest score 9-10) who also purchased recently. */
  referralAsk: z
    .strictObject({
      enabled: z.boolean().default(true),
      priority: priority(60),
      cooldownDays: days(90),
      holdoutShare: campaignHoldoutShare,
      maxDaysSinceResponse: days(60),
      maxDaysSincePurchase: days(60),
    })
    .prefault({}),
  /** Recent detractors (latest score 0-6). */
  serviceRecovery: z
    .strictObject({
      enabled: z.boolean().default(true),
      priority: priority(100),
      cooldownDays: days(30),
      holdoutShare: campaignHoldoutShare,
      maxDaysSinceResponse: days(30),
    })
    .prefault({}),
  /** One-time buyers a few weeks after their first purchase. */
  secondPurchase: z
    .strictObject({
      enabled: z.boolean().default(true),
      priority: priority(70),
      cooldownDays: days(60),
      holdoutShare: campaignHoldoutShare,
      minDaysSinceFirstPurchase: days(14),
      maxDaysSinceFirstPurchase: days(45),
    })
    .prefault({})
    .refine((rule) => rule.minDaysSinceFirstPurchase <= rule.maxDaysSinceFirstPurchase, {
      message: 'minDaysSinceFirstPurchase must not exceed maxDaysSinceFirstPurchase',
    }),
  /**
   * Randomised holdouts: of the customers a campaign selects, a share is deliberately not
   * messaged, so that what the messaged ones do can be compared with what they would have done.
   * A customer is held out when a hash of (salt, campaign, customer_id) falls below the share:
   * the same customer stays in the same group of a campaign until the salt changes.
   */
  holdout: z
    .strictObject({
      /** Share of each campaign's audience held out, 0 to 0.5. Default 0.1. */
      share: holdoutShare.default(0.1),
      /** Changing it draws every group anew. Default "customer-marketing-pipeline". */
      salt: z.string().min(1, { message: 'must not be empty' }).max(200).default('customer-marketing-pipeline'),
    })
    .prefault({}),
  /** Days after a send in which a purchase counts as a conversion. Default 30. */
  conversionWindowDays: z.int().min(1).max(3660).default(30),
  /** campaign_results pools the sends whose conversion window ended within this many days up to as_of. Default 90. */
  resultsTrailingDays: z.int().min(1).max(3660).default(90),
});

/** Where `publish` sends campaign messages. */
const publishSchema = z.discriminatedUnion('sink', [
  /** JSON Lines under <lake>/outbox/campaigns/as_of=DATE/ (the local default). */
  z.strictObject({ sink: z.literal('outbox') }),
  /** An SQS queue (standard or FIFO). */
  z.strictObject({
    sink: z.literal('sqs'),
    queueUrl: z.url({ protocol: /^https$/ }),
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/)
      .optional(),
  }),
]);

/**
 * The pipeline's settings, one validated file (JSON) with documented defaults. Unknown keys are
 * refused so that a typo does not silently fall back to a default.
 */
export const configSchema = z.strictObject({
  /** IANA zone whose calendar days and periods the metrics use. Default "UTC". */
  businessTimezone: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_+\-/]*$/, { message: 'must be an IANA time zone name, like Europe/Berlin' })
    .refine(isTimeZone, { message: 'is not a time zone this runtime knows' })
    .default('UTC'),
  /**
   * ISO 4217 code of the currency every amount of the tables is in: orders in other currencies
   * convert at the rates ingested with `pipeline ingest fx-rates`. Unset (the default): the lake
   * holds one currency, and a run that meets a second one fails naming them.
   */
  reportingCurrency: z.string().refine(isCurrencyCode, { message: 'must be an ISO 4217 currency code, like EUR' }).optional(),
  /**
   * The share of net revenue that is margin, for acquisition payback (acquisition_metrics).
   * Default 1: CLV as revenue, as the classic formulas count it.
   */
  grossMarginRate: z.number().gt(0).max(1).default(1),
  /**
   * The earliest day (UTC) an event may fall on: ingest refuses earlier ones with a reason, and
   * Athena's partition projection starts here (every run projects each day from it to today, so
   * setting it to the start of your data keeps runs quick). Default "2000-01-01".
   */
  earliestEventDate: z
    .string()
    .refine(isCalendarDate, { message: 'must be a date, YYYY-MM-DD' })
    .refine((date) => date >= '1970-01-01', { message: 'must be 1970-01-01 or later' })
    .default(DEFAULT_EARLIEST_EVENT_DATE),
  /** Calendar period for cohorts, period metrics and NPS. Default "month". */
  period: z.enum(['week', 'month', 'quarter']).default('month'),
  /** A customer is active on a day if they purchased within this many days up to it. Default 90. */
  activityWindowDays: z.int().min(1).max(3660).default(90),
  /** Length of the trailing window for the rolling NPS. Default 90. */
  npsTrailingWindowDays: z.int().min(1).max(3660).default(90),
  /** Predictive CLV (a purchase model + Gamma-Gamma). */
  clv: z
    .strictObject({
      /**
       * The purchase model behind customer_clv: "auto" (default) takes the converged one with
       * the highest log-likelihood; or one of bg_nbd, mbg_nbd, pareto_nbd.
       */
      purchaseModel: z.enum(['auto', ...PURCHASE_MODELS]).default('auto'),
      /** Months of future purchases counted in predicted_clv. Default 12. */
      horizonMonths: z.int().min(1).max(120).default(12),
      /** Monthly discount rate applied to future months. Default 0.01 (1 %). */
      monthlyDiscountRate: z.number().min(0).max(1).default(0.01),
    })
    .prefault({}),
  /** RFM scoring (sql/rfm_segments.sql). */
  rfm: z
    .strictObject({
      /**
       * Purchases a customer needs for frequency scores 2, 3, 4 and 5 (fewer than the first is
       * 1). Fixed counts instead of quintiles: most customers tie on one purchase, and quintiles
       * of tied counts skip scores, so some segments could never occur. Default [2, 3, 4, 6].
       */
      frequencyThresholds: z
        .array(z.int().min(2).max(1_000_000))
        .length(4)
        .refine((thresholds) => thresholds.every((value, index) => index === 0 || value > thresholds[index - 1]!), {
          message: 'must be strictly increasing, like [2, 3, 4, 6]',
        })
        .default([2, 3, 4, 6]),
    })
    .prefault({}),
  /** The local engine (DuckDB). */
  engine: z
    .strictObject({
      /**
       * DuckDB's memory budget; beyond it joins and aggregates spill to disk. A run keeps the
       * memory it has touched, up to the budget, until it ends. Default "3GB".
       */
      memoryLimit: z
        .string()
        .regex(/^\d+(\.\d+)?\s*(MB|GB|MiB|GiB)$/, { message: 'must be a size like 3GB or 512MB' })
        .default('3GB'),
      /**
       * DuckDB's threads for `run`. Unset (the default): one per core, DuckDB's own default. A
       * run that spills (ten million events in the 3GB budget) was faster, and took less CPU
       * time, with one thread more than the cores; smaller runs were slower (docs/operating.md).
       */
      threads: z.number().int().min(1).max(1024).optional(),
    })
    .prefault({}),
  campaigns: campaignsSchema.prefault({}),
  publish: publishSchema.default({ sink: 'outbox' }),
});

export type PipelineConfig = z.output<typeof configSchema>;

/** The configuration with every default applied. */
export const defaultConfig: PipelineConfig = configSchema.parse({});

/** Validates a configuration object; the error names the offending key. */
export function parseConfig(input: unknown, origin = 'config'): PipelineConfig {
  const result = configSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const key = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') return `unknown key ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    return `${key || 'value'}: ${issue.message}`;
  });
  throw new ConfigError(`${origin}: ${problems.join('; ')}`);
}

/** Reads and validates a configuration file; no file means the defaults. */
export async function loadConfig(path?: string): Promise<PipelineConfig> {
  if (path === undefined) return defaultConfig;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config ${path}: ${(error as Error).message}`);
  }
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config ${path} is not valid JSON: ${(error as Error).message}`);
  }
  return parseConfig(input, `config ${path}`);
}

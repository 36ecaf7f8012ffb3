import { CAMPAIGN_ASKS, CAMPAIGN_NAMES } from '../campaigns/campaigns.ts';
import { defaultConfig, RFM_SEGMENTS } from '../config.ts';
import { NPS_CATEGORIES } from './metric-definitions.ts';
import { AS_OF_COLUMN, FRACTION, atLeast, between, count, oneOf } from './types.ts';
import type { ColumnDoc, RowRule, TableDoc } from './types.ts';

/** The campaign settings' defaults, as the definitions quote them: a changed default changes the docs. */
const c = defaultConfig.campaigns;
const head = (campaign: { priority: number; cooldownDays: number }) => `${campaign.priority}, ${campaign.cooldownDays} days`;

const TREATMENT_EMPTY = 'treatment_customers is 0: everyone logged for the send was held out (or a publish that failed part-way delivered none yet)';
const HOLDOUT_EMPTY =
  'holdout_customers is 0: the campaign holds out no one (holdoutShare 0), the send was logged before holdouts existed, ' +
  'or no customer of a small audience drew a holdout';
const EITHER_EMPTY = 'treatment_customers or holdout_customers is 0: there is nothing to compare';

/**
 * Only today's audience is held to today's campaign names: the tables read from the published
 * log keep the names it was written with, and a campaign renamed later must not stop every run.
 */
const campaignColumn: ColumnDoc = {
  name: 'campaign',
  type: 'string',
  description: 'The campaign, by the name used in messages and in the published log.',
};

const asksFor: ColumnDoc = {
  name: 'asks_for',
  type: 'string',
  description:
    "What the campaign asks the customer to do, and so the outcome to read its results on: 'purchase' (the conversion figures, uplift) " +
    `or 'referral' (the referral figures, referral_uplift: ${CAMPAIGN_NAMES.filter((name) => CAMPAIGN_ASKS[name] === 'referral').join(', ')}). ` +
    "Campaigns no longer known read as 'purchase'.",
  tests: [oneOf('purchase', 'referral')],
};

const conversionWindowDays: ColumnDoc = {
  name: 'conversion_window_days',
  type: 'int',
  description: 'Days after a send in which a purchase counts as a conversion (campaigns.conversionWindowDays of this run).',
  ...count('days'),
  tests: [atLeast(1)],
};

/** The figures comparing the two groups, alike in the three tables; where a group may be empty, nullWhen is added. */
const treatmentConversionRate: ColumnDoc = {
  name: 'treatment_conversion_rate',
  type: 'double',
  description: 'treatment_converters / treatment_customers.',
  ...FRACTION,
};
const holdoutConversionRate: ColumnDoc = {
  name: 'holdout_conversion_rate',
  type: 'double',
  description: 'holdout_converters / holdout_customers: the conversion to expect without the message.',
  ...FRACTION,
};
const uplift: ColumnDoc = {
  name: 'uplift',
  type: 'double',
  description: 'treatment_conversion_rate - holdout_conversion_rate, from -1 to 1: conversions added per customer messaged (0.05 = 5 percentage points).',
  tests: [between(-1, 1)],
};
const upliftCiLow: ColumnDoc = {
  name: 'uplift_ci_low',
  type: 'double',
  description: "Lower bound of uplift's 95 % interval: uplift - sqrt((treatment rate - its Wilson low)^2 + (holdout Wilson high - holdout rate)^2).",
};
const upliftCiHigh: ColumnDoc = {
  name: 'uplift_ci_high',
  type: 'double',
  description: "Upper bound of uplift's 95 % interval: uplift + sqrt((treatment Wilson high - treatment rate)^2 + (holdout rate - its Wilson low)^2).",
};
const pValue: ColumnDoc = {
  name: 'p_value',
  type: 'double',
  unit: 'probability',
  description:
    'Two-sided two-proportion z-test of no uplift, with the pooled rate p = all converters / all customers: ' +
    '2 Phi(-|uplift| / sqrt(p (1 - p) (1 / treatment_customers + 1 / holdout_customers))), Phi the standard normal distribution; 1 when p is 0 or 1.',
  tests: [between(0, 1)],
};
const treatmentNetRevenue: ColumnDoc = {
  name: 'treatment_net_revenue',
  type: 'double',
  unit: 'currency',
  description: "Net revenue of the treatment customers' purchases in the conversion window; 0 without any.",
  tests: [atLeast(0)],
};
const holdoutNetRevenue: ColumnDoc = {
  name: 'holdout_net_revenue',
  type: 'double',
  unit: 'currency',
  description: "Net revenue of the holdout customers' purchases in the conversion window; 0 without any.",
  tests: [atLeast(0)],
};
const revenuePerTreatmentCustomer: ColumnDoc = {
  name: 'revenue_per_treatment_customer',
  type: 'double',
  unit: 'currency',
  description: 'treatment_net_revenue / treatment_customers, converters or not.',
  tests: [atLeast(0)],
};
const revenuePerHoldoutCustomer: ColumnDoc = {
  name: 'revenue_per_holdout_customer',
  type: 'double',
  unit: 'currency',
  description: 'holdout_net_revenue / holdout_customers, converters or not.',
  tests: [atLeast(0)],
};
const incrementalConverters: ColumnDoc = {
  name: 'incremental_converters',
  type: 'double',
  unit: 'customers',
  description: 'uplift x treatment_customers: conversions the message added among the customers messaged; an estimate, not a whole number.',
};
const incrementalRevenue: ColumnDoc = {
  name: 'incremental_revenue',
  type: 'double',
  unit: 'currency',
  description: '(revenue_per_treatment_customer - revenue_per_holdout_customer) x treatment_customers: net revenue in the window the message added.',
};

/** The referral outcome: the same comparison, with referrers in place of converters. */
const treatmentReferrers: ColumnDoc = {
  name: 'treatment_referrers',
  type: 'bigint',
  description: "Treatment customers who referred a new customer in the window (the new customer's first purchase named them in referred_by).",
  ...count('customers'),
};
const holdoutReferrers: ColumnDoc = {
  name: 'holdout_referrers',
  type: 'bigint',
  description: 'Holdout customers who referred a new customer in the window.',
  ...count('customers'),
};
const treatmentReferralRate: ColumnDoc = {
  name: 'treatment_referral_rate',
  type: 'double',
  description: 'treatment_referrers / treatment_customers.',
  ...FRACTION,
};
const holdoutReferralRate: ColumnDoc = {
  name: 'holdout_referral_rate',
  type: 'double',
  description: 'holdout_referrers / holdout_customers: the referring to expect without the message.',
  ...FRACTION,
};
const referralUplift: ColumnDoc = {
  name: 'referral_uplift',
  type: 'double',
  description: 'treatment_referral_rate - holdout_referral_rate: referrers added per customer messaged. The measure of referral_ask.',
  tests: [between(-1, 1)],
};
const referralUpliftCiLow: ColumnDoc = {
  name: 'referral_uplift_ci_low',
  type: 'double',
  description: "Lower bound of referral_uplift's 95 % interval, as uplift_ci_low.",
};
const referralUpliftCiHigh: ColumnDoc = {
  name: 'referral_uplift_ci_high',
  type: 'double',
  description: "Upper bound of referral_uplift's 95 % interval, as uplift_ci_high.",
};
const referralPValue: ColumnDoc = {
  name: 'referral_p_value',
  type: 'double',
  unit: 'probability',
  description: 'The two-sided two-proportion z-test of no referral_uplift, as p_value with referrers in place of converters.',
  tests: [between(0, 1)],
};
const treatmentReferredCustomers: ColumnDoc = {
  name: 'treatment_referred_customers',
  type: 'bigint',
  description: 'New customers referred in the window by treatment customers: at least treatment_referrers, as one referrer may bring several.',
  ...count('customers'),
};
const holdoutReferredCustomers: ColumnDoc = {
  name: 'holdout_referred_customers',
  type: 'bigint',
  description: 'New customers referred in the window by holdout customers.',
  ...count('customers'),
};
const incrementalReferredCustomers: ColumnDoc = {
  name: 'incremental_referred_customers',
  type: 'double',
  unit: 'customers',
  description:
    '(treatment_referred_customers / treatment_customers - holdout_referred_customers / holdout_customers) x treatment_customers: ' +
    'new customers the message brought in through referrals; an estimate.',
};

/** Referral columns after the conversion and revenue ones, alike in the three tables. */
const referralColumns = (nullable: boolean): readonly ColumnDoc[] => {
  const when = (column: ColumnDoc, reason: string) => (nullable ? { ...column, nullWhen: reason } : column);
  return [
    treatmentReferrers,
    holdoutReferrers,
    when(treatmentReferralRate, TREATMENT_EMPTY),
    when(holdoutReferralRate, HOLDOUT_EMPTY),
    when(referralUplift, EITHER_EMPTY),
    when(referralUpliftCiLow, EITHER_EMPTY),
    when(referralUpliftCiHigh, EITHER_EMPTY),
    when(referralPValue, EITHER_EMPTY),
    treatmentReferredCustomers,
    holdoutReferredCustomers,
    when(incrementalReferredCustomers, EITHER_EMPTY),
  ];
};

const comparisonColumnsWithEmptyGroups: readonly ColumnDoc[] = [
  { ...treatmentConversionRate, nullWhen: TREATMENT_EMPTY },
  { ...holdoutConversionRate, nullWhen: HOLDOUT_EMPTY },
  { ...uplift, nullWhen: EITHER_EMPTY },
  { ...upliftCiLow, nullWhen: EITHER_EMPTY },
  { ...upliftCiHigh, nullWhen: EITHER_EMPTY },
  { ...pValue, nullWhen: EITHER_EMPTY },
  treatmentNetRevenue,
  holdoutNetRevenue,
  { ...revenuePerTreatmentCustomer, nullWhen: TREATMENT_EMPTY },
  { ...revenuePerHoldoutCustomer, nullWhen: HOLDOUT_EMPTY },
  { ...incrementalConverters, nullWhen: EITHER_EMPTY },
  { ...incrementalRevenue, nullWhen: EITHER_EMPTY },
  ...referralColumns(true),
];

const comparisonRules: readonly RowRule[] = [
  { rule: 'treatment_converters <= treatment_customers', why: 'a converter is a customer of the group' },
  { rule: 'holdout_converters <= holdout_customers', why: 'a converter is a customer of the group' },
  { rule: 'uplift_ci_low <= uplift', why: 'the low bound is uplift minus a square root' },
  { rule: 'uplift <= uplift_ci_high', why: 'the high bound is uplift plus a square root' },
  { rule: 'abs(incremental_converters) <= treatment_customers', why: 'uplift x treatment customers, with |uplift| <= 1' },
  { rule: 'treatment_converters > 0 or treatment_net_revenue = 0', why: 'without a purchase in the window there is no revenue' },
  { rule: 'holdout_converters > 0 or holdout_net_revenue = 0', why: 'without a purchase in the window there is no revenue' },
  { rule: 'treatment_referrers <= treatment_customers', why: 'a referrer is a customer of the group' },
  { rule: 'holdout_referrers <= holdout_customers', why: 'a referrer is a customer of the group' },
  { rule: 'treatment_referrers <= treatment_referred_customers', why: 'a referrer referred at least one new customer' },
  { rule: 'holdout_referrers <= holdout_referred_customers', why: 'a referrer referred at least one new customer' },
  { rule: '(treatment_referrers = 0) = (treatment_referred_customers = 0)', why: 'every referred customer has a referrer' },
  { rule: '(holdout_referrers = 0) = (holdout_referred_customers = 0)', why: 'every referred customer has a referrer' },
  { rule: 'referral_uplift_ci_low <= referral_uplift', why: 'the low bound is the uplift minus a square root' },
  { rule: 'referral_uplift <= referral_uplift_ci_high', why: 'the high bound is the uplift plus a square root' },
];

const distinctCustomersRule: RowRule = {
  rule: 'distinct_customers <= treatment_customers + holdout_customers',
  why: 'the two groups count every customer of every send',
};

const emptyGroupRule: RowRule = {
  rule: '(treatment_customers > 0 and holdout_customers > 0) = (uplift_ci_low is not null and p_value is not null and incremental_revenue is not null)',
  why: 'the comparison is null exactly when a group is empty',
};

const { promoter, detractor } = NPS_CATEGORIES;

const CONVERSION = `A **converter** is a customer with at least one purchase (placed, not cancelled, not fully refunded by \`as_of\`)
dated after the send date and no later than \`window_end\` (send date + \`campaigns.conversionWindowDays\`, default ${c.conversionWindowDays})
or \`as_of\`, whichever is earlier; a customer converts at most once per send, and their net revenue in the window is
summed (as decimal). The **treatment** are the customers of a send logged in \`published_messages\` with \`is_holdout\`
false (or without it: lines logged before holdouts existed), the **holdout** those logged with \`is_holdout\` true: they
qualified on the same day and, by a random draw, were sent nothing.`;

const STATISTICS = `\`uplift\` = treatment rate - holdout rate. Its 95 % interval is Newcombe's hybrid score interval (method 10 of his
1998 paper) from the Wilson score interval of each rate, z = 1.959964. \`p_value\` is the two-sided two-proportion z-test
with the pooled rate, 1 when the pooled rate is 0 or 1. \`incremental_converters\` = uplift x treatment customers;
\`incremental_revenue\` = (revenue per treatment customer - revenue per holdout customer) x treatment customers, noisier
than the uplift. Where a group is empty, its rate and every figure comparing the groups are null.`;

const REFERRAL = `The **referral** outcome is compared the same way, with the same statistics: a **referrer** is a customer of
the group named in \`referred_by\` by a new customer whose first purchase (the first placed order not cancelled and not
fully refunded by \`as_of\`) is dated after the send date and no later than \`window_end\` or \`as_of\`. It is what the \`referral_ask\` campaign asks for, so \`referral_uplift\` is
its measure; the other campaigns carry it too (a campaign that moves referrals shows it). A referred customer whose first
order was cancelled counts when a later order becomes their first purchase and still names the referrer.`;

export const campaignTables: readonly TableDoc[] = [
  {
    name: 'campaign_audience',
    layer: 'curated',
    summary: 'The campaign actions of as_of: one row per customer chosen for a campaign, one campaign each. Publishing sends them, holding a random share out.',
    grain: ['customer_id'],
    rowMeaning: 'a customer chosen for a campaign on as_of',
    definition: `Each campaign rule proposes customers of \`customer_summary\`; each customer keeps the proposal of highest
\`priority\` (on equal priorities, the campaign first in alphabetical order), so a customer is in at most one campaign.
That action is dropped when \`published_messages\` holds the same campaign for the customer, sent or held out, on an
earlier date less than its \`cooldownDays\` before \`as_of\`: the customer then waits rather than getting the next
campaign down. "Active" means in the active customer base on \`as_of\` (a purchase in the last \`activityWindowDays\`
days); "in the top share" means a \`percent_rank\` of at least 1 - share, money ranked in cents.

Campaigns, with the defaults of \`campaigns.<name>.priority\` and \`.cooldownDays\` (each can be switched off, \`.enabled\`):

- \`service_recovery\` (${head(c.serviceRecovery)}): latest NPS answer a detractor's (${detractor.min}-${detractor.max}), given at most
  \`serviceRecovery.maxDaysSinceResponse\` (${c.serviceRecovery.maxDaysSinceResponse}) days ago.
- \`churn_risk\` (${head(c.churnRisk)}): active, and either more than \`churnRisk.gapMultiplier\` (${c.churnRisk.gapMultiplier}) usual gaps (\`recency_days\` /
  \`frequency\`, with \`frequency\` of at least \`churnRisk.minRepeatDays\`, ${c.churnRisk.minRepeatDays}) since the last purchase, or \`p_alive\` below
  \`churnRisk.maxProbabilityAlive\` (${c.churnRisk.maxProbabilityAlive}) with a CLV if retained (\`predicted_clv / p_alive\`) in the top \`churnRisk.topValueShare\` (${c.churnRisk.topValueShare}).
- \`win_back\` (${head(c.winBack)}): not active, last purchase at most \`winBack.maxDaysSinceLastPurchase\` (${c.winBack.maxDaysSinceLastPurchase}) days ago, net
  revenue or predicted CLV in the top \`winBack.topValueShare\` (${c.winBack.topValueShare}), and \`churn_probability\` of at least
  \`winBack.minChurnProbability\` (${c.winBack.minChurnProbability}) or no prediction.
- \`second_purchase\` (${head(c.secondPurchase)}): one purchase day so far, \`secondPurchase.minDaysSinceFirstPurchase\` to
  \`maxDaysSinceFirstPurchase\` (${c.secondPurchase.minDaysSinceFirstPurchase} to ${c.secondPurchase.maxDaysSinceFirstPurchase}) days ago.
- \`referral_ask\` (${head(c.referralAsk)}): latest NPS answer a promoter's (${promoter.min}-${promoter.max}), given at most
  \`referralAsk.maxDaysSinceResponse\` (${c.referralAsk.maxDaysSinceResponse}) days ago, and a purchase at most \`referralAsk.maxDaysSincePurchase\` (${c.referralAsk.maxDaysSincePurchase}) days ago.
- \`loyalty_upgrade\` (${head(c.loyaltyUpgrade)}): RFM segment in \`loyaltyUpgrade.segments\` (${c.loyaltyUpgrade.segments.map((segment) => `\`${segment}\``).join(', ')}).

The predictions are those of the selected purchase model (\`clv.purchaseModel\`). Only earlier dates count for cooldowns,
so re-running a date proposes the same audience. Holdouts are drawn when publishing, not here.`,
    columns: [
      { ...campaignColumn, tests: [oneOf(...CAMPAIGN_NAMES)] },
      { name: 'customer_id', type: 'string', description: 'The customer, as given in the events.' },
      {
        name: 'priority',
        type: 'int',
        description: "The campaign's priority (campaigns.<name>.priority): when a customer qualifies for several campaigns, the highest wins.",
        tests: [between(1, 1000)],
      },
      { name: 'reason', type: 'string', description: 'Why the customer qualified, with the figures the rule looked at; for people, not for parsing.' },
      {
        name: 'rank_in_campaign',
        type: 'bigint',
        description: "Place in the campaign's audience by net_revenue, highest first, ties by customer_id: 1 to the audience size without gaps.",
        tests: [atLeast(1)],
      },
      {
        name: 'net_revenue',
        type: 'double',
        unit: 'currency',
        description: 'Order totals minus refunds, over all purchases up to as_of.',
        tests: [atLeast(0)],
      },
      { name: 'purchases', type: 'bigint', description: 'Purchases up to as_of.', ...count('purchases'), tests: [atLeast(1)] },
      { name: 'days_since_last_purchase', type: 'bigint', description: 'Days from the latest purchase day to as_of.', ...count('days') },
      {
        name: 'last_nps_score',
        type: 'int',
        unit: 'score',
        description: 'Score (0-10) of the latest survey answer up to as_of.',
        nullWhen: 'the customer has not answered a survey',
        tests: [between(0, 10)],
      },
      { name: 'segment', type: 'string', description: "The customer's RFM segment on as_of (rfm_segments).", tests: [oneOf(...RFM_SEGMENTS)] },
      {
        name: 'p_alive',
        type: 'double',
        unit: 'probability',
        description: 'P(alive at as_of) under the selected purchase model (customer_clv).',
        nullWhen: 'no purchase model is selected, or the model gives no finite value for the customer',
        tests: [between(0, 1)],
      },
      {
        name: 'predicted_clv',
        type: 'double',
        unit: 'currency',
        description: 'Net revenue predicted over the next clv.horizonMonths months, discounted by clv.monthlyDiscountRate (customer_clv).',
        nullWhen: 'p_alive is null, or Gamma-Gamma gives no expected order value for the customer',
        tests: [atLeast(0)],
      },
      AS_OF_COLUMN,
    ],
    rules: [
      {
        rule: `campaign <> 'service_recovery' or (last_nps_score is not null and last_nps_score <= ${detractor.max})`,
        why: 'service_recovery takes detractors only',
      },
      {
        rule: `campaign <> 'referral_ask' or (last_nps_score is not null and last_nps_score >= ${promoter.min})`,
        why: 'referral_ask takes promoters only',
      },
      { rule: 'predicted_clv is null or p_alive is not null', why: 'predicted_clv is weighted by p_alive' },
    ],
  },
  {
    name: 'stg_campaign_comparisons',
    layer: 'staging',
    summary:
      "Treatment against holdout per campaign send before as_of (scope 'send') and per campaign over the sends of the results window " +
      "(scope 'trailing'): the input of campaign_outcomes and campaign_results.",
    grain: ['scope', 'campaign', 'first_send_date'],
    rowMeaning: "a campaign send (scope 'send'), or a campaign's pooled sends (scope 'trailing')",
    definition: `Scope \`send\`: one row per send date and campaign in the published log before \`as_of\` (a send on \`as_of\` has
had no day to convert in). Scope \`trailing\`: one row per campaign, the counts added up over its sends whose
\`window_end\` lies in (\`as_of\` - \`campaigns.resultsTrailingDays\`, \`as_of\`] and that have both groups; a campaign
without such a send has no row. \`send_date\` is null on \`trailing\` rows, so the grain takes \`first_send_date\`,
which is \`send_date\` on \`send\` rows.

${CONVERSION}

${STATISTICS}

${REFERRAL}`,
    columns: [
      {
        name: 'scope',
        type: 'string',
        description: "'send': one send; 'trailing': the campaign's sends pooled for campaign_results.",
        tests: [oneOf('send', 'trailing')],
      },
      campaignColumn,
      { name: 'send_date', type: 'date', description: 'The send: the as_of the audience was published for.', nullWhen: "scope is 'trailing'" },
      { name: 'first_send_date', type: 'date', description: "The earliest send in the row: send_date for scope 'send'." },
      { name: 'last_send_date', type: 'date', description: "The latest send in the row: send_date for scope 'send'." },
      { name: 'sends', type: 'bigint', description: "Sends (send dates) in the row: 1 for scope 'send'.", tests: [atLeast(1)] },
      conversionWindowDays,
      { name: 'window_end', type: 'date', description: 'The last day of the conversion window of last_send_date: last_send_date + conversion_window_days.' },
      {
        name: 'window_complete',
        type: 'boolean',
        description: "window_end <= as_of; while false the figures count purchases and referrals up to as_of only. Always true for scope 'trailing'.",
      },
      { name: 'treatment_customers', type: 'bigint', description: "Customers messaged; for scope 'trailing', summed over the sends.", ...count('customers') },
      { name: 'holdout_customers', type: 'bigint', description: "Customers held out; for scope 'trailing', summed over the sends.", ...count('customers') },
      { name: 'treatment_converters', type: 'bigint', description: 'Treatment customers who converted in the window.', ...count('customers') },
      { name: 'holdout_converters', type: 'bigint', description: 'Holdout customers who converted in the window.', ...count('customers') },
      {
        name: 'distinct_customers',
        type: 'bigint',
        description: "Different customers behind the row: treatment + holdout customers for scope 'send', fewer when pooled sends share customers.",
        ...count('customers'),
        tests: [atLeast(1)],
      },
      ...comparisonColumnsWithEmptyGroups,
    ],
    rules: [
      { rule: "(scope = 'send') = (send_date is not null)", why: 'only a single send has a send date' },
      { rule: "scope <> 'send' or (sends = 1 and first_send_date = send_date and last_send_date = send_date)", why: 'a send row is one send' },
      { rule: "scope <> 'send' or distinct_customers = treatment_customers + holdout_customers", why: 'a customer is in one group of a send' },
      {
        rule: "scope <> 'trailing' or (window_complete and treatment_customers > 0 and holdout_customers > 0)",
        why: 'only complete windows of sends with both groups are pooled',
      },
      { rule: 'first_send_date <= last_send_date', why: 'first and last of the same sends' },
      { rule: "sends <= date_diff('day', first_send_date, last_send_date) + 1", why: 'a campaign has one send per date' },
      { rule: "date_diff('day', last_send_date, window_end) = conversion_window_days", why: 'the window runs from the latest send' },
      { rule: 'treatment_customers + holdout_customers >= 1', why: 'a send logs at least one customer' },
      distinctCustomersRule,
      ...comparisonRules,
      emptyGroupRule,
    ],
  },
  {
    name: 'campaign_outcomes',
    layer: 'curated',
    summary:
      'One row per campaign send before as_of: messaged against held-out customers in the conversion window, with the uplift in conversion, ' +
      'its 95 % interval, the p-value and the incremental revenue.',
    grain: ['send_date', 'campaign'],
    rowMeaning: 'a campaign send before as_of',
    definition: `One row per send date and campaign in the published log before \`as_of\` (a send on \`as_of\` has had no day to
convert in). While \`window_complete\` is false the figures count purchases up to \`as_of\` only and can still grow. A
single send's holdout is small and its figures are noisy: read \`campaign_results\` for decisions.

${CONVERSION}

${STATISTICS}

${REFERRAL}`,
    columns: [
      { name: 'send_date', type: 'date', description: 'The send: the as_of the audience was published for.' },
      campaignColumn,
      asksFor,
      conversionWindowDays,
      { name: 'window_end', type: 'date', description: 'The last day of the conversion window: send_date + conversion_window_days.' },
      { name: 'window_complete', type: 'boolean', description: 'window_end <= as_of; while false the figures count purchases and referrals up to as_of only.' },
      { name: 'treatment_customers', type: 'bigint', description: 'Customers of the send who were messaged.', ...count('customers') },
      { name: 'holdout_customers', type: 'bigint', description: 'Customers of the send who qualified and were held out, sent nothing.', ...count('customers') },
      { name: 'treatment_converters', type: 'bigint', description: 'Treatment customers who converted in the window.', ...count('customers') },
      { name: 'holdout_converters', type: 'bigint', description: 'Holdout customers who converted in the window.', ...count('customers') },
      ...comparisonColumnsWithEmptyGroups,
      AS_OF_COLUMN,
    ],
    rules: [
      { rule: 'send_date < as_of', why: 'only sends before as_of are measured' },
      { rule: "date_diff('day', send_date, window_end) = conversion_window_days", why: 'the window runs from the send' },
      { rule: 'window_complete = (window_end <= as_of)', why: 'what a complete window is' },
      { rule: 'treatment_customers + holdout_customers >= 1', why: 'a send logs at least one customer' },
      ...comparisonRules,
      emptyGroupRule,
    ],
  },
  {
    name: 'campaign_results',
    layer: 'curated',
    summary:
      'One row per campaign: messaged against held-out customers, pooled over the sends that held customers out and whose conversion window ' +
      'ended in the trailing results window. The table to read for decisions.',
    grain: ['campaign'],
    rowMeaning: 'a campaign with at least one pooled send',
    definition: `The figures of \`campaign_outcomes\`, added up over the campaign's sends whose \`window_end\` lies in
(\`as_of\` - \`campaigns.resultsTrailingDays\` (default ${c.resultsTrailingDays}), \`as_of\`], so only complete windows, and that have both
groups: a send without a holdout has nothing to compare with. A campaign with no such send has no row. The unit is a send
to a customer: a customer in two sends counts twice, in the same group both times, and \`distinct_customers\` says how
many people are behind the figures. The interval treats every send to a customer as independent, so when
\`distinct_customers\` is well below treatment + holdout customers it is somewhat too narrow. After a change of the
holdout share, pooling mixes sends of different shares: read \`campaign_outcomes\` send by send across it.

${CONVERSION}

${STATISTICS}

${REFERRAL}`,
    columns: [
      campaignColumn,
      asksFor,
      {
        name: 'sends',
        type: 'bigint',
        description: "Sends pooled: the campaign's send dates whose window ended in the results window and that had both groups.",
        tests: [atLeast(1)],
      },
      { name: 'first_send_date', type: 'date', description: 'The earliest pooled send.' },
      { name: 'last_send_date', type: 'date', description: 'The latest pooled send.' },
      {
        name: 'results_trailing_days',
        type: 'int',
        description: 'The results window (campaigns.resultsTrailingDays): sends whose window ended in (as_of - results_trailing_days, as_of] are pooled.',
        ...count('days'),
        tests: [atLeast(1)],
      },
      conversionWindowDays,
      {
        name: 'treatment_customers',
        type: 'bigint',
        description: 'Customers messaged, summed over the pooled sends: a customer in two sends counts twice.',
        ...count('customers'),
        tests: [atLeast(1)],
      },
      {
        name: 'holdout_customers',
        type: 'bigint',
        description: 'Customers held out, summed over the pooled sends: a customer in two sends counts twice.',
        ...count('customers'),
        tests: [atLeast(1)],
      },
      {
        name: 'treatment_converters',
        type: 'bigint',
        description: "Treatment customers who converted in their send's window, summed over the sends.",
        ...count('customers'),
      },
      {
        name: 'holdout_converters',
        type: 'bigint',
        description: "Holdout customers who converted in their send's window, summed over the sends.",
        ...count('customers'),
      },
      {
        name: 'distinct_customers',
        type: 'bigint',
        description: 'Different customers in the pooled sends, in either group.',
        ...count('customers'),
        tests: [atLeast(1)],
      },
      treatmentConversionRate,
      holdoutConversionRate,
      uplift,
      upliftCiLow,
      upliftCiHigh,
      pValue,
      treatmentNetRevenue,
      holdoutNetRevenue,
      revenuePerTreatmentCustomer,
      revenuePerHoldoutCustomer,
      incrementalConverters,
      incrementalRevenue,
      ...referralColumns(false),
      AS_OF_COLUMN,
    ],
    rules: [
      { rule: 'first_send_date <= last_send_date', why: 'first and last of the same sends' },
      { rule: "sends <= date_diff('day', first_send_date, last_send_date) + 1", why: 'a campaign has one send per date' },
      { rule: "date_diff('day', last_send_date, as_of) >= conversion_window_days", why: 'only complete windows are pooled' },
      {
        rule: "date_diff('day', first_send_date, as_of) < conversion_window_days + results_trailing_days",
        why: 'every pooled window ended within the results window',
      },
      distinctCustomersRule,
      ...comparisonRules,
    ],
  },
];

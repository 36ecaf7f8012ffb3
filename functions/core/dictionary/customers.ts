import { PURCHASE_MODELS } from '../clv/purchase-models.ts';
import { defaultConfig, RFM_SEGMENTS } from '../config.ts';
import { NPS_CATEGORIES } from './metric-definitions.ts';
import { AS_OF_COLUMN, atLeast, between, count, FRACTION, oneOf } from './types.ts';
import type { TableDoc } from './types.ts';

export const customerSummary: TableDoc = {
  name: 'customer_summary',
  layer: 'curated',
  summary: 'One row per customer with at least one purchase up to as_of: purchase history, value, the purchase models\' inputs and the latest NPS answer.',
  grain: ['customer_id'],
  rowMeaning: 'a customer with a purchase',
  columns: [
    { name: 'customer_id', type: 'string', description: 'The customer, as given in the events.' },
    { name: 'first_purchase_at', type: 'timestamp', description: "When the customer's first purchase was placed (UTC)." },
    { name: 'last_purchase_at', type: 'timestamp', description: "When the customer's latest purchase was placed (UTC)." },
    { name: 'first_purchase_date', type: 'date', description: 'The date of the first purchase, in the business time zone.' },
    { name: 'last_purchase_date', type: 'date', description: 'The date of the latest purchase, in the business time zone.' },
    { name: 'cohort_start', type: 'date', description: "First day of the period of the first purchase: the customer's acquisition cohort." },
    { name: 'purchases', type: 'bigint', description: 'Purchases up to as_of.', ...count('purchases'), tests: [atLeast(1)] },
    { name: 'purchase_days', type: 'bigint', description: 'Distinct dates with a purchase.', ...count('purchases'), tests: [atLeast(1)] },
    { name: 'net_revenue', type: 'double', unit: 'currency', description: 'Order totals minus refunds, over all purchases up to as_of.', tests: [atLeast(0)] },
    { name: 'aov', type: 'double', unit: 'currency', description: 'Average order value: net_revenue / purchases.', tests: [atLeast(0)] },
    {
      name: 'frequency',
      type: 'bigint',
      description: 'Repeat purchase days: purchase_days - 1, as the purchase models count purchases.',
      ...count('purchases'),
    },
    { name: 'recency_days', type: 'bigint', description: 'Days from the first to the latest purchase day.', ...count('days') },
    { name: 'tenure_days', type: 'bigint', description: 'Days from the first purchase day to as_of.', ...count('days') },
    { name: 'days_since_last_purchase', type: 'bigint', description: 'Days from the latest purchase day to as_of: the RFM recency.', ...count('days') },
    { name: 'is_active', type: 'boolean', description: 'In the active customer base at as_of (stg_customer_base): a purchase in the last activityWindowDays days.' },
    {
      name: 'avg_repeat_day_net_revenue',
      type: 'double',
      unit: 'currency',
      description: "The mean net revenue per repeat purchase day (the first day left out): Gamma-Gamma's spend input.",
      nullWhen: 'the customer has bought on one day only',
      tests: [atLeast(0)],
    },
    { name: 'last_nps_score', type: 'int', unit: 'score', description: 'Score (0-10) of the latest survey answer up to as_of.', nullWhen: 'the customer has not answered a survey', tests: [{ kind: 'range', min: 0, max: 10 }] },
    {
      name: 'last_nps_category',
      type: 'string',
      description: 'The NPS category of last_nps_score: promoter, passive or detractor.',
      nullWhen: 'the customer has not answered a survey',
      tests: [oneOf(...Object.keys(NPS_CATEGORIES))],
    },
    { name: 'last_nps_at', type: 'timestamp', description: 'When the latest survey answer was given (UTC).', nullWhen: 'the customer has not answered a survey' },
    { name: 'last_nps_date', type: 'date', description: 'The date of the latest survey answer, in the business time zone.', nullWhen: 'the customer has not answered a survey' },
    AS_OF_COLUMN,
  ],
  rules: [
    { rule: 'purchase_days <= purchases', why: 'a purchase day holds at least one purchase' },
    { rule: 'frequency = purchase_days - 1', why: 'frequency counts the repeat purchase days' },
    { rule: 'recency_days <= tenure_days', why: 'the latest purchase is not after as_of' },
    { rule: 'tenure_days = recency_days + days_since_last_purchase', why: 'first purchase to last, then last to as_of' },
    { rule: '(frequency = 0) = (avg_repeat_day_net_revenue is null)', why: 'only repeat purchase days have a mean spend' },
  ],
};

/** "1 give F 1, 2 give F 2, 4-5 give F 4, 6 or more give F 5", from the thresholds. */
function frequencyRanges(thresholds: readonly number[]): string {
  const starts = [1, ...thresholds];
  return starts
    .map((start, index) => {
      const next = starts[index + 1];
      const range = next === undefined ? `${start} or more` : next - 1 === start ? `${start}` : `${start}-${next - 1}`;
      return `${range} give F ${index + 1}`;
    })
    .join(', ');
}

export const rfmSegments: TableDoc = {
  name: 'rfm_segments',
  layer: 'curated',
  summary: 'One row per customer with a purchase: recency, frequency and monetary scores 1-5 and the named segment.',
  grain: ['customer_id'],
  rowMeaning: 'a customer with a purchase',
  definition: [
    'Recency = days since the last purchase and monetary = net revenue (ranked in cents) are scored 1-5 by quintile of',
    '`percent_rank` among the customers (5 = most recent, highest value; tied customers share a score). Frequency = purchases is',
    `scored by fixed counts, \`rfm.frequencyThresholds\` (default ${defaultConfig.rfm.frequencyThresholds.join(', ')}): F 2 from the first count,`,
    `F 5 from the last, F 1 below (by default, purchases ${frequencyRanges(defaultConfig.rfm.frequencyThresholds)}). Quintiles would not do:`,
    'most customers tie on one purchase, and quintiles of tied counts skip scores, so some segments could never occur.',
    'The segment follows from the R and F scores: champions (R 5, F 4-5), loyal_customers (R 3-5, F 4-5), potential_loyalists',
    '(R 4-5, F 2-3), new_customers (R 5, F 1), promising (R 4, F 1), need_attention (R 3, F 3), about_to_sleep (R 3, F 1-2),',
    'cannot_lose_them (R 1-2, F 5), at_risk (R 1-2, F 3-4), hibernating (R 1-2, F 1-2); the first rule that matches wins.',
  ].join('\n'),
  columns: [
    { name: 'customer_id', type: 'string', description: 'The customer.' },
    { name: 'r_score', type: 'int', unit: 'score', description: 'Recency score, 5 = bought most recently.', tests: [between(1, 5)] },
    { name: 'f_score', type: 'int', unit: 'score', description: 'Frequency score from the purchase count (rfm.frequencyThresholds), 5 = most purchases.', tests: [between(1, 5)] },
    { name: 'm_score', type: 'int', unit: 'score', description: 'Monetary score, 5 = highest net revenue.', tests: [between(1, 5)] },
    { name: 'rfm_cell', type: 'string', description: 'The three scores as one code, R then F then M ("545").' },
    { name: 'segment', type: 'string', description: 'The named segment of the R and F scores.', tests: [oneOf(...RFM_SEGMENTS)] },
    { name: 'days_since_last_purchase', type: 'bigint', description: 'Recency: days from the latest purchase day to as_of.', ...count('days') },
    { name: 'purchases', type: 'bigint', description: 'Frequency: purchases up to as_of.', ...count('purchases'), tests: [atLeast(1)] },
    { name: 'net_revenue', type: 'double', unit: 'currency', description: 'Monetary value: net revenue up to as_of.', tests: [atLeast(0)] },
    AS_OF_COLUMN,
  ],
  rules: [{ rule: "rfm_cell = cast(r_score as varchar) || cast(f_score as varchar) || cast(m_score as varchar)", why: 'the cell is the three scores' }],
};

export const clvSummary: TableDoc = {
  name: 'clv_summary',
  layer: 'curated',
  summary: 'One row: the customer base in totals (customers, purchases, revenue, repeat-purchase rate) and the classic customer lifetime value.',
  grain: [],
  rowMeaning: 'the whole customer base (one row)',
  definition: [
    '**Classic CLV** = aov x purchase_frequency_per_year x expected_lifespan_years, where the lifespan is 1 / annual churn rate.',
    'The observed window runs from the first purchase day to as_of, both included. The annual churn rate is the share of the active',
    'base (stg_customer_base) a year before as_of (as_of - 365 days) that is not in the base at as_of. With less than a year of',
    'history, or no churn, lifespan and CLV are null. The **repeat-purchase rate** is the share of customers with two or more purchases.',
  ].join('\n'),
  columns: [
    { name: 'customers', type: 'bigint', description: 'Customers with a purchase (placed, not cancelled, not fully refunded) up to as_of.', ...count('customers') },
    { name: 'purchases', type: 'bigint', description: 'Purchases up to as_of.', ...count('purchases') },
    { name: 'net_revenue', type: 'double', unit: 'currency', description: 'Order totals minus refunds, over all purchases up to as_of.', nullWhen: 'there is no purchase', tests: [atLeast(0)] },
    { name: 'repeat_customers', type: 'bigint', description: 'Customers with two or more purchases.', ...count('customers') },
    { name: 'repeat_purchase_rate', type: 'double', description: 'The share of customers with two or more purchases: repeat_customers / customers.', nullWhen: 'there is no customer', ...FRACTION },
    { name: 'observed_days', type: 'bigint', unit: 'days', description: 'Days from the first purchase day to as_of, both included.', nullWhen: 'there is no purchase', tests: [atLeast(1)] },
    { name: 'aov', type: 'double', unit: 'currency', description: 'Average order value: net_revenue / purchases.', nullWhen: 'there is no purchase', tests: [atLeast(0)] },
    {
      name: 'purchase_frequency_per_year',
      type: 'double',
      unit: 'per year',
      description: 'Purchases per customer per year: purchases / customers / (observed_days / 365.25).',
      nullWhen: 'there is no purchase',
      tests: [atLeast(0)],
    },
    { name: 'customers_year_ago', type: 'bigint', description: 'Customers in the active base a year before as_of.', ...count('customers') },
    { name: 'churned_since', type: 'bigint', description: 'Of those, customers not in the active base at as_of.', ...count('customers') },
    { name: 'annual_churn_rate', type: 'double', description: 'churned_since / customers_year_ago.', nullWhen: 'nobody was in the base a year before as_of', ...FRACTION },
    { name: 'expected_lifespan_years', type: 'double', unit: 'years', description: '1 / annual_churn_rate.', nullWhen: 'the annual churn rate is null or 0', tests: [atLeast(1)] },
    { name: 'clv_simple', type: 'double', unit: 'currency', description: 'Classic CLV: aov x purchase_frequency_per_year x expected_lifespan_years, the lifespan being 1 / annual_churn_rate.', nullWhen: 'the lifespan is null', tests: [atLeast(0)] },
    AS_OF_COLUMN,
  ],
  rules: [
    { rule: 'repeat_customers <= customers', why: 'repeat customers are customers' },
    { rule: 'customers <= purchases', why: 'every customer has a purchase' },
    { rule: 'churned_since <= customers_year_ago', why: 'only customers of the base a year ago can have left it' },
  ],
};

const PURCHASE_MODEL_ONLY = 'the row is not a purchase model with this parameter';

export const clvModel: TableDoc = {
  name: 'clv_model',
  layer: 'curated',
  summary: 'One row per model fitted for predictive CLV: the purchase models (BG/NBD, MBG/NBD, Pareto/NBD) and Gamma-Gamma for spend, with parameters and fit.',
  grain: ['model'],
  rowMeaning: 'a fitted model',
  definition: [
    'The purchase models give purchase counts and P(alive), Gamma-Gamma (Fader & Hardie) the spend. They are fitted by maximum',
    'likelihood in **weeks** on the customers of customer_summary: x = `frequency`, t_x = `recency_days` / 7, T = `tenure_days` / 7;',
    'Gamma-Gamma on the repeat buyers with their `avg_repeat_day_net_revenue`. Three purchase models are fitted, a row each:',
    '',
    '| `model` | drop-out | parameters |',
    '|---|---|---|',
    '| `bg_nbd` | BG/NBD (Fader, Hardie & Lee 2005): only right after a repeat purchase, so every one-time buyer has P(alive) = 1 | `r, alpha, a, b` |',
    '| `mbg_nbd` | MBG/NBD (Batislam, Denizel & Filiztekin 2007): right after any purchase, the first included | `r, alpha, a, b` |',
    '| `pareto_nbd` | Pareto/NBD (Schmittlein, Morrison & Colombo 1987): at any moment | `r, alpha, s, beta` |',
    '',
    '**Which model drives customer_clv** (`selected` true on its row) is `clv.purchaseModel`: `auto` (the default) takes the model',
    'with the highest log-likelihood among those that converged (the three have four parameters each, so their likelihoods compare',
    'as they are; `pipeline validate-clv` shows how each predicts a holdout); a model name takes that model whatever its fit. A fit',
    'that did not converge, or sent a parameter to the edge of its search (beyond e^±9: data without drop-out, or without differences',
    'between customers), has `converged` false and a `note`, and `auto` never selects it; when no fit converged nothing is selected and',
    "customer_clv's predictions are null. With fewer than 10 repeat buyers nothing is fitted (`converged` false, a `note` says why).",
  ].join('\n'),
  columns: [
    { name: 'model', type: 'string', description: 'bg_nbd, mbg_nbd or pareto_nbd (purchases and drop-out), or gamma_gamma (spend).', tests: [oneOf(...PURCHASE_MODELS, 'gamma_gamma')] },
    { name: 'selected', type: 'boolean', description: 'This purchase model drives customer_clv (always false for gamma_gamma).' },
    { name: 'r', type: 'double', unit: 'model parameter', description: 'Shape of the gamma distribution of purchase rates.', nullWhen: `${PURCHASE_MODEL_ONLY}, or it was not fitted`, tests: [atLeast(0)] },
    { name: 'alpha', type: 'double', unit: 'model parameter', description: 'Scale of the gamma distribution of purchase rates (weeks).', nullWhen: `${PURCHASE_MODEL_ONLY}, or it was not fitted`, tests: [atLeast(0)] },
    { name: 'a', type: 'double', unit: 'model parameter', description: 'BG/NBD and MBG/NBD: first shape of the beta distribution of drop-out probabilities.', nullWhen: 'the model is not bg_nbd or mbg_nbd, or it was not fitted', tests: [atLeast(0)] },
    { name: 'b', type: 'double', unit: 'model parameter', description: 'BG/NBD and MBG/NBD: second shape of the beta distribution of drop-out probabilities.', nullWhen: 'the model is not bg_nbd or mbg_nbd, or it was not fitted', tests: [atLeast(0)] },
    { name: 's', type: 'double', unit: 'model parameter', description: 'Pareto/NBD: shape of the gamma distribution of drop-out rates.', nullWhen: 'the model is not pareto_nbd, or it was not fitted', tests: [atLeast(0)] },
    { name: 'beta', type: 'double', unit: 'model parameter', description: 'Pareto/NBD: scale of the gamma distribution of drop-out rates (weeks).', nullWhen: 'the model is not pareto_nbd, or it was not fitted', tests: [atLeast(0)] },
    { name: 'p', type: 'double', unit: 'model parameter', description: 'Gamma-Gamma: shape of the gamma distribution of spend per transaction.', nullWhen: 'the model is not gamma_gamma, or it was not fitted', tests: [atLeast(0)] },
    { name: 'q', type: 'double', unit: 'model parameter', description: 'Gamma-Gamma: shape of the gamma distribution of customers\' mean spend.', nullWhen: 'the model is not gamma_gamma, or it was not fitted', tests: [atLeast(0)] },
    { name: 'v', type: 'double', unit: 'model parameter', description: 'Gamma-Gamma: scale of the gamma distribution of customers\' mean spend.', nullWhen: 'the model is not gamma_gamma, or it was not fitted', tests: [atLeast(0)] },
    { name: 'time_unit', type: 'string', description: 'The time unit of the purchase models\' rates: week.', tests: [oneOf('week')] },
    { name: 'log_likelihood', type: 'double', description: 'The maximised log-likelihood, over every customer the model was fitted to.', nullWhen: 'the model was not fitted' },
    { name: 'customers', type: 'int', description: 'Customers the model describes (repeat buyers for gamma_gamma).', ...count('customers') },
    { name: 'converged', type: 'boolean', description: 'The fit converged inside its search bounds; auto selection considers only these.' },
    { name: 'iterations', type: 'int', description: 'Iterations of the optimiser.', tests: [atLeast(0)] },
    { name: 'horizon_months', type: 'int', unit: 'months', description: 'The CLV horizon (clv.horizonMonths).', tests: [atLeast(1)] },
    { name: 'monthly_discount_rate', type: 'double', unit: 'fraction', description: 'The monthly discount rate of predicted CLV (clv.monthlyDiscountRate).', tests: [between(0, 1)] },
    { name: 'note', type: 'string', description: 'Why a fit is not trusted or how it was chosen, in words.', nullWhen: 'there is nothing to say' },
    AS_OF_COLUMN,
  ],
  rules: [
    { rule: "not selected or model <> 'gamma_gamma'", why: 'only a purchase model is selected' },
    { rule: "(model = 'gamma_gamma') = (p is not null) or iterations = 0", why: 'only Gamma-Gamma has spend parameters' },
  ],
};

const PER_CUSTOMER_PREDICTION = 'no purchase model is selected (see clv_model.note)';
const PREDICTED_COUNT = `${PER_CUSTOMER_PREDICTION}, or its formulas break down for this history (a fit at the edge of its search gives impossible values)`;

export const customerClv: TableDoc = {
  name: 'customer_clv',
  layer: 'curated',
  summary: 'One row per customer with a purchase: P(alive), churn probability, expected purchases, next purchase date, expected order value and predicted CLV.',
  grain: ['customer_id'],
  rowMeaning: 'a customer with a purchase',
  definition: [
    'From the selected purchase model and Gamma-Gamma (clv_model), per customer:',
    '',
    '- `p_alive` = P(alive at as_of | x, t_x, T); `churn_probability` = 1 - `p_alive`.',
    '- `expected_purchases` = purchase days expected in the next `clv.horizonMonths` months (12); `expected_purchases_30d`, `_90d`,',
    '  `_365d` over the next 30, 90 and 365 days. Each is `p_alive` x the purchase days expected from a customer still alive.',
    '- `expected_next_purchase_date` = as_of + m days rounded up, where m is the median wait to the next purchase of a customer *still',
    '  alive at as_of*: the first date by which they have bought again as likely as not. Under BG/NBD and MBG/NBD a live customer',
    '  leaves only at a purchase, so m = (alpha + T)(2^(1 / (r + x)) - 1) weeks; under Pareto/NBD they may leave before buying, and',
    '  m solves P(a purchase within m, before leaving) = 1/2 numerically. Null when m is beyond the horizon or the chance never',
    '  reaches one half. It assumes the customer is alive: read it with `churn_probability`.',
    '- `expected_order_value` = the Gamma-Gamma conditional mean p (v + x mean spend) / (p x + q - 1) (the population mean for',
    '  one-time buyers; null where that is not positive).',
    '- `predicted_clv` = sum over months m of expected order value x expected purchases in month m / (1 + d)^m, with',
    '  d = `clv.monthlyDiscountRate` (1 %).',
  ].join('\n'),
  columns: [
    { name: 'customer_id', type: 'string', description: 'The customer.' },
    { name: 'historical_net_revenue', type: 'double', unit: 'currency', description: 'Net revenue up to as_of (customer_summary.net_revenue).', tests: [atLeast(0)] },
    { name: 'frequency', type: 'int', description: 'Repeat purchase days (x).', ...count('purchases') },
    { name: 'recency_weeks', type: 'double', unit: 'weeks', description: 'First to latest purchase day (t_x).', tests: [atLeast(0)] },
    { name: 'tenure_weeks', type: 'double', unit: 'weeks', description: 'First purchase day to as_of (T).', tests: [atLeast(0)] },
    { name: 'p_alive', type: 'double', unit: 'probability', description: 'P(the customer is still a customer at as_of | their history).', nullWhen: PER_CUSTOMER_PREDICTION, tests: [between(0, 1)] },
    { name: 'churn_probability', type: 'double', unit: 'probability', description: '1 - p_alive: the probability the customer has left.', nullWhen: PER_CUSTOMER_PREDICTION, tests: [between(0, 1)] },
    { name: 'expected_purchases', type: 'double', unit: 'purchases', description: 'Purchase days expected in the next clv.horizonMonths months.', nullWhen: PREDICTED_COUNT, tests: [atLeast(0)] },
    { name: 'expected_purchases_30d', type: 'double', unit: 'purchases', description: 'Purchase days expected in the next 30 days.', nullWhen: PREDICTED_COUNT, tests: [atLeast(0)] },
    { name: 'expected_purchases_90d', type: 'double', unit: 'purchases', description: 'Purchase days expected in the next 90 days.', nullWhen: PREDICTED_COUNT, tests: [atLeast(0)] },
    { name: 'expected_purchases_365d', type: 'double', unit: 'purchases', description: 'Purchase days expected in the next 365 days.', nullWhen: PREDICTED_COUNT, tests: [atLeast(0)] },
    { name: 'average_days_between_purchases', type: 'double', unit: 'days', description: 'recency_days / frequency: the mean gap between purchase days.', nullWhen: 'the customer bought on one day only', tests: [atLeast(0)] },
    {
      name: 'expected_next_purchase_date',
      type: 'date',
      description: 'The first date by which a customer still alive has bought again as likely as not.',
      nullWhen: `${PER_CUSTOMER_PREDICTION}, the wait is beyond the horizon, or the chance never reaches one half`,
    },
    {
      name: 'expected_order_value',
      type: 'double',
      unit: 'currency',
      description: "Gamma-Gamma's expected spend per purchase day given the customer's spend (the population mean for one-time buyers).",
      nullWhen: 'Gamma-Gamma was not fitted, or its mean is not positive (q <= 1)',
      tests: [atLeast(0)],
    },
    { name: 'predicted_clv', type: 'double', unit: 'currency', description: 'Net revenue expected over the next clv.horizonMonths months: expected order value x expected purchases month by month, discounted.', nullWhen: 'p_alive, expected_order_value or the expected purchases are null', tests: [atLeast(0)] },
    AS_OF_COLUMN,
  ],
  rules: [
    { rule: 'expected_purchases_30d <= expected_purchases_90d and expected_purchases_90d <= expected_purchases_365d', why: 'a longer window holds at least as many purchases' },
    { rule: 'expected_next_purchase_date > as_of', why: 'the next purchase is after as_of' },
  ],
};

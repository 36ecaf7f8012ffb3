import { NPS_CATEGORIES, NPS_CATEGORY_TEXT } from './metric-definitions.ts';
import { AS_OF_COLUMN, atLeast, between, count, oneOf } from './types.ts';
import type { ColumnDoc, TableDoc } from './types.ts';

const periodStartOf = (date: string): ColumnDoc => ({
  name: 'period_start',
  type: 'date',
  description: `First day of the period holding ${date}: a calendar month, a week from Monday or a quarter, as configured (period).`,
});

const FITTED_ONLY =
  'Empty when no purchase model is selected: with fewer than 10 repeat buyers nothing is fitted, and under clv.purchaseModel auto ' +
  'nothing is selected when no fit converged (see clv_model).';

const NOT_FINITE = 'the formula gives no finite value (a hypergeometric series beyond double range, at parameters far out toward the edge of the search)';

export const stagingTables: readonly TableDoc[] = [
  {
    name: 'stg_order_events',
    layer: 'staging',
    summary: 'Order events up to as_of, once each: the first delivery received of every event_id, dated in the business time zone.',
    grain: ['event_id'],
    rowMeaning: 'an order event',
    definition:
      'The first delivery of each event_id is chosen among all deliveries, by received_at, then ingest_id, then record_number, and only then ' +
      'are events dated after as_of (in the business time zone) left out: a later delivery that carries an earlier date cannot replace the first.\n\n' +
      'Every event received before the run counts, however late it arrived; one received after the run counts from the next run. ' +
      'extras are not carried.',
    columns: [
      { name: 'event_id', type: 'string', description: 'The event, as its producer named it.' },
      { name: 'order_id', type: 'string', description: 'The order the event is about.' },
      { name: 'customer_id', type: 'string', description: 'The customer, as given in the event.' },
      { name: 'occurred_at', type: 'timestamp', description: 'When the event happened (UTC).' },
      { name: 'occurred_date', type: 'date', description: 'The date of occurred_at in the business time zone; on or before as_of.' },
      {
        name: 'status',
        type: 'string',
        description: 'What happened to the order: placed, cancelled or refunded.',
        tests: [oneOf('placed', 'cancelled', 'refunded')],
      },
      { name: 'total', type: 'double', unit: 'original currency', description: "The order's total as the event gave it.", tests: [atLeast(0)] },
      { name: 'currency', type: 'string', description: 'The ISO 4217 code of the amounts.' },
      {
        name: 'refunded_amount',
        type: 'double',
        unit: 'original currency',
        description: 'The amount refunded, as the event states it; read on refunded events only.',
        nullWhen: 'the event gave no amount: on a refunded event that means the whole order was refunded',
        tests: [atLeast(0)],
      },
      { name: 'channel', type: 'string', description: 'The channel the event gave.', nullWhen: 'the event gave no channel' },
      { name: 'items', type: 'string', description: "The event's lines, as the JSON array stored at ingest.", nullWhen: 'the event gave no items' },
      { name: 'referred_by', type: 'string', description: 'The referrer the event named.', nullWhen: 'the event named no referrer' },
    ],
  },
  {
    name: 'stg_fx_rates',
    layer: 'staging',
    summary: 'The exchange rate usable on each day up to as_of, per currency: the rate of the day, or the latest one dated up to 7 days before it.',
    grain: ['currency', 'usable_date'],
    rowMeaning: 'the rate of a currency usable on a day',
    definition:
      'The one definition of which rate converts an amount dated d: of the rates received (the last one received for a currency and date ' +
      'counts), the one dated d, or else the latest dated in the 7 days before d. Days with no rate within 7 days have no row. Orders ' +
      '(stg_placements) and spend (stg_spend) join on their date.',
    columns: [
      { name: 'currency', type: 'string', description: 'The ISO 4217 code the rate converts from.' },
      { name: 'usable_date', type: 'date', description: 'The day the rate converts amounts of; on or before as_of.' },
      { name: 'rate_date', type: 'date', description: 'The date of the rate used: usable_date or up to 7 days before.' },
      { name: 'rate', type: 'double', description: 'Units of the reporting currency one unit of currency is worth.', tests: [atLeast(0)] },
    ],
    rules: [
      { rule: "rate_date <= usable_date and rate_date >= cast(usable_date - interval '7' day as date)", why: 'a rate converts its own day and the 7 after it' },
    ],
  },
  {
    name: 'stg_placements',
    layer: 'staging',
    summary: "One row per order placed up to as_of: its first placed event, and the rate that converts the order's amounts to the reporting currency.",
    grain: ['order_id'],
    rowMeaning: 'an order with a placed event',
    definition:
      "Of an order's placed events up to as_of, the earliest (then the lowest event_id) is the order. Its **rate** is 1 when the order is in " +
      'the reporting currency or none is set; otherwise the rate of its currency dated on the order date, or else the latest one dated up to 7 days ' +
      'before it. Later rates never apply: a rate is known when the order is.',
    columns: [
      { name: 'order_id', type: 'string', description: 'The order.' },
      { name: 'customer_id', type: 'string', description: 'The customer of the placed event.' },
      { name: 'event_id', type: 'string', description: 'The placed event that is the order.' },
      { name: 'placed_at', type: 'timestamp', description: 'When the order was placed (UTC).' },
      { name: 'purchase_date', type: 'date', description: 'The date of placed_at in the business time zone: the date whose rate converts it.' },
      { name: 'total', type: 'double', unit: 'original currency', description: "The order's total as the placed event gave it.", tests: [atLeast(0)] },
      { name: 'currency', type: 'string', description: "The ISO 4217 code of the order's amounts." },
      {
        name: 'fx_rate',
        type: 'double',
        description: 'Units of the reporting currency one unit of currency is worth for this order; 1 in the reporting currency or when none is set.',
        nullWhen: 'no rate of the currency is dated on the order date or up to 7 days before it (the run then stops: stg_currency_problems)',
        tests: [atLeast(0)],
      },
      { name: 'channel', type: 'string', description: 'The channel of the placed event.', nullWhen: 'the placed event gave no channel' },
      {
        name: 'items',
        type: 'string',
        description: 'The lines of the placed event, as the JSON array stored at ingest.',
        nullWhen: 'the placed event gave no items',
      },
      { name: 'referred_by', type: 'string', description: 'The referrer the placed event named.', nullWhen: 'the placed event named no referrer' },
    ],
  },
  {
    name: 'stg_spend',
    layer: 'staging',
    summary: 'Marketing spend dated up to as_of as it counts: one row per spend event not restated by another, converted to the reporting currency.',
    grain: ['event_id'],
    rowMeaning: 'a spend event that counts',
    definition:
      'The first delivery of each event_id counts, unless another event dated up to as_of names it in `replaces`: then it counts no more, ' +
      'and the restating event counts instead (a restatement takes effect from its own date, which may differ). Several events may restate ' +
      'one; in a chain only the last counts; an event restating one never received simply counts; two events that restate each other both ' +
      'stop counting. Events of one day, channel and campaign add up. Amounts convert like orders, at the rate usable on spend_date (stg_fx_rates).',
    columns: [
      { name: 'event_id', type: 'string', description: 'The spend event.' },
      { name: 'spend_date', type: 'date', description: 'The day the spend is for; on or before as_of.' },
      { name: 'channel', type: 'string', description: 'The acquisition channel the money was spent on.' },
      { name: 'campaign', type: 'string', description: 'The campaign within the channel.', nullWhen: 'the event named no campaign' },
      { name: 'currency', type: 'string', description: 'The ISO 4217 code the event gave its amount in.' },
      { name: 'original_amount', type: 'double', unit: 'original currency', description: 'The amount as the event gave it.', tests: [atLeast(0)] },
      {
        name: 'fx_rate',
        type: 'double',
        description: 'Units of the reporting currency one unit of currency is worth for this spend; 1 in the reporting currency or when none is set.',
        nullWhen: 'no rate of the currency is dated on spend_date or up to 7 days before it (the run then stops: stg_currency_problems)',
        tests: [atLeast(0)],
      },
      { name: 'amount', type: 'double', unit: 'currency', description: 'original_amount x fx_rate.', nullWhen: 'fx_rate is null', tests: [atLeast(0)] },
      { name: 'replaces', type: 'string', description: 'The event this one restates.', nullWhen: 'it restates none' },
    ],
  },
  {
    name: 'stg_currency_problems',
    layer: 'staging',
    summary:
      'Why the orders and spend up to as_of cannot be summed in one currency, one row per problem; empty when they can. Its test stops the run otherwise.',
    grain: ['problem'],
    rowMeaning: 'a problem with the currencies of the orders',
    definition:
      'With reportingCurrency set, a row per currency and run of consecutive dates whose orders (or spend) have no usable rate (none dated on ' +
      'the order or spend date or up to 7 days before it). Without it, one row when orders and spend are in more than one currency. Either way, a row per ' +
      "pair of currencies where refund events state amounts in another currency than their order's (a refund is read in its order's " +
      'currency). The table must be empty: otherwise the run stops before anything is published, and its error lists every problem.',
    columns: [
      {
        name: 'problem_kind',
        type: 'string',
        description: 'missing_rate, mixed_currencies or refund_currency.',
        tests: [oneOf('missing_rate', 'mixed_currencies', 'refund_currency')],
      },
      { name: 'currency', type: 'string', description: "The currency without a rate, or the refunds' currency.", nullWhen: 'the problem is mixed currencies' },
      {
        name: 'first_date',
        type: 'date',
        description: 'The first order date without a rate, or the first refund date.',
        nullWhen: 'the problem is mixed currencies',
      },
      {
        name: 'last_date',
        type: 'date',
        description: 'The last order date without a rate, or the last refund date.',
        nullWhen: 'the problem is mixed currencies',
      },
      {
        name: 'events',
        type: 'bigint',
        description: 'The orders or spend events concerned.',
        nullWhen: 'the problem is mixed currencies',
        tests: [atLeast(1)],
      },
      { name: 'problem', type: 'string', description: "The problem in words, with what to do about it: the run's error message." },
    ],
    mustBeEmpty: { test: 'every order converts to one currency', describedBy: 'problem' },
  },
  {
    name: 'stg_orders',
    layer: 'staging',
    summary: 'One row per order placed up to as_of, with its state at as_of: cancelled, refunded (partly or fully), and whether it counts as a purchase.',
    grain: ['order_id'],
    rowMeaning: 'an order with a placed event',
    definition:
      'An order is here when it has a placed event up to as_of; of several, the earliest (then the lowest event_id) is the order and gives its ' +
      'customer, time, total and currency (stg_placements). Cancel and refund events count when they are dated up to as_of, whatever their date relative ' +
      'to the placement; those after as_of do not count yet.\n\n' +
      'A refunded event without an amount refunds the whole order. Otherwise the stated amounts are summed (as decimal, to 6 places) and ' +
      "capped at the total, and refunds that come within 10^-6 of the total make a full refund; all of this in the order's own currency. " +
      'A purchase is an order neither cancelled nor fully refunded.\n\n' +
      "Amounts are then converted to the reporting currency at the order's rate (stg_placements.fx_rate), refunds included, whenever they " +
      'happened; they are not rounded. An order without a usable rate is left out, and stg_currency_problems stops the run.',
    columns: [
      { name: 'order_id', type: 'string', description: 'The order.' },
      { name: 'customer_id', type: 'string', description: "The customer of the order's first placed event." },
      { name: 'placed_at', type: 'timestamp', description: 'When the order was placed (UTC): the occurred_at of its first placed event.' },
      { name: 'purchase_date', type: 'date', description: 'The date of placed_at in the business time zone.' },
      {
        name: 'first_event_at',
        type: 'timestamp',
        description: "When the order's earliest event up to as_of happened (UTC): placed_at, unless a cancel or refund event is dated before it.",
      },
      { name: 'total', type: 'double', unit: 'currency', description: "The order's total, from its first placed event, converted.", tests: [atLeast(0)] },
      { name: 'currency', type: 'string', description: 'The ISO 4217 code the order was placed in, from its first placed event.' },
      { name: 'original_total', type: 'double', unit: 'original currency', description: "The order's total in its own currency.", tests: [atLeast(0)] },
      { name: 'fx_rate', type: 'double', description: "The order's rate to the reporting currency (stg_placements).", tests: [atLeast(0)] },
      { name: 'channel', type: 'string', description: 'The channel of its first placed event.', nullWhen: 'the placed event gave no channel' },
      {
        name: 'items',
        type: 'string',
        description: 'The lines of its first placed event, as the JSON array stored at ingest.',
        nullWhen: 'the placed event gave no items',
      },
      { name: 'referred_by', type: 'string', description: 'The referrer its first placed event named.', nullWhen: 'the placed event named no referrer' },
      { name: 'is_cancelled', type: 'boolean', description: 'True when the order has a cancelled event dated up to as_of.' },
      {
        name: 'is_fully_refunded',
        type: 'boolean',
        description: 'True when refund events dated up to as_of give back the whole total (refunded_amount within 10^-6 of it).',
      },
      { name: 'is_purchase', type: 'boolean', description: 'True when the order counts as a purchase: neither cancelled nor fully refunded.' },
      {
        name: 'refunded_amount',
        type: 'double',
        unit: 'currency',
        description:
          'Refunded up to as_of: the total if a refund event gave no amount, otherwise the stated amounts summed and capped at the total; 0 without a refund.',
        tests: [atLeast(0)],
      },
      {
        name: 'net_revenue',
        type: 'double',
        unit: 'currency',
        description: 'total - refunded_amount, for every order (cancelled ones too); the tables count it only where is_purchase.',
        tests: [atLeast(0)],
      },
    ],
    rules: [
      { rule: 'first_event_at <= placed_at', why: "the placed event is one of the order's events" },
      { rule: 'refunded_amount <= total', why: 'refunds are capped at the total' },
      {
        rule: 'abs(net_revenue - (total - refunded_amount)) <= 1e-9 * (1 + total)',
        why: 'net revenue is the total less refunds (converted after subtracting)',
      },
      { rule: 'is_purchase = (not is_cancelled and not is_fully_refunded)', why: 'a purchase is an order neither cancelled nor fully refunded' },
    ],
  },
  {
    name: 'stg_purchases',
    layer: 'staging',
    summary: 'Purchases up to as_of: orders placed, not cancelled and not fully refunded by as_of, dated by their placed event, with net revenue.',
    grain: ['order_id'],
    rowMeaning: 'a purchase',
    columns: [
      { name: 'order_id', type: 'string', description: 'The order.' },
      { name: 'customer_id', type: 'string', description: "The customer of the order's first placed event." },
      { name: 'placed_at', type: 'timestamp', description: 'When the order was placed (UTC).' },
      { name: 'purchase_date', type: 'date', description: 'The date of placed_at in the business time zone: the date the purchase counts on.' },
      periodStartOf('purchase_date'),
      { name: 'currency', type: 'string', description: 'The ISO 4217 code the order was placed in; its amounts here are converted to the reporting currency.' },
      { name: 'gross_amount', type: 'double', unit: 'currency', description: "The order's total, before refunds.", tests: [atLeast(0)] },
      {
        name: 'refunded_amount',
        type: 'double',
        unit: 'currency',
        description: 'Partial refunds dated up to as_of; 0 without a refund.',
        tests: [atLeast(0)],
      },
      {
        name: 'net_revenue',
        type: 'double',
        unit: 'currency',
        description: 'gross_amount - refunded_amount: what the purchase brought in, counted on purchase_date. 0 for an order with a zero total.',
        tests: [atLeast(0)],
      },
    ],
    rules: [
      { rule: 'abs(net_revenue - (gross_amount - refunded_amount)) <= 1e-9 * (1 + gross_amount)', why: 'net revenue is the total less refunds (stg_orders)' },
      {
        rule: 'refunded_amount = 0 or refunded_amount < gross_amount - 1e-6',
        why: 'refunds that come within 10^-6 of the total are a full refund, and a fully refunded order is no purchase',
      },
      { rule: 'period_start <= purchase_date', why: 'the period holds the purchase date' },
    ],
  },
  {
    name: 'stg_survey_responses',
    layer: 'staging',
    summary: 'Survey answers up to as_of, once each: the first delivery received of every event_id, dated in the business time zone, with its NPS category.',
    grain: ['event_id'],
    rowMeaning: 'a survey answer',
    definition:
      'Deliveries are deduplicated as in stg_order_events (first received wins, chosen before the date cut), then answers dated after as_of ' +
      `are left out. A customer may have many answers. NPS categories: ${NPS_CATEGORY_TEXT}. comment, channel and extras are not carried.`,
    columns: [
      { name: 'event_id', type: 'string', description: 'The answer, as its producer named it.' },
      { name: 'customer_id', type: 'string', description: 'The customer who answered.' },
      { name: 'responded_at', type: 'timestamp', description: 'When the customer answered (UTC).' },
      { name: 'response_date', type: 'date', description: 'The date of responded_at in the business time zone; on or before as_of.' },
      periodStartOf('response_date'),
      { name: 'score', type: 'int', unit: 'score', description: 'The answer: how likely the customer is to recommend, 0-10.', tests: [between(0, 10)] },
      {
        name: 'nps_category',
        type: 'string',
        description: `The NPS category of the score: ${NPS_CATEGORY_TEXT}.`,
        tests: [oneOf('promoter', 'passive', 'detractor')],
      },
      {
        name: 'survey_id',
        type: 'string',
        description: 'The survey answered, as the producer named it.',
        nullWhen: 'the event gave no survey_id',
      },
    ],
    rules: [
      {
        rule:
          `nps_category = case when score >= ${NPS_CATEGORIES.promoter.min} then 'promoter' ` +
          `when score >= ${NPS_CATEGORIES.passive.min} then 'passive' else 'detractor' end`,
        why: 'the category follows from the score',
      },
      { rule: 'period_start <= response_date', why: 'the period holds the response date' },
    ],
  },
  {
    name: 'stg_periods',
    layer: 'staging',
    summary: 'The calendar of periods, from the first with a purchase or a survey answer to the one holding as_of, without gaps.',
    grain: ['period_start'],
    rowMeaning: 'a period',
    definition:
      'Periods are calendar months, weeks from Monday or quarters (period). The first is the period of the earliest purchase or survey answer, ' +
      'whichever comes first; the last holds as_of and may end after it. A period without purchases or answers is still a row. ' +
      'Empty when there is no purchase and no answer up to as_of.',
    columns: [
      { name: 'period_start', type: 'date', description: 'First day of the period.' },
      { name: 'period_end', type: 'date', description: 'Last day of the period (it may be after as_of).' },
      { name: 'period_index', type: 'bigint', description: 'The position of the period: 0 for the first, then one more for each.', tests: [atLeast(0)] },
    ],
    rules: [{ rule: 'period_start <= period_end', why: 'a period holds at least one day' }],
  },
  {
    name: 'stg_clv_purchase_curves',
    layer: 'staging',
    summary:
      'What the selected purchase model expects of a customer still alive at as_of, per distinct (frequency, tenure_days): purchases over the horizons ' +
      'and the median wait to the next purchase.',
    grain: ['frequency', 'tenure_days'],
    rowMeaning: "a (frequency, tenure_days) pair held by at least one of customer_summary's customers",
    definition:
      'Written by the predictive_clv step (TypeScript), from the model that clv_model marks selected. None of these values depends on recency, ' +
      "so customers with the same frequency and tenure share them; customer_clv multiplies them by each customer's p_alive " +
      '(stg_clv_probability_alive). The model works in weeks: tenure T = tenure_days / 7, and a month is 365.25 / 12 days.\n\n' +
      FITTED_ONLY,
    columns: [
      {
        name: 'frequency',
        type: 'int',
        description: 'Repeat purchase days (customer_summary.frequency): purchase days - 1.',
        ...count('purchases'),
      },
      { name: 'tenure_days', type: 'int', description: 'Days from the first purchase day to as_of (customer_summary.tenure_days).', ...count('days') },
      {
        name: 'purchases_if_alive',
        type: 'double',
        unit: 'purchases',
        description: 'Purchase days expected over the next clv.horizonMonths months (12 by default) from such a customer still alive at as_of.',
        nullWhen: NOT_FINITE,
      },
      {
        name: 'discounted_purchases_if_alive',
        type: 'double',
        unit: 'purchases',
        description:
          "The same purchase days with each month's discounted: the sum over months m of (E[Y(m)] - E[Y(m - 1)]) / (1 + clv.monthlyDiscountRate)^m. " +
          'Times p_alive and the expected order value, it is predicted_clv.',
        nullWhen: NOT_FINITE,
      },
      {
        name: 'purchases_if_alive_30d',
        type: 'double',
        unit: 'purchases',
        description: 'Purchase days expected in the 30 days after as_of from such a customer still alive.',
        nullWhen: NOT_FINITE,
      },
      {
        name: 'purchases_if_alive_90d',
        type: 'double',
        unit: 'purchases',
        description: 'Purchase days expected in the 90 days after as_of from such a customer still alive.',
        nullWhen: NOT_FINITE,
      },
      {
        name: 'purchases_if_alive_365d',
        type: 'double',
        unit: 'purchases',
        description: 'Purchase days expected in the 365 days after as_of from such a customer still alive.',
        nullWhen: NOT_FINITE,
      },
      {
        name: 'next_purchase_days_if_alive',
        type: 'double',
        unit: 'days',
        description:
          'The median wait for the next purchase of such a customer still alive at as_of, in days after as_of (fractional): by then a purchase ' +
          'is as likely as not. customer_clv rounds it up to expected_next_purchase_date.',
        nullWhen:
          'the median is beyond the horizon (clv.horizonMonths), the chance never reaches one half (Pareto/NBD: the customer more likely leaves first), ' +
          'or the formula gives no finite value',
        tests: [atLeast(0)],
      },
      AS_OF_COLUMN,
    ],
    rules: [{ rule: 'frequency <= tenure_days', why: 'each repeat purchase day falls after the first purchase day and on or before as_of' }],
  },
  {
    name: 'stg_clv_probability_alive',
    layer: 'staging',
    summary: 'P(alive at as_of) under the selected purchase model, per distinct purchase history (frequency, recency_days, tenure_days).',
    grain: ['frequency', 'recency_days', 'tenure_days'],
    rowMeaning: "a purchase history held by at least one of customer_summary's customers",
    definition:
      'Written by the predictive_clv step (TypeScript), from the model that clv_model marks selected, with x = frequency, t_x = recency_days / 7 ' +
      'and T = tenure_days / 7 (weeks). customer_clv joins it to each customer by the three columns. Under BG/NBD every one-time buyer ' +
      '(frequency 0) has p_alive 1.\n\n' +
      FITTED_ONLY,
    columns: [
      { name: 'frequency', type: 'int', description: 'Repeat purchase days (customer_summary.frequency): purchase days - 1.', ...count('purchases') },
      { name: 'recency_days', type: 'int', description: 'Days from the first to the latest purchase day (customer_summary.recency_days).', ...count('days') },
      { name: 'tenure_days', type: 'int', description: 'Days from the first purchase day to as_of (customer_summary.tenure_days).', ...count('days') },
      {
        name: 'p_alive',
        type: 'double',
        unit: 'probability',
        description: 'The probability that a customer with this history is still a customer (has not dropped out) at as_of.',
        nullWhen: NOT_FINITE,
        tests: [between(0, 1)],
      },
      AS_OF_COLUMN,
    ],
    rules: [
      { rule: 'frequency <= recency_days', why: 'the repeat purchase days are distinct days after the first purchase day, up to the latest' },
      { rule: 'recency_days <= tenure_days', why: 'the latest purchase is not after as_of' },
    ],
  },
];

import { AS_OF_COLUMN, atLeast, count, FRACTION, oneOf } from './types.ts';
import type { TableDoc } from './types.ts';

/** The order statuses of customer_orders, from the order's events up to as_of. */
export const ORDER_FINAL_STATUSES = ['placed', 'partially_refunded', 'refunded', 'cancelled'] as const;

export const customerOrders: TableDoc = {
  name: 'customer_orders',
  layer: 'curated',
  summary:
    'One row per order placed up to as_of, in its state at as_of: amounts after refunds, whether it counts as a purchase, ' +
    "its place in the customer's purchases, its channel and the customer's acquisition channel.",
  grain: ['order_id'],
  rowMeaning: 'an order with a placed event',
  definition: [
    "The commerce fact table: start here for any question about orders (\"did customers buy after the win-back message\",",
    '"which first channel retains best") instead of re-deriving purchases from the raw events. An order is here when it has a',
    '`placed` event dated up to as_of; its earliest one gives the customer, time, total, currency, channel and lines (as in',
    'stg_orders). Cancel and refund events count when dated up to as_of.\n\n',
    "**Status** is the order's state at as_of: `cancelled` (a cancel event; it wins over refunds), `refunded` (refunds give back the",
    'whole total), `partially_refunded`, or `placed`. A **purchase** is an order neither cancelled nor fully refunded (the glossary\'s',
    'purchase): **customer_order_number** numbers a customer\'s purchases from 1 by the time they were placed (then order_id),',
    'and is null on the other orders. **acquisition_channel** is the channel of the customer\'s first purchase, on every order of',
    'the customer. Summing net_amount over any set of orders gives the net revenue of the purchases among them.',
  ].join('\n'),
  columns: [
    { name: 'order_id', type: 'string', description: 'The order.' },
    { name: 'customer_id', type: 'string', description: "The customer of the order's first placed event." },
    { name: 'order_date', type: 'date', description: 'The date the order was placed, in the business time zone: the date a purchase counts on.' },
    { name: 'placed_at', type: 'timestamp', description: 'When the order was placed (UTC): its first placed event.' },
    {
      name: 'first_event_at',
      type: 'timestamp',
      description: "When the order's earliest event up to as_of happened (UTC): placed_at, unless a cancel or refund event is dated before it.",
    },
    {
      name: 'status',
      type: 'string',
      description: 'The state at as_of: placed, partially_refunded, refunded (all of it) or cancelled.',
      tests: [oneOf(...ORDER_FINAL_STATUSES)],
    },
    { name: 'is_purchase', type: 'boolean', description: 'True when the order counts as a purchase: neither cancelled nor fully refunded.' },
    { name: 'gross_amount', type: 'double', unit: 'currency', description: "The order's total, before refunds.", tests: [atLeast(0)] },
    {
      name: 'refunded_amount',
      type: 'double',
      unit: 'currency',
      description: 'Refunded up to as_of: the total if a refund event gave no amount, otherwise the stated amounts summed and capped at the total.',
      tests: [atLeast(0)],
    },
    {
      name: 'net_amount',
      type: 'double',
      unit: 'currency',
      description: 'What the order brought in: gross_amount - refunded_amount for a purchase, 0 for a cancelled or fully refunded order.',
      tests: [atLeast(0)],
    },
    {
      name: 'customer_order_number',
      type: 'bigint',
      unit: 'purchases',
      description: "The purchase's number among the customer's purchases, from 1 (the first purchase), by placed_at then order_id.",
      nullWhen: 'the order is not a purchase',
      tests: [atLeast(1)],
    },
    { name: 'is_first_purchase', type: 'boolean', description: "True on the customer's first purchase (customer_order_number = 1)." },
    {
      name: 'days_since_previous_purchase',
      type: 'bigint',
      unit: 'days',
      description: "Days from the customer's previous purchase's order_date to this one's (0 for two purchases on one day).",
      nullWhen: 'the order is not a purchase, or is the first purchase',
      tests: [atLeast(0)],
    },
    { name: 'channel', type: 'string', description: 'The channel the placed event gave.', nullWhen: 'the placed event gave no channel' },
    {
      name: 'acquisition_channel',
      type: 'string',
      description: "The channel of the customer's first purchase, on each of the customer's orders.",
      nullWhen: 'the customer has no purchase up to as_of, or their first purchase gave no channel',
    },
    { name: 'original_currency', type: 'string', description: 'The ISO 4217 code the order was placed in.' },
    { name: 'original_gross_amount', type: 'double', unit: 'original currency', description: "The order's total in original_currency, not converted.", tests: [atLeast(0)] },
    {
      name: 'fx_rate',
      type: 'double',
      description:
        'The rate its amounts were converted at: units of the reporting currency per unit of original_currency, of the order date or up to 7 days ' +
        'before; 1 in the reporting currency or when none is set.',
      tests: [atLeast(0)],
    },
    AS_OF_COLUMN,
  ],
  rules: [
    { rule: 'refunded_amount <= gross_amount', why: 'refunds are capped at the total' },
    { rule: 'net_amount <= gross_amount', why: 'net is what is left after refunds' },
    { rule: "is_purchase = (status in ('placed', 'partially_refunded'))", why: 'a purchase is an order neither cancelled nor fully refunded' },
    { rule: 'is_purchase = (customer_order_number is not null)', why: 'only purchases are numbered' },
    { rule: 'is_first_purchase = (customer_order_number = 1)', why: 'the first purchase is number 1' },
    { rule: '(days_since_previous_purchase is null) = (customer_order_number is null or customer_order_number = 1)', why: 'every later purchase has a previous one' },
    { rule: 'first_event_at <= placed_at', why: "the placed event is one of the order's events" },
  ],
};

export const orderLines: TableDoc = {
  name: 'order_lines',
  layer: 'curated',
  summary: 'One row per line of a purchase up to as_of: the product (sku, category), quantity, prices and whether it brought the customer a new category.',
  grain: ['order_id', 'line_number'],
  rowMeaning: 'a line of a purchase',
  definition: [
    "The lines come from the `items` of the order's first placed event (README, \"Order lines\"), in their order. Only purchases",
    "have lines here: a cancelled or fully refunded order's lines are left out. A partly refunded purchase keeps all its lines",
    'whole, because a refund does not say which line it gave back; line amounts are before refunds, and the lines of an order',
    'need not add up to its total (shipping, tax and order-level discounts are in the total only).\n\n',
    "A line is **new category for the customer** when no earlier purchase of the customer had a line in its category; every line",
    'of the purchase that first brought the category is new, including two lines of that category in one order.',
  ].join('\n'),
  columns: [
    { name: 'order_id', type: 'string', description: 'The order (a purchase).' },
    { name: 'line_number', type: 'bigint', description: 'The line\'s position in the order\'s items, from 1 (items[0] is line 1).', tests: [atLeast(1)] },
    { name: 'customer_id', type: 'string', description: 'The customer of the order.' },
    { name: 'order_date', type: 'date', description: 'The date the order was placed, in the business time zone.' },
    {
      name: 'customer_order_number',
      type: 'bigint',
      unit: 'purchases',
      description: "The order's number among the customer's purchases (customer_orders).",
      tests: [atLeast(1)],
    },
    { name: 'sku', type: 'string', description: 'The product, as the line gave it.' },
    { name: 'category', type: 'string', description: 'The product category, as the line gave it, trimmed.', nullWhen: 'the line gave no category, or an empty one' },
    { name: 'product_name', type: 'string', description: 'The product name, as the line gave it.', nullWhen: 'the line gave no name' },
    { name: 'quantity', type: 'bigint', description: 'Units bought.', tests: [atLeast(1)] },
    { name: 'unit_price', type: 'double', unit: 'currency', description: 'Price of one unit, before the discount.', tests: [atLeast(0)] },
    { name: 'discount_amount', type: 'double', unit: 'currency', description: 'The discount on the whole line; 0 when the line gave none.', tests: [atLeast(0)] },
    { name: 'line_amount', type: 'double', unit: 'currency', description: 'quantity x unit_price - discount_amount: what the line cost, before refunds.', tests: [atLeast(0)] },
    {
      name: 'is_new_category_for_customer',
      type: 'boolean',
      description: "True when no earlier purchase of the customer had a line in this category.",
      nullWhen: 'the line has no category',
    },
    AS_OF_COLUMN,
  ],
  rules: [{ rule: '(category is null) = (is_new_category_for_customer is null)', why: 'only a category can be new' }],
};

const IS_COMPLETE = {
  name: 'is_complete',
  type: 'boolean',
  description: 'True when the period ended on or before as_of; the period holding as_of is still filling up.',
} as const;

export const cohortRevenue: TableDoc = {
  name: 'cohort_revenue',
  layer: 'curated',
  summary: 'One row per acquisition cohort and period offset: the net revenue of the cohort in that period and cumulated per cohort customer (the LTV curve by cohort).',
  grain: ['cohort_start', 'period_offset'],
  rowMeaning: 'a cohort in one of its periods',
  definition: [
    "Cohorts as in cohort_retention: the customers whose first purchase is in the same period. At offset k, `net_revenue` is the",
    "net revenue of the cohort's purchases dated in period cohort + k, and `cumulative_revenue_per_customer` = the cohort's net",
    'revenue from offset 0 to k / cohort_size: what an acquired customer has brought in by then, refunds deducted. Offsets run up',
    'to the period holding as_of, which is marked incomplete.',
  ].join('\n'),
  columns: [
    { name: 'cohort_start', type: 'date', description: "First day of the period of the cohort members' first purchase." },
    { name: 'period_offset', type: 'bigint', description: 'Periods since the cohort period; 0 is the cohort period itself.', tests: [atLeast(0)] },
    { name: 'period_start', type: 'date', description: 'First day of the period at that offset.' },
    IS_COMPLETE,
    { name: 'cohort_size', type: 'bigint', description: 'Customers in the cohort.', ...count('customers'), tests: [atLeast(1)] },
    { name: 'purchasing_customers', type: 'bigint', description: 'Cohort members with a purchase in the period.', ...count('customers') },
    { name: 'orders', type: 'bigint', description: "The cohort's purchases dated in the period.", ...count('purchases') },
    { name: 'net_revenue', type: 'double', unit: 'currency', description: "Net revenue of the cohort's purchases dated in the period.", tests: [atLeast(0)] },
    { name: 'cumulative_net_revenue', type: 'double', unit: 'currency', description: "The cohort's net revenue from offset 0 to this one.", tests: [atLeast(0)] },
    {
      name: 'cumulative_revenue_per_customer',
      type: 'double',
      unit: 'currency',
      description: 'cumulative_net_revenue / cohort_size: the average customer\'s net revenue so far.',
      tests: [atLeast(0)],
    },
    AS_OF_COLUMN,
  ],
  rules: [
    { rule: 'purchasing_customers <= cohort_size', why: 'only cohort members count' },
    { rule: 'period_offset > 0 or purchasing_customers = cohort_size', why: 'every member bought in the cohort period' },
    { rule: 'net_revenue <= cumulative_net_revenue + 1e-6', why: 'the cumulated revenue includes the period' },
  ],
};

export const revenueRetention: TableDoc = {
  name: 'revenue_retention',
  layer: 'curated',
  summary: 'One row per period: how much of the previous period\'s buyers\' revenue came back, with and without expansion (net and gross revenue retention).',
  grain: ['period_start'],
  rowMeaning: 'a period',
  definition: [
    "The **base** of a period is the customers with a purchase in the previous period. For each of them, r0 = their net revenue in",
    'the previous period and r1 = in this one. Over the base:\n',
    '- `starting_revenue` = Σ r0, `base_revenue` = Σ r1;',
    '- **expansion** = Σ max(r1 - r0, 0): revenue growth from retained customers;',
    '- **contraction** = Σ (r0 - r1) over the customers who bought again for less;',
    '- **churned revenue** = Σ r0 over the customers who did not buy again;',
    '- **net revenue retention** (NRR) = base_revenue / starting_revenue = (starting + expansion - contraction - churned) / starting;',
    '- **gross revenue retention** (GRR) = (starting - contraction - churned) / starting: NRR without expansion, at most 1.\n',
    'New customers of the period are not in its base. Periods run from the one after the first purchase to the one holding as_of,',
    'which is marked incomplete: its revenue is still coming in.',
  ].join('\n'),
  columns: [
    { name: 'period_start', type: 'date', description: 'First day of the period.' },
    IS_COMPLETE,
    { name: 'previous_period_start', type: 'date', description: 'First day of the period before: whose buyers are the base.' },
    { name: 'base_customers', type: 'bigint', description: 'Customers with a purchase in the previous period.', ...count('customers') },
    { name: 'returning_customers', type: 'bigint', description: 'Of the base, customers with a purchase in this period.', ...count('customers') },
    { name: 'starting_revenue', type: 'double', unit: 'currency', description: "The base's net revenue in the previous period (Σ r0).", tests: [atLeast(0)] },
    { name: 'base_revenue', type: 'double', unit: 'currency', description: "The base's net revenue in this period (Σ r1).", tests: [atLeast(0)] },
    { name: 'expansion_revenue', type: 'double', unit: 'currency', description: 'Σ max(r1 - r0, 0) over the base: growth from retained customers.', tests: [atLeast(0)] },
    { name: 'contraction_revenue', type: 'double', unit: 'currency', description: 'Σ (r0 - r1) over the base customers who bought again for less.', tests: [atLeast(0)] },
    { name: 'churned_revenue', type: 'double', unit: 'currency', description: 'Σ r0 over the base customers who did not buy in this period.', tests: [atLeast(0)] },
    {
      name: 'net_revenue_retention',
      type: 'double',
      unit: 'fraction',
      description: 'base_revenue / starting_revenue; above 1 when expansion outweighs contraction and churn.',
      nullWhen: 'starting_revenue is 0',
      tests: [atLeast(0)],
    },
    {
      name: 'gross_revenue_retention',
      type: 'double',
      description: '(starting_revenue - contraction_revenue - churned_revenue) / starting_revenue: retention without expansion.',
      nullWhen: 'starting_revenue is 0',
      ...FRACTION,
    },
    AS_OF_COLUMN,
  ],
  rules: [
    { rule: 'returning_customers <= base_customers', why: 'returning customers are in the base' },
    {
      rule: 'abs(starting_revenue + expansion_revenue - contraction_revenue - churned_revenue - base_revenue) <= 1e-6 * (1 + starting_revenue + base_revenue)',
      why: "each base customer's revenue moves by expansion, contraction or churn",
    },
    { rule: 'gross_revenue_retention <= net_revenue_retention + 1e-9', why: 'NRR adds expansion to GRR' },
  ],
};

export const categoryMetrics: TableDoc = {
  name: 'category_metrics',
  layer: 'curated',
  summary: 'One row per period and product category bought in it: customers, orders, units and line revenue, repeat buyers of the category, and cross-sell into it.',
  grain: ['period_start', 'category'],
  rowMeaning: 'a category in a period in which it was bought',
  definition: [
    "Read from order_lines (purchases only; uncategorised lines left out). **Line revenue** is the sum of line amounts: before",
    "refunds, and without the shipping, tax or order-level discounts in the orders' totals, so the categories need not add up",
    "to period_metrics' net revenue.\n\n",
    "A customer's **adoption** of a category is their first purchase with a line in it. They are a **repeat** customer of the",
    "category in a period when that adoption is dated before the period starts. They came to the category by **cross-sell** when",
    "an earlier purchase of theirs had a line in another category: their first purchase in it is not their first purchase with a",
    'category. A first order holding two categories adopts both, neither by cross-sell.',
  ].join('\n'),
  columns: [
    { name: 'period_start', type: 'date', description: 'First day of the period.' },
    { name: 'category', type: 'string', description: 'The product category, as the lines gave it (trimmed).' },
    { name: 'customers', type: 'bigint', description: 'Customers with a line in the category in the period.', ...count('customers'), tests: [atLeast(1)] },
    { name: 'orders', type: 'bigint', description: 'Purchases with a line in the category in the period.', ...count('purchases'), tests: [atLeast(1)] },
    { name: 'units', type: 'bigint', description: 'Units bought: the sum of the lines\' quantities.', tests: [atLeast(1)] },
    { name: 'line_revenue', type: 'double', unit: 'currency', description: 'The sum of the line amounts (quantity x unit_price - discount), before refunds.', tests: [atLeast(0)] },
    { name: 'repeat_customers', type: 'bigint', description: 'Of customers, those who first bought the category before the period.', ...count('customers') },
    { name: 'repeat_rate', type: 'double', description: 'repeat_customers / customers.', ...FRACTION },
    { name: 'new_to_category_customers', type: 'bigint', description: 'Of customers, those whose first purchase in the category is in the period.', ...count('customers') },
    {
      name: 'cross_sell_customers',
      type: 'bigint',
      description: 'Of the new-to-category customers, those who had bought another category before (an earlier purchase).',
      ...count('customers'),
    },
    {
      name: 'cross_sell_rate',
      type: 'double',
      description: 'cross_sell_customers / new_to_category_customers: the share of the category\'s newcomers who came from another category.',
      nullWhen: 'nobody bought the category for the first time in the period',
      ...FRACTION,
    },
    AS_OF_COLUMN,
  ],
  rules: [
    { rule: 'repeat_customers + new_to_category_customers = customers', why: 'a buyer of the category adopted it in the period or before' },
    { rule: 'cross_sell_customers <= new_to_category_customers', why: 'cross-sell is a way of adopting the category' },
    { rule: 'customers <= orders and orders <= units', why: 'a buyer has an order, and an order a unit' },
  ],
};

const revenueAfter = (days: number) =>
  [
    {
      name: `customers_observed_${days}d`,
      type: 'bigint',
      description: `Customers acquired at least ${days} days before the end of as_of: those whose first ${days} days are over.`,
      ...count('customers'),
    },
    {
      name: `net_revenue_per_customer_${days}d`,
      type: 'double',
      unit: 'currency',
      description: `Over those customers, the mean net revenue of their purchases in the ${days} days from the first (day 0 to ${days - 1}).`,
      nullWhen: `no customer of the channel was acquired ${days} days or more ago`,
      tests: [atLeast(0)],
    },
  ] as const;

export const channelMetrics: TableDoc = {
  name: 'channel_metrics',
  layer: 'curated',
  summary: "One row per acquisition channel (the channel of a customer's first purchase): customers acquired, repeat rate, net revenue per customer 90, 180 and 365 days on, and mean predicted CLV.",
  grain: ['acquisition_channel'],
  rowMeaning: 'an acquisition channel',
  definition: [
    "A customer's **acquisition channel** is the channel of their first purchase (customer_orders); customers whose first purchase",
    'gave no channel are grouped as `(none)`. Revenue N days on is the net revenue (refunds up to as_of deducted) of the purchases',
    'dated in the N days starting with the first purchase, averaged over the customers whose N days are over by as_of; it stays',
    'null until one is, so young channels are not compared on half-observed windows. Mean predicted CLV is over the channel\'s',
    'customers with a prediction (customer_clv).',
  ].join('\n'),
  columns: [
    { name: 'acquisition_channel', type: 'string', description: "The channel of the customers' first purchase, or (none)." },
    { name: 'customers_acquired', type: 'bigint', description: 'Customers whose first purchase came through the channel.', ...count('customers'), tests: [atLeast(1)] },
    { name: 'repeat_customers', type: 'bigint', description: 'Of them, customers with two purchases or more up to as_of.', ...count('customers') },
    { name: 'repeat_purchase_rate', type: 'double', description: 'repeat_customers / customers_acquired.', ...FRACTION },
    { name: 'net_revenue_per_customer', type: 'double', unit: 'currency', description: 'Net revenue up to as_of per customer acquired.', tests: [atLeast(0)] },
    ...revenueAfter(90),
    ...revenueAfter(180),
    ...revenueAfter(365),
    {
      name: 'mean_predicted_clv',
      type: 'double',
      unit: 'currency',
      description: "The mean of the channel's customers' predicted_clv (customer_clv), over those with one.",
      nullWhen: 'no customer of the channel has a predicted CLV (no model fitted)',
      tests: [atLeast(0)],
    },
    AS_OF_COLUMN,
  ],
  rules: [
    { rule: 'customers_observed_365d <= customers_observed_180d and customers_observed_180d <= customers_observed_90d', why: 'a longer window is over for fewer customers' },
    { rule: 'customers_observed_90d <= customers_acquired', why: 'only acquired customers are observed' },
  ],
};

import { NPS_CATEGORY_TEXT } from './metric-definitions.ts';
import { AS_OF_COLUMN, atLeast, between, count, FRACTION } from './types.ts';
import type { TableDoc } from './types.ts';

export const customerBase: TableDoc = {
  name: 'stg_customer_base',
  layer: 'staging',
  summary: 'The active customer base, defined once: the spells of days each customer is in it. Read by period_metrics, clv_summary and customer_summary.',
  grain: ['customer_id', 'spell_number'],
  rowMeaning: 'a spell of a customer in the active base',
  definition: [
    'A customer is **in the active base on day d** when they have a purchase dated in [d - W + 1, d], W = `activityWindowDays`',
    '(default 90). A purchase on day d keeps them in the base on days d to d + W - 1, so the days a customer is in the base form',
    "spells; a purchase more than W days after the previous one starts a new spell. A customer's spells never overlap: the base",
    'on day d is the customers with a spell holding d.',
  ].join('\n'),
  columns: [
    { name: 'customer_id', type: 'string', description: 'The customer.' },
    { name: 'spell_number', type: 'bigint', description: "The spell's number among the customer's spells, from 1, in date order.", tests: [atLeast(1)] },
    { name: 'active_from', type: 'date', description: 'First day in the base: the first purchase date of the spell.' },
    { name: 'active_until', type: 'date', description: 'Last day in the base: the last purchase date of the spell + W - 1 (may be after as_of).' },
    { name: 'purchase_days', type: 'bigint', description: 'Distinct purchase dates in the spell.', ...count('purchases'), tests: [atLeast(1)] },
  ],
  rules: [{ rule: 'active_from <= active_until', why: 'a spell lasts at least one day' }],
};

const BASE_MOVES = [
  'S = the base as of the day before the period starts, E = the base as of its last day (or as_of, if earlier), N = customers whose first',
  'purchase is in the period. Retained = in S and in E; churned = in S, not in E; reactivated = in E, not in S, not new.',
].join('\n');

export const periodMetrics: TableDoc = {
  name: 'period_metrics',
  layer: 'curated',
  summary:
    'One row per period (month by default): the active base at its start and end, how it moved, exact and classic retention and churn, orders and revenue.',
  grain: ['period_start'],
  rowMeaning: 'a period',
  definition: [
    'Periods run from the period of the first purchase to the period holding as_of, empty ones included. The active base is',
    `stg_customer_base's. ${BASE_MOVES}`,
    '`retention_rate = retained / S` and `churn_rate = churned / S` add up to 1. The classic formulas are beside them:',
    '`retention_rate_classic = (E - N) / S` and `churn_rate_classic = (S - E) / S`. The classic churn is a *net change* of the base:',
    'when new and reactivated customers outnumber those lost, E > S and it is negative although customers did leave, which is why',
    'the exact `churn_rate` counts the customers who actually left.',
  ].join('\n'),
  columns: [
    { name: 'period_start', type: 'date', description: 'First day of the period.' },
    { name: 'period_end', type: 'date', description: 'Last day of the period (it may end after as_of).' },
    { name: 'customers_start', type: 'bigint', description: 'S: customers in the active base on the day before the period starts.', ...count('customers') },
    {
      name: 'customers_end',
      type: 'bigint',
      description: "E: customers in the active base on the period's last day, or on as_of if earlier.",
      ...count('customers'),
    },
    { name: 'new_customers', type: 'bigint', description: 'N: customers whose first purchase is in the period.', ...count('customers') },
    { name: 'retained_customers', type: 'bigint', description: 'Customers in S and in E.', ...count('customers') },
    { name: 'churned_customers', type: 'bigint', description: 'Customers in S and not in E.', ...count('customers') },
    { name: 'reactivated_customers', type: 'bigint', description: 'Customers in E, not in S, and not new.', ...count('customers') },
    {
      name: 'retention_rate',
      type: 'double',
      description: 'retained_customers / customers_start: the share of the starting base still active at the end.',
      nullWhen: 'customers_start is 0',
      ...FRACTION,
    },
    {
      name: 'churn_rate',
      type: 'double',
      description: 'churned_customers / customers_start: the share of the starting base no longer active. retention_rate + churn_rate = 1.',
      nullWhen: 'customers_start is 0',
      ...FRACTION,
    },
    {
      name: 'retention_rate_classic',
      type: 'double',
      unit: 'fraction',
      description: '(E - N) / S, as many source documents define retention. It exceeds 1 when reactivated customers outnumber those lost.',
      nullWhen: 'customers_start is 0',
    },
    {
      name: 'churn_rate_classic',
      type: 'double',
      unit: 'fraction',
      description: '(S - E) / S: the net change of the base, negative when it grew, although customers did leave.',
      nullWhen: 'customers_start is 0',
      tests: [{ kind: 'range', max: 1 }],
    },
    { name: 'orders', type: 'bigint', description: 'Purchases dated in the period.', ...count('purchases') },
    { name: 'net_revenue', type: 'double', unit: 'currency', description: 'Net revenue of the purchases dated in the period.', tests: [atLeast(0)] },
    { name: 'aov', type: 'double', unit: 'currency', description: 'net_revenue / orders.', nullWhen: 'the period has no purchase', tests: [atLeast(0)] },
    { name: 'purchasing_customers', type: 'bigint', description: 'Customers with a purchase dated in the period.', ...count('customers') },
    {
      name: 'repeat_purchase_rate',
      type: 'double',
      description: "The share of purchasing_customers whose first purchase is dated before the period starts: the period's buyers who came back.",
      nullWhen: 'the period has no purchase',
      ...FRACTION,
    },
    {
      name: 'new_customer_revenue',
      type: 'double',
      unit: 'currency',
      description: 'Net revenue of the purchases in the period by customers whose first purchase is in the period (their first and any later ones).',
      tests: [atLeast(0)],
    },
    {
      name: 'returning_customer_revenue',
      type: 'double',
      unit: 'currency',
      description: 'Net revenue of the purchases in the period by customers whose first purchase is before it. new + returning = net_revenue.',
      tests: [atLeast(0)],
    },
    AS_OF_COLUMN,
  ],
  rules: [
    { rule: 'period_start <= period_end', why: 'a period has at least one day' },
    {
      rule: 'abs(new_customer_revenue + returning_customer_revenue - net_revenue) <= 1e-6 * (1 + net_revenue)',
      why: "every purchase is a new or a returning customer's",
    },
    { rule: 'new_customers <= purchasing_customers and purchasing_customers <= orders', why: 'new customers buy in their first period; a buyer has an order' },
    { rule: 'retained_customers + churned_customers = customers_start', why: 'every customer of S is either still in the base at the end or has left' },
    { rule: 'retained_customers + reactivated_customers <= customers_end', why: 'E holds the retained, the reactivated and the new customers still in it' },
    { rule: 'retained_customers + reactivated_customers + new_customers >= customers_end', why: 'nobody else is in E' },
  ],
};

export const cohortRetention: TableDoc = {
  name: 'cohort_retention',
  layer: 'curated',
  summary: 'One row per acquisition cohort and period offset: how many of the cohort bought in that period.',
  grain: ['cohort_start', 'period_offset'],
  rowMeaning: 'a cohort in one of its periods',
  definition: [
    "A **cohort** is the customers whose first purchase is in the same period. `active_customers` at offset k counts the cohort's",
    'customers with a purchase in period cohort + k; offset 0 is 100 %. Offsets run up to the period holding as_of, zeros included.',
  ].join('\n'),
  columns: [
    { name: 'cohort_start', type: 'date', description: "First day of the period of the cohort members' first purchase." },
    {
      name: 'period_offset',
      type: 'bigint',
      description: 'Periods (months by default) since the cohort period; 0 is the cohort period itself.',
      tests: [atLeast(0)],
    },
    { name: 'period_start', type: 'date', description: 'First day of the period at that offset.' },
    { name: 'cohort_size', type: 'bigint', description: 'Customers in the cohort.', ...count('customers'), tests: [atLeast(1)] },
    { name: 'active_customers', type: 'bigint', description: 'Cohort members with a purchase in the period at this offset.', ...count('customers') },
    { name: 'retention_rate', type: 'double', description: 'active_customers / cohort_size.', ...FRACTION },
    AS_OF_COLUMN,
  ],
  rules: [
    { rule: 'active_customers <= cohort_size', why: 'only cohort members count' },
    { rule: 'period_offset > 0 or active_customers = cohort_size', why: 'every member bought in the cohort period' },
    { rule: 'cohort_start <= period_start', why: 'offsets are never negative' },
  ],
};

const npsCounts = (scope: string) =>
  [
    {
      name: `${scope}responses`,
      type: 'bigint',
      description: `Customers who answered ${scope === '' ? 'in the period' : 'in the trailing window'}, each counted once (their latest answer).`,
      ...count('responses'),
    },
    { name: `${scope}promoters`, type: 'bigint', description: 'Of those, promoters.', ...count('responses') },
    { name: `${scope}passives`, type: 'bigint', description: 'Of those, passives.', ...count('responses') },
    { name: `${scope}detractors`, type: 'bigint', description: 'Of those, detractors.', ...count('responses') },
  ] as const;

export const nps: TableDoc = {
  name: 'nps',
  layer: 'curated',
  summary: 'One row per period: Net Promoter Score of the period and of the trailing window ending with it.',
  grain: ['period_start'],
  rowMeaning: 'a period',
  definition: [
    `**NPS** = 100 x (promoters - detractors) / responses, where ${NPS_CATEGORY_TEXT}, counting each customer's latest`,
    "answer in the period. The trailing NPS counts each customer's latest answer in the `npsTrailingWindowDays` (default 90)",
    "ending with the period's last day (or as_of, if earlier).",
  ].join('\n'),
  columns: [
    { name: 'period_start', type: 'date', description: 'First day of the period.' },
    { name: 'period_end', type: 'date', description: 'Last day of the period.' },
    ...npsCounts(''),
    {
      name: 'nps',
      type: 'double',
      unit: 'NPS points',
      description: "100 x (promoters - detractors) / responses, each customer's latest answer in the period.",
      nullWhen: 'nobody answered in the period',
      tests: [between(-100, 100)],
    },
    { name: 'trailing_window_days', type: 'int', unit: 'days', description: 'Length of the trailing window (npsTrailingWindowDays).', tests: [atLeast(1)] },
    ...npsCounts('trailing_'),
    {
      name: 'trailing_nps',
      type: 'double',
      unit: 'NPS points',
      description: "100 x (promoters - detractors) / responses over the trailing window ending with the period, each customer's latest answer.",
      nullWhen: 'nobody answered in the window',
      tests: [between(-100, 100)],
    },
    AS_OF_COLUMN,
  ],
  rules: [
    { rule: 'promoters + passives + detractors = responses', why: 'every answer is in one category' },
    { rule: 'trailing_promoters + trailing_passives + trailing_detractors = trailing_responses', why: 'every answer is in one category' },
  ],
};

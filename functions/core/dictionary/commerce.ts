import { AS_OF_COLUMN, atLeast, oneOf } from './types.ts';
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
    { name: 'original_gross_amount', type: 'double', description: "The order's total in original_currency.", tests: [atLeast(0)] },
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

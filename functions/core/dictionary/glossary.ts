import { NPS_CATEGORY_TEXT } from './metric-definitions.ts';
import { customerBase } from './periods.ts';

/** The terms every table's definition builds on, each defined here and nowhere else. */
export interface Term {
  readonly term: string;
  readonly definition: string;
}

export const GLOSSARY: readonly Term[] = [
  {
    term: 'Dates, periods and as_of',
    definition: [
      'Dates are calendar days in the business time zone (`businessTimezone`, default UTC); periods are calendar months unless',
      'configured (`period`: `week` starts on Monday; `quarter`). `as_of` is the run date: everything that happened up to the end of',
      'that day. Every curated table holds one partition per as_of, and carries it as a column.',
    ].join('\n'),
  },
  {
    term: 'Rates',
    definition: 'Rates are fractions (`0.25` = 25 %). A rate whose denominator is zero is `null`, never an error.',
  },
  {
    term: 'Purchase',
    definition: [
      'An order whose `placed` event is on or before as_of, that is not cancelled and not fully refunded by then (refund and cancel',
      "events after as_of do not count yet). Its date is the `placed` event's date. Partial refunds that add up to the total are a",
      'full refund. A repeated `event_id` counts once; if an order has several `placed` events, the earliest is the order.',
    ].join('\n'),
  },
  {
    term: 'Net revenue',
    definition: [
      'Order total minus refunded amounts, attributed to the purchase date. Money is summed exactly (as decimal, then given as a',
      'double), so the same events give the same figures to the last digit however they were split into files.',
    ].join('\n'),
  },
  {
    term: 'Currencies',
    definition: [
      'Every amount of the tables is in the **reporting currency**. With `reportingCurrency` set, an order in another currency',
      'converts at the rate of its order date (`pipeline ingest fx-rates`), or else the latest one dated up to 7 days before it; its',
      "refunds and lines convert at the order's rate, whenever they happen. An order in the reporting currency needs no rate. A run",
      'with an order that has no usable rate stops before anything is published, naming each currency and dates without one.',
      'Without `reportingCurrency` the lake holds one currency, and a run that meets a second one stops, naming them.',
      "Converted amounts are not rounded; `customer_orders` keeps each order's original currency, amount and rate.",
    ].join('\n'),
  },
  { term: 'Active customer base', definition: customerBase.definition! },
  { term: 'NPS categories', definition: `Survey answers score 0-10: ${NPS_CATEGORY_TEXT}.` },
];

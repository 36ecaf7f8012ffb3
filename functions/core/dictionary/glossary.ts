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
      'events after as_of do not count yet). Its date is the `placed` event\'s date. Partial refunds that add up to the total are a',
      'full refund. A repeated `event_id` counts once; if an order has several `placed` events, the earliest is the order.',
    ].join('\n'),
  },
  {
    term: 'Net revenue',
    definition: [
      'Order total minus refunded amounts, attributed to the purchase date. Money is summed exactly (as decimal, then given as a',
      'double), so the same events give the same figures to the last digit however they were split into files. Amounts are summed',
      'as given, whatever their `currency`: feed one currency per lake, or convert before ingest.',
    ].join('\n'),
  },
  { term: 'Active customer base', definition: customerBase.definition! },
  { term: 'NPS categories', definition: `Survey answers score 0-10: ${NPS_CATEGORY_TEXT}.` },
];

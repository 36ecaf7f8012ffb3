/**
 * The shape of the table dictionary: for every table the pipeline reads or writes, what a row
 * is, and for every column its type, unit, meaning and the data tests that hold it to that
 * meaning. It is the one place a definition is written; the Glue catalog, docs/tables.md, the
 * report's definitions and infra/table-schemas.json are generated from it, and its tests run on
 * every run before anything is published.
 */

/** Column types as the Glue catalog and Athena name them. */
export type ColumnType = 'string' | 'double' | 'bigint' | 'int' | 'boolean' | 'date' | 'timestamp';

/** Units, so that a reader knows what a number counts. */
export const UNITS = {
  currency: 'an amount in the reporting currency (reportingCurrency; unset, the one currency of the orders)',
  'original currency': 'an amount in the currency the event gave (its currency column), not converted',
  fraction: 'a share from 0 to 1 (0.25 = 25 %)',
  'NPS points': 'an NPS from -100 to 100',
  score: 'a score on a fixed scale',
  customers: 'a number of customers',
  purchases: 'a number of purchases (or purchase days, where said)',
  responses: 'a number of survey responses',
  messages: 'a number of campaign messages',
  days: 'calendar days',
  weeks: 'weeks of seven days',
  months: 'months',
  years: 'years of 365.25 days',
  'per year': 'a rate per year',
  'per month': 'a rate per month',
  probability: 'a probability from 0 to 1',
  'model parameter': 'a fitted parameter of a model, in its time unit',
} as const;

export type Unit = keyof typeof UNITS;

/** A test on every row of a column, as dbt's generic tests. */
export type ColumnTest =
  /** The values are one of these. */
  | { readonly kind: 'accepted_values'; readonly values: readonly string[] }
  /** The values lie in [min, max] (either side may be open). */
  | { readonly kind: 'range'; readonly min?: number; readonly max?: number };

export interface ColumnDoc {
  readonly name: string;
  readonly type: ColumnType;
  readonly description: string;
  readonly unit?: Unit;
  /**
   * When the column may be null, and why. Every column without it is tested never to be null:
   * an undocumented null fails the run.
   */
  readonly nullWhen?: string;
  readonly tests?: readonly ColumnTest[];
}

/** A rule every row satisfies, as SQL (dbt's expression_is_true). Null counts as satisfied. */
export interface RowRule {
  readonly rule: string;
  readonly why: string;
}

export type TableLayer =
  /** Events as ingested, and the logs the pipeline keeps (rejections, published messages). */
  | 'source'
  /** Kept for one run only: the steps' intermediate tables. */
  | 'staging'
  /** Published per as_of under curated/: the tables a data team queries. */
  | 'curated';

export interface TableDoc {
  readonly name: string;
  readonly layer: TableLayer;
  /** One or two sentences: the Glue table description and the line in the docs' table list. */
  readonly summary: string;
  /**
   * The columns that identify a row, tested unique and not null. Empty for a one-row table,
   * tested to hold exactly one row. Source tables keep every delivery and have no grain.
   */
  readonly grain: readonly string[] | null;
  /** What "one row" means, in words, for the docs. */
  readonly rowMeaning: string;
  /** The definition in full, as markdown paragraphs for the docs (formulas, edge cases). */
  readonly definition?: string;
  readonly columns: readonly ColumnDoc[];
  readonly rules?: readonly RowRule[];
  /**
   * For a table whose rows are problems (stg_currency_problems): the test that it is empty, and
   * the column whose text tells each problem. Every row is shown in the run's error.
   */
  readonly mustBeEmpty?: { readonly test: string; readonly describedBy: string };
}

/** Shorthands for the common tests. */
export const between = (min: number, max: number): ColumnTest => ({ kind: 'range', min, max });
export const atLeast = (min: number): ColumnTest => ({ kind: 'range', min });
export const oneOf = (...values: string[]): ColumnTest => ({ kind: 'accepted_values', values });

/** A rate in [0, 1]: a share of customers, null when the denominator is zero. */
export const FRACTION: Pick<ColumnDoc, 'unit' | 'tests'> = { unit: 'fraction', tests: [between(0, 1)] };
/** A count of things, never negative. */
export const count = (unit: Unit): Pick<ColumnDoc, 'unit' | 'tests'> => ({ unit, tests: [atLeast(0)] });

/** The as_of column every curated table carries: the run date it was computed for. */
export const AS_OF_COLUMN: ColumnDoc = {
  name: 'as_of',
  type: 'date',
  description: 'The run date: events up to the end of this day in the business time zone are included.',
};

import type { PipelineConfig } from '../config.ts';
import { fitCustomerValue } from '../clv/predictive-clv.ts';
import type { TypeScriptStep } from './graph.ts';

export type ColumnType = 'varchar' | 'double' | 'integer' | 'boolean';

export interface OutputColumn {
  readonly name: string;
  readonly type: ColumnType;
}

/** A table's columns by name, as the engine or a Parquet reader returns them. */
export type InputColumns = Readonly<Record<string, ArrayLike<unknown>>>;

/**
 * How a TypeScript step of the job graph is run: the SQL that reads its input columns, the
 * pure function, and the columns of each table it writes (as_of is added by the runner).
 */
export interface TypeScriptStepHandler {
  inputSql(asOf: string): string;
  /** The columns inputSql selects: what the AWS step reads from the input's Parquet files. */
  readonly inputColumns: readonly string[];
  run(input: InputColumns, config: PipelineConfig, asOf: string): Record<string, readonly object[]>;
  readonly outputColumns: Readonly<Record<string, readonly OutputColumn[]>>;
}

const columns = (spec: Record<string, ColumnType>): OutputColumn[] => Object.entries(spec).map(([name, type]) => ({ name, type }));

/** A 64-bit integer beyond the safe range arrives as a bigint (readParquetColumns); the models want plain numbers. */
const numbers = (values: ArrayLike<unknown> | undefined, name: string): number[] => {
  if (values === undefined) throw new Error(`the CLV step needs the column ${name}`);
  return Array.from(values, (value) => (value === null || value === undefined ? Number.NaN : Number(value)));
};

const CLV_INPUT_COLUMNS = ['customer_id', 'frequency', 'recency_days', 'tenure_days', 'avg_repeat_day_net_revenue'] as const;

/**
 * The order of the rows by a text key, compared by UTF-16 code units: the same wherever the
 * rows came from (DuckDB's result, or Athena's UNLOAD parts read in any order). Null when the
 * rows are in that order already, as DuckDB returns them (inputSql sorts them; its byte order
 * is the same but where a key holds characters beyond U+FFFF): sorting a million keys here took
 * 2.8 s, checking them takes a pass.
 */
function orderBy(keys: ArrayLike<unknown>): number[] | null {
  const text = Array.from(keys, (key) => String(key));
  let sorted = true;
  for (let index = 1; index < text.length && sorted; index += 1) sorted = text[index - 1]! <= text[index]!;
  if (sorted) return null;
  return text.map((_, index) => index).sort((a, b) => (text[a]! < text[b]! ? -1 : text[a]! > text[b]! ? 1 : 0));
}

export const typeScriptSteps: Record<TypeScriptStep['handler'], TypeScriptStepHandler> = {
  predictive_clv: {
    inputSql: (asOf) => `select ${CLV_INPUT_COLUMNS.join(', ')} from customer_summary where as_of = date '${asOf}' order by customer_id`,
    inputColumns: CLV_INPUT_COLUMNS,
    run(input, config) {
      // The fits start from an even sample of the customers, so the rows are put in customer_id
      // order first: the same customers give the same model locally and on AWS, in any order.
      if (input['customer_id'] === undefined) throw new Error('the CLV step needs the column customer_id');
      const order = orderBy(input['customer_id']);
      const ordered = (values: number[]) => (order === null ? values : order.map((index) => values[index]!));
      const spend = ordered(numbers(input['avg_repeat_day_net_revenue'], 'avg_repeat_day_net_revenue'));
      const result = fitCustomerValue(
        {
          frequency: ordered(numbers(input['frequency'], 'frequency')),
          recency_days: ordered(numbers(input['recency_days'], 'recency_days')),
          tenure_days: ordered(numbers(input['tenure_days'], 'tenure_days')),
          avg_repeat_day_net_revenue: spend.map((value) => (Number.isNaN(value) ? null : value)),
        },
        config.clv,
      );
      return { clv_model: result.models, stg_clv_purchase_curves: result.curves, stg_clv_probability_alive: result.alive };
    },
    outputColumns: {
      clv_model: columns({
        model: 'varchar',
        selected: 'boolean',
        r: 'double',
        alpha: 'double',
        a: 'double',
        b: 'double',
        s: 'double',
        beta: 'double',
        p: 'double',
        q: 'double',
        v: 'double',
        time_unit: 'varchar',
        log_likelihood: 'double',
        customers: 'integer',
        converged: 'boolean',
        iterations: 'integer',
        horizon_months: 'integer',
        monthly_discount_rate: 'double',
        note: 'varchar',
      }),
      stg_clv_purchase_curves: columns({
        frequency: 'integer',
        tenure_days: 'integer',
        purchases_if_alive: 'double',
        discounted_purchases_if_alive: 'double',
        purchases_if_alive_30d: 'double',
        purchases_if_alive_90d: 'double',
        purchases_if_alive_365d: 'double',
        next_purchase_days_if_alive: 'double',
      }),
      stg_clv_probability_alive: columns({
        frequency: 'integer',
        recency_days: 'integer',
        tenure_days: 'integer',
        p_alive: 'double',
      }),
    },
  },
};

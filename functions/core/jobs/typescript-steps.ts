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

/** Engines hand 64-bit integers over as bigints; the models want plain numbers. */
const numbers = (values: ArrayLike<unknown> | undefined, name: string): number[] => {
  if (values === undefined) throw new Error(`the CLV step needs the column ${name}`);
  return Array.from(values, (value) => (value === null || value === undefined ? Number.NaN : Number(value)));
};

const CLV_INPUT_COLUMNS = ['frequency', 'recency_days', 'tenure_days', 'avg_repeat_day_net_revenue'] as const;

export const typeScriptSteps: Record<TypeScriptStep['handler'], TypeScriptStepHandler> = {
  predictive_clv: {
    // In a fixed order: the fits start from a sample of every k-th customer, and the same run
    // must give the same model.
    inputSql: (asOf) => `select ${CLV_INPUT_COLUMNS.join(', ')} from customer_summary where as_of = date '${asOf}' order by customer_id`,
    inputColumns: CLV_INPUT_COLUMNS,
    run(input, config) {
      const spend = numbers(input['avg_repeat_day_net_revenue'], 'avg_repeat_day_net_revenue');
      const result = fitCustomerValue(
        {
          frequency: numbers(input['frequency'], 'frequency'),
          recency_days: numbers(input['recency_days'], 'recency_days'),
          tenure_days: numbers(input['tenure_days'], 'tenure_days'),
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

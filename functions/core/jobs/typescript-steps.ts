import type { PipelineConfig } from '../config.ts';
import { predictCustomerValue } from '../clv/predictive-clv.ts';
import type { ClvCustomer } from '../clv/predictive-clv.ts';
import type { TypeScriptStep } from './graph.ts';

export type ColumnType = 'varchar' | 'double' | 'integer' | 'boolean';

export interface OutputColumn {
  readonly name: string;
  readonly type: ColumnType;
}

/**
 * How a TypeScript step of the job graph is run: the SQL that reads its input rows, the pure
 * function, and the columns of each table it writes (as_of is added by the runner).
 */
export interface TypeScriptStepHandler {
  inputSql(asOf: string): string;
  run(rows: readonly Record<string, unknown>[], config: PipelineConfig, asOf: string): Record<string, readonly object[]>;
  readonly outputColumns: Readonly<Record<string, readonly OutputColumn[]>>;
}

const columns = (spec: Record<string, ColumnType>): OutputColumn[] => Object.entries(spec).map(([name, type]) => ({ name, type }));

export const typeScriptSteps: Record<TypeScriptStep['handler'], TypeScriptStepHandler> = {
  predictive_clv: {
    inputSql: (asOf) =>
      'select customer_id, frequency, recency_days, tenure_days, avg_repeat_day_net_revenue, net_revenue ' +
      `from customer_summary where as_of = date '${asOf}' order by customer_id`,
    run(rows, config) {
      const result = predictCustomerValue(rows as unknown as ClvCustomer[], config.clv);
      return { clv_model: result.models, customer_clv: result.customers };
    },
    outputColumns: {
      clv_model: columns({
        model: 'varchar',
        r: 'double',
        alpha: 'double',
        a: 'double',
        b: 'double',
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
      customer_clv: columns({
        customer_id: 'varchar',
        historical_net_revenue: 'double',
        frequency: 'integer',
        recency_weeks: 'double',
        tenure_weeks: 'double',
        p_alive: 'double',
        expected_purchases: 'double',
        expected_order_value: 'double',
        predicted_clv: 'double',
      }),
    },
  },
};

import { DuckDbEngine } from '../../adapters/duckdb-engine.ts';
import { createSourceViews } from '../../adapters/lake-views.ts';
import { computeTables } from '../../adapters/local-job-runner.ts';
import { validateHoldout } from '../../core/clv/holdout.ts';
import type { HoldoutCustomer, HoldoutValidation } from '../../core/clv/holdout.ts';
import { TIME_UNIT } from '../../core/clv/predictive-clv.ts';
import { UsageError } from '../../core/errors.ts';
import { jobGraph } from '../../core/jobs/graph.ts';
import { rowObjects } from '../../core/ports.ts';
import type { QueryResult } from '../../core/ports.ts';
import { parseDateOption } from '../dates.ts';
import { formatResult } from '../format.ts';
import type { OutputFormat } from '../format.ts';
import type { CommandContext } from '../context.ts';
import { parseOutputFormat } from './query.ts';

const stepsThrough = (name: string) => jobGraph.slice(0, jobGraph.findIndex((step) => step.name === name) + 1);

/** Calibration customers with their actual purchase days in the holdout, from the raw events. */
async function holdoutCustomers(context: CommandContext, calibrationEnd: string, holdoutEnd: string): Promise<HoldoutCustomer[]> {
  const engine = await DuckDbEngine.open();
  try {
    await createSourceViews(engine, context.store);
    await computeTables(engine, context.config, calibrationEnd, stepsThrough('customer_summary'));
    const calibration = rowObjects(
      await engine.query(
        'select customer_id, frequency, recency_days, tenure_days, avg_repeat_day_net_revenue, net_revenue ' +
          `from customer_summary where as_of = date '${calibrationEnd}'`,
      ),
    );
    await computeTables(engine, context.config, holdoutEnd, stepsThrough('stg_purchases'));
    const holdout = rowObjects(
      await engine.query(
        `select customer_id, count(distinct purchase_date) as purchase_days from stg_purchases where purchase_date > date '${calibrationEnd}' group by customer_id`,
      ),
    );
    const actual = new Map(holdout.map((row) => [row['customer_id'] as string, row['purchase_days'] as number]));
    return calibration.map((row) => ({
      ...(row as unknown as HoldoutCustomer),
      holdout_purchase_days: actual.get(row['customer_id'] as string) ?? 0,
    }));
  } finally {
    engine.close();
  }
}

function groupsTable(validation: HoldoutValidation): QueryResult {
  const names = ['calibration_frequency', 'customers', 'actual_mean', 'predicted_mean', 'actual_total', 'predicted_total'];
  return {
    columns: names.map((name) => ({ name, type: name === 'calibration_frequency' ? 'VARCHAR' : 'DOUBLE' })),
    rows: validation.groups.map((group) => [
      group.frequency,
      group.customers,
      group.actual_mean,
      group.predicted_mean,
      group.actual_total,
      group.predicted_total,
    ]),
  };
}

function describeValidation(validation: HoldoutValidation, calibrationEnd: string, holdoutEnd: string, format: OutputFormat): string {
  if (format === 'csv') return formatResult(groupsTable(validation), 'csv');
  const { r, alpha, a, b } = validation.fit.parameters;
  const summary = {
    calibration_end: calibrationEnd,
    holdout_end: holdoutEnd,
    holdout_days: validation.holdoutDays,
    time_unit: TIME_UNIT,
    parameters: { r, alpha, a, b },
    log_likelihood: validation.fit.logLikelihood,
    converged: validation.fit.converged,
    customers: validation.customers,
    actual_total: validation.actualTotal,
    predicted_total: validation.predictedTotal,
    total_error: validation.totalError,
    mean_absolute_error: validation.meanAbsoluteError,
    root_mean_squared_error: validation.rootMeanSquaredError,
  };
  if (format === 'json') return JSON.stringify({ ...summary, by_frequency: validation.groups }, null, 2) + '\n';
  const fixed = (value: number, digits = 4) => value.toFixed(digits);
  return (
    `BG/NBD fitted on ${validation.customers.toLocaleString('en-US')} customers to ${calibrationEnd} (in ${TIME_UNIT}s): ` +
    `r=${fixed(r)} alpha=${fixed(alpha)} a=${fixed(a)} b=${fixed(b)}, log-likelihood ${fixed(validation.fit.logLikelihood, 2)}` +
    `${validation.fit.converged ? '' : ' (did not converge)'}\n` +
    `holdout ${calibrationEnd} to ${holdoutEnd} (${validation.holdoutDays} days): purchase days per customer, actual against predicted, by calibration frequency\n` +
    formatResult(groupsTable(validation), 'table') +
    `total: actual ${fixed(validation.actualTotal, 0)}, predicted ${fixed(validation.predictedTotal, 1)}` +
    (validation.totalError === null ? '' : ` (${validation.totalError >= 0 ? '+' : ''}${fixed(100 * validation.totalError, 1)}%)`) +
    `; per customer: mean absolute error ${fixed(validation.meanAbsoluteError, 3)}, RMSE ${fixed(validation.rootMeanSquaredError, 3)}\n`
  );
}

export async function validateClvCommand(
  context: CommandContext,
  options: { calibrationEnd?: string | undefined; holdoutEnd?: string | undefined; format?: string | undefined },
): Promise<number> {
  if (options.calibrationEnd === undefined || options.holdoutEnd === undefined) {
    throw new UsageError('validate-clv needs --calibration-end DATE and --holdout-end DATE');
  }
  const calibrationEnd = parseDateOption('calibration-end', options.calibrationEnd);
  const holdoutEnd = parseDateOption('holdout-end', options.holdoutEnd);
  if (holdoutEnd <= calibrationEnd) throw new UsageError('--holdout-end must be after --calibration-end');
  const format = parseOutputFormat(options.format);
  const customers = await holdoutCustomers(context, calibrationEnd, holdoutEnd);
  if (customers.filter((customer) => customer.frequency > 0).length < 2) {
    throw new UsageError(`not enough repeat buyers before ${calibrationEnd} to fit the model`);
  }
  const holdoutDays = (Date.parse(holdoutEnd) - Date.parse(calibrationEnd)) / 86_400_000;
  context.stdout(describeValidation(validateHoldout(customers, holdoutDays), calibrationEnd, holdoutEnd, format));
  return 0;
}

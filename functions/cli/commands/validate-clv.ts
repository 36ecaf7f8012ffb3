import { DuckDbEngine } from '../../adapters/duckdb-engine.ts';
import { createSourceViews } from '../../adapters/lake-views.ts';
import { computeTables } from '../../local/local-job-runner.ts';
import { validateHoldout } from '../../core/clv/holdout.ts';
import type { HoldoutCustomer, HoldoutValidation, ModelValidation } from '../../core/clv/holdout.ts';
import { WARM_START_SAMPLE } from '../../core/clv/optimize.ts';
import { convergedInside, PURCHASE_MODEL_TITLES } from '../../core/clv/purchase-models.ts';
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

/** By calibration frequency: what happened, and what each model predicted (means per customer). */
function comparisonTable(validation: HoldoutValidation): QueryResult {
  const [first] = validation.models;
  const names = ['calibration_frequency', 'customers', 'actual_mean', ...validation.models.map((model) => model.fit.model)];
  return {
    columns: names.map((name) => ({ name, type: name === 'calibration_frequency' ? 'VARCHAR' : 'DOUBLE' })),
    rows: (first?.groups ?? []).map((group, index) => [
      group.frequency,
      group.customers,
      group.actual_mean,
      ...validation.models.map((model) => model.groups[index]!.predicted_mean),
    ]),
  };
}

/** One row per model: its calibration fit and its errors on the holdout. */
function modelsTable(validation: HoldoutValidation): QueryResult {
  const names = ['model', 'log_likelihood', 'converged', 'actual_total', 'predicted_total', 'total_error', 'mean_absolute_error', 'rmse'];
  return {
    columns: names.map((name) => ({ name, type: name === 'model' || name === 'converged' ? 'VARCHAR' : 'DOUBLE' })),
    rows: validation.models.map((model) => [
      model.fit.model,
      Number(model.fit.logLikelihood.toFixed(2)),
      String(convergedInside(model.fit)),
      validation.actualTotal,
      Number(model.predictedTotal.toFixed(1)),
      model.totalError === null ? null : Number(model.totalError.toFixed(4)),
      Number(model.meanAbsoluteError.toFixed(4)),
      Number(model.rootMeanSquaredError.toFixed(4)),
    ]),
  };
}

/** Long form for data tools: one row per model and calibration frequency. */
function groupsTable(validation: HoldoutValidation): QueryResult {
  const names = ['model', 'calibration_frequency', 'customers', 'actual_mean', 'predicted_mean', 'actual_total', 'predicted_total'];
  return {
    columns: names.map((name) => ({ name, type: name === 'model' || name === 'calibration_frequency' ? 'VARCHAR' : 'DOUBLE' })),
    rows: validation.models.flatMap((model) =>
      model.groups.map((group) => [
        model.fit.model,
        group.frequency,
        group.customers,
        group.actual_mean,
        group.predicted_mean,
        group.actual_total,
        group.predicted_total,
      ]),
    ),
  };
}

const describeParameters = (parameters: Readonly<Record<string, number>>) =>
  Object.entries(parameters)
    .map(([name, value]) => `${name}=${value.toFixed(4)}`)
    .join(' ');

function describeValidation(validation: HoldoutValidation, calibrationEnd: string, holdoutEnd: string, format: OutputFormat): string {
  if (format === 'csv') return formatResult(groupsTable(validation), 'csv');
  if (format === 'json') {
    const report = {
      calibration_end: calibrationEnd,
      holdout_end: holdoutEnd,
      holdout_days: validation.holdoutDays,
      time_unit: TIME_UNIT,
      customers: validation.customers,
      actual_total: validation.actualTotal,
      models: validation.models.map((model) => ({
        model: model.fit.model,
        parameters: model.fit.parameters,
        log_likelihood: model.fit.logLikelihood,
        converged: convergedInside(model.fit),
        fitted_on_sample: model.fit.sampled,
        predicted_total: model.predictedTotal,
        total_error: model.totalError,
        mean_absolute_error: model.meanAbsoluteError,
        root_mean_squared_error: model.rootMeanSquaredError,
        by_frequency: model.groups,
      })),
    };
    return `${JSON.stringify(report, null, 2)}\n`;
  }
  const fits = validation.models.map(
    (model) =>
      `  ${PURCHASE_MODEL_TITLES[model.fit.model].padEnd(10)} ${describeParameters(model.fit.parameters)}, log-likelihood ${model.fit.logLikelihood.toFixed(2)}` +
      (convergedInside(model.fit) ? '' : ' (did not converge inside the search)') +
      (model.fit.sampled ? ` (fitted on an even sample of ${WARM_START_SAMPLE.toLocaleString('en-US')} customers)` : ''),
  );
  const converged = validation.models.filter((model) => convergedInside(model.fit));
  const best = (pick: (model: ModelValidation) => number) =>
    converged.length === 0 ? '-' : PURCHASE_MODEL_TITLES[converged.reduce((a, b) => (pick(b) < pick(a) ? b : a)).fit.model];
  return (
    `purchase models fitted on ${validation.customers.toLocaleString('en-US')} customers to ${calibrationEnd} (in ${TIME_UNIT}s):\n` +
    fits.join('\n') +
    `\nholdout ${calibrationEnd} to ${holdoutEnd} (${validation.holdoutDays} days): purchase days per customer, actual against each model's prediction, by calibration frequency\n` +
    formatResult(comparisonTable(validation), 'table') +
    formatResult(modelsTable(validation), 'table') +
    `highest calibration likelihood: ${best((model) => -model.fit.logLikelihood)}; smallest mean absolute error on the holdout: ${best((model) => model.meanAbsoluteError)}\n`
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

/**
 * The job graph, defined once as data. The local runner executes it on DuckDB; the AWS state
 * machine is generated from the same list. Steps are in a valid execution order.
 */

/**
 * Tables the graph reads that no step writes: the raw events and exchange rates from ingest,
 * and the log of campaign messages already published and customers held out (for cooldowns
 * and outcomes).
 */
export const SOURCE_TABLES = ['orders', 'surveys', 'fx_rates', 'spend', 'published_messages'] as const;

/** A step that runs one SQL file and produces the table of the same name. */
export interface SqlStep {
  readonly type: 'sql';
  /** Step name, also the name of the table it produces. */
  readonly name: string;
  /** SQL file under sql/ that produces the table. */
  readonly sqlFile: string;
  /** Tables the SQL reads: sources or the outputs of earlier steps. */
  readonly inputs: readonly string[];
  /**
   * staging: an intermediate table, kept for the run only.
   * curated: a published table, written to curated/<name>/as_of=<date>/.
   */
  readonly kind: 'staging' | 'curated';
}

/**
 * A step computed in TypeScript (model fitting that SQL cannot express). It reads its input
 * table's columns, calls a pure function of functions/core, and writes small tables: published
 * ones and intermediate ones that later SQL steps join back to the customers. Locally it runs
 * in the job runner; in AWS it is a Lambda step.
 */
export interface TypeScriptStep {
  readonly type: 'typescript';
  readonly name: string;
  /** Key of the function in functions/core/jobs/typescript-steps.ts. */
  readonly handler: 'predictive_clv';
  readonly inputs: readonly string[];
  /** Tables it writes: curated ones are published, staging ones kept for the run only. */
  readonly outputs: { readonly curated: readonly string[]; readonly staging: readonly string[] };
}

export type JobStep = SqlStep | TypeScriptStep;

const step = (name: string, kind: SqlStep['kind'], inputs: readonly string[]): SqlStep => ({
  type: 'sql',
  name,
  sqlFile: `${name}.sql`,
  inputs,
  kind,
});

/** Tables a step writes. */
export const outputsOf = (current: JobStep): readonly string[] =>
  current.type === 'sql' ? [current.name] : [...current.outputs.curated, ...current.outputs.staging];

/** Tables a step publishes under curated/. */
export const curatedOutputsOf = (current: JobStep): readonly string[] =>
  current.type === 'sql' ? (current.kind === 'curated' ? [current.name] : []) : current.outputs.curated;

export const jobGraph: readonly JobStep[] = [
  step('stg_order_events', 'staging', ['orders']),
  step('stg_fx_rates', 'staging', ['fx_rates']),
  step('stg_placements', 'staging', ['stg_order_events', 'stg_fx_rates']),
  step('stg_spend', 'staging', ['spend', 'stg_fx_rates']),
  step('stg_currency_problems', 'staging', ['stg_order_events', 'stg_placements', 'stg_spend']),
  step('stg_orders', 'staging', ['stg_order_events', 'stg_placements']),
  step('stg_purchases', 'staging', ['stg_orders']),
  step('stg_survey_responses', 'staging', ['surveys']),
  step('stg_periods', 'staging', ['stg_purchases', 'stg_survey_responses']),
  step('stg_customer_base', 'staging', ['stg_purchases']),
  step('customer_orders', 'curated', ['stg_orders']),
  step('order_lines', 'curated', ['customer_orders', 'stg_orders']),
  step('customer_summary', 'curated', ['stg_purchases', 'stg_survey_responses', 'stg_customer_base']),
  step('cohort_retention', 'curated', ['stg_purchases', 'stg_periods']),
  step('period_metrics', 'curated', ['stg_purchases', 'stg_periods', 'stg_customer_base']),
  step('cohort_revenue', 'curated', ['stg_purchases', 'stg_periods', 'customer_summary', 'cohort_retention']),
  step('revenue_retention', 'curated', ['stg_purchases', 'stg_periods']),
  step('clv_summary', 'curated', ['stg_purchases', 'stg_customer_base']),
  step('nps', 'curated', ['stg_survey_responses', 'stg_periods']),
  step('rfm_segments', 'curated', ['customer_summary']),
  {
    type: 'typescript',
    name: 'predictive_clv',
    handler: 'predictive_clv',
    inputs: ['customer_summary'],
    outputs: { curated: ['clv_model'], staging: ['stg_clv_purchase_curves', 'stg_clv_probability_alive'] },
  },
  step('customer_clv', 'curated', ['customer_summary', 'clv_model', 'stg_clv_purchase_curves', 'stg_clv_probability_alive']),
  step('category_metrics', 'curated', ['order_lines']),
  step('channel_metrics', 'curated', ['customer_orders', 'customer_clv']),
  step('referral_metrics', 'curated', ['customer_orders', 'customer_clv', 'stg_periods']),
  step('acquisition_metrics', 'curated', ['customer_orders', 'stg_spend', 'customer_clv', 'clv_summary', 'stg_periods']),
  step('campaign_audience', 'curated', ['customer_summary', 'rfm_segments', 'customer_clv', 'published_messages']),
  step('stg_campaign_comparisons', 'staging', ['published_messages', 'stg_purchases', 'customer_orders']),
  step('campaign_outcomes', 'curated', ['stg_campaign_comparisons']),
  step('campaign_results', 'curated', ['stg_campaign_comparisons']),
];

/** Names of the published tables, in graph order. */
export const CURATED_TABLES: readonly string[] = jobGraph.flatMap(curatedOutputsOf);

/**
 * Checks that every input is a source or an earlier step's output and that names are unique;
 * returns the problems found (empty when the graph is sound).
 */
export function validateGraph(steps: readonly JobStep[]): string[] {
  const problems: string[] = [];
  const available = new Set<string>(SOURCE_TABLES);
  for (const current of steps) {
    for (const input of current.inputs) {
      if (!available.has(input)) problems.push(`step ${current.name} reads ${input}, which no earlier step produces`);
    }
    for (const output of outputsOf(current)) {
      if (available.has(output)) problems.push(`step ${current.name} writes ${output}, which is defined twice or shadows a source`);
      available.add(output);
    }
  }
  return problems;
}

import { askedOutcome } from '../core/campaigns/campaigns.ts';
import { PURCHASE_MODEL_TITLES } from '../core/clv/purchase-models.ts';
import type { PurchaseModelName } from '../core/clv/purchase-models.ts';
import { rowObjects } from '../core/ports.ts';
import type { QueryResult } from '../core/ports.ts';
import { toTable } from './format.ts';

/** Reads the curated tables of one as_of and prints what a marketing team looks at first. */
export type Query = (sql: string) => Promise<QueryResult>;

const percent = (value: unknown) => (typeof value === 'number' ? `${(value * 100).toFixed(1)}%` : '-');
const money = (value: unknown) => (typeof value === 'number' ? value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }) : '-');
const count = (value: unknown) => (typeof value === 'number' ? value.toLocaleString('en-US') : '-');

function firstRow(result: QueryResult): Record<string, unknown> {
  return rowObjects(result)[0] ?? {};
}

export async function summarize(query: Query, asOf: string): Promise<string> {
  const where = `where as_of = date '${asOf}'`;
  const clv = firstRow(await query(`select * from clv_summary ${where}`));
  const nps = firstRow(await query(`select nps, trailing_nps, trailing_responses from nps ${where} order by period_start desc limit 1`));

  const lines: string[] = [];
  lines.push(`as of ${asOf}`);
  lines.push(`  customers ${count(clv['customers'])}   purchases ${count(clv['purchases'])}   net revenue ${money(clv['net_revenue'])}`);
  lines.push(
    `  AOV ${money(clv['aov'])}   purchases/customer/year ${typeof clv['purchase_frequency_per_year'] === 'number' ? (clv['purchase_frequency_per_year'] as number).toFixed(2) : '-'}   repeat-purchase rate ${percent(clv['repeat_purchase_rate'])}`,
  );
  lines.push(
    `  annual churn ${percent(clv['annual_churn_rate'])}   expected lifespan ${typeof clv['expected_lifespan_years'] === 'number' ? `${(clv['expected_lifespan_years'] as number).toFixed(2)} years` : '-'}   CLV (classic) ${money(clv['clv_simple'])}`,
  );
  lines.push(
    `  NPS this period ${typeof nps['nps'] === 'number' ? (nps['nps'] as number).toFixed(1) : '-'}   trailing NPS ${typeof nps['trailing_nps'] === 'number' ? (nps['trailing_nps'] as number).toFixed(1) : '-'} (${count(nps['trailing_responses'])} responses)`,
  );

  const predictive = firstRow(
    await query(
      `select count(*) as customers, avg(predicted_clv) as mean_clv, sum(predicted_clv) as total_clv, avg(p_alive) as mean_p_alive,
              sum(expected_purchases) as purchases from customer_clv ${where}`,
    ),
  );
  const model = firstRow(await query(`select model, horizon_months from clv_model ${where} and selected`));
  const title = PURCHASE_MODEL_TITLES[model['model'] as PurchaseModelName] ?? 'no purchase model';
  lines.push(
    `  predictive CLV (${title} + Gamma-Gamma, next ${String(model['horizon_months'] ?? '-')} months): mean ${money(predictive['mean_clv'])}, ` +
      `total ${money(predictive['total_clv'])}, expected purchases ${count(typeof predictive['purchases'] === 'number' ? Math.round(predictive['purchases'] as number) : null)}, ` +
      `mean P(alive) ${percent(predictive['mean_p_alive'])}${model['model'] === undefined ? ' (no purchase model selected: see clv_model.note)' : ''}`,
  );

  lines.push('', 'retention and churn, last 6 periods (exact; classic in brackets)');
  const periods = await query(
    `select period_start, customers_start, new_customers, retained_customers, churned_customers, reactivated_customers, customers_end,
            retention_rate, retention_rate_classic, churn_rate, churn_rate_classic, orders, net_revenue, aov
       from period_metrics ${where} order by period_start desc limit 6`,
  );
  const periodRows = [...periods.rows].reverse().map((row) => {
    const [start, s, n, retained, churned, reactivated, e, retention, retentionClassic, churn, churnClassic, orders, revenue, aov] = row;
    return [
      start,
      count(s),
      count(n),
      count(retained),
      count(churned),
      count(reactivated),
      count(e),
      `${percent(retention)} (${percent(retentionClassic)})`,
      `${percent(churn)} (${percent(churnClassic)})`,
      count(orders),
      money(revenue),
      money(aov),
    ];
  });
  lines.push(
    toTable({
      columns: ['period', 'start', 'new', 'retained', 'churned', 'reactivated', 'end', 'retention', 'churn', 'orders', 'net revenue', 'AOV'].map((name) => ({
        name,
        type: 'VARCHAR',
      })),
      rows: periodRows,
    }).trimEnd(),
  );

  lines.push('', 'cohort retention, latest 6 cohorts (share of the cohort purchasing k periods after its first)');
  const cohorts = await query(
    `select cohort_start, cohort_size, period_offset, retention_rate from cohort_retention ${where}
       and cohort_start >= (select max(cohort_start) from cohort_retention ${where}) - interval '5' month
       and period_offset <= 6 order by cohort_start, period_offset`,
  );
  const byCohort = new Map<string, { size: unknown; rates: string[] }>();
  for (const [start, size, offset, rate] of cohorts.rows) {
    const entry = byCohort.get(String(start)) ?? { size, rates: [] };
    entry.rates[Number(offset)] = percent(rate);
    byCohort.set(String(start), entry);
  }
  const maxOffset = Math.max(0, ...cohorts.rows.map((row) => Number(row[2])));
  lines.push(
    toTable({
      columns: ['cohort', 'size', ...Array.from({ length: maxOffset + 1 }, (_, k) => `+${k}`)].map((name) => ({ name, type: 'VARCHAR' })),
      rows: [...byCohort].map(([start, entry]) => [start, count(entry.size), ...Array.from({ length: maxOffset + 1 }, (_, k) => entry.rates[k] ?? '')]),
    }).trimEnd(),
  );

  lines.push('', ...(await campaignResultsLines(query, where)));

  lines.push('', 'RFM segments');
  const segments = await query(
    `select segment, count(*) as customers, sum(net_revenue) as net_revenue from rfm_segments ${where} group by segment order by customers desc`,
  );
  lines.push(
    toTable({
      columns: segments.columns,
      rows: segments.rows.map(([segment, customers, revenue]) => [segment, customers, money(revenue)]),
    }).trimEnd(),
  );
  return `${lines.join('\n')}\n`;
}

const signed = (value: unknown) => (typeof value === 'number' ? `${value >= 0 ? '+' : ''}${value.toFixed(1)}` : '-');

const points = (value: unknown) => (typeof value === 'number' ? `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)}` : '-');

/** campaign_results as a table: what each campaign changed in what it asks for, against its holdout, with the interval. */
async function campaignResultsLines(query: Query, where: string): Promise<string[]> {
  const results = rowObjects(
    await query(
      `select campaign, asks_for, sends, conversion_window_days, results_trailing_days, treatment_customers, holdout_customers,
              treatment_conversion_rate, holdout_conversion_rate, uplift, uplift_ci_low, uplift_ci_high, p_value,
              treatment_referral_rate, holdout_referral_rate, referral_uplift, referral_uplift_ci_low, referral_uplift_ci_high, referral_p_value,
              incremental_revenue, incremental_referred_customers
         from campaign_results ${where}
        order by case when asks_for = 'referral' then referral_uplift else uplift end desc nulls last, campaign`,
    ),
  );
  if (results.length === 0) return ['campaign results: no send has a complete conversion window yet'];
  const first = results[0]!;
  return [
    `campaign results: messaged customers against the held-out ones, over the sends whose ${String(first['conversion_window_days'])}-day ` +
      `window ended in the last ${String(first['results_trailing_days'])} days, on what each campaign asks for: a purchase, or a ` +
      'referral (a new customer whose first purchase names them). Uplift in percentage points; an interval that includes 0 shows no measurable effect',
    toTable({
      columns: ['campaign', 'asks for', 'sends', 'messaged', 'held out', 'did (messaged)', 'did (held out)', 'uplift [95% interval]', 'p', 'incremental'].map(
        (name) => ({ name, type: 'VARCHAR' }),
      ),
      rows: results.map((row) => {
        const asked = askedOutcome(row);
        return [
          row['campaign'],
          row['asks_for'],
          count(row['sends']),
          count(row['treatment_customers']),
          count(row['holdout_customers']),
          percent(asked.treatmentRate),
          percent(asked.holdoutRate),
          `${points(asked.uplift)} [${points(asked.low)}, ${points(asked.high)}]`,
          typeof asked.pValue === 'number' ? asked.pValue.toFixed(3) : '-',
          asked.incremental.unit === 'revenue' ? money(asked.incremental.value) : `${signed(asked.incremental.value)} new customers`,
        ];
      }),
    }).trimEnd(),
  ];
}

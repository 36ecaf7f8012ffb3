/** The figures the report shows for one as_of, read from the curated tables. */
export type Row = Record<string, unknown>;

export interface ReportData {
  readonly asOf: string;
  readonly generatedAt: string;
  readonly headline: Row;
  readonly periods: Row[];
  readonly cohorts: Row[];
  /** cohort_revenue: cumulative net revenue per customer of each cohort, offset by offset. */
  readonly cohortRevenue: Row[];
  /** channel_metrics: one row per acquisition channel, the largest first. */
  readonly channels: Row[];
  /** acquisition_metrics summed over every period, per channel with spend. */
  readonly acquisitionByChannel: Row[];
  /** acquisition_metrics' all-channels row of each period. */
  readonly acquisitionByPeriod: Row[];
  /** referral_metrics, period by period. */
  readonly referrals: Row[];
  readonly nps: Row[];
  readonly clvSummary: Row | undefined;
  readonly clvModels: Row[];
  /** Histograms of predicted CLV and P(alive), computed in SQL. */
  readonly clvDistribution: Row[];
  readonly aliveDistribution: Row[];
  readonly segments: Row[];
  readonly campaigns: Row[];
  /** campaign_results: each campaign against its holdout over the trailing window. */
  readonly campaignResults: Row[];
}

/** The queries behind the report; each reads one as_of of one curated table. */
export function reportQueries(asOf: string): Record<Exclude<keyof ReportData, 'asOf' | 'generatedAt' | 'clvSummary'> | 'clvSummary', string> {
  const at = `where as_of = date '${asOf}'`;
  return {
    headline: `select customers, purchases, net_revenue, aov, repeat_purchase_rate,
                 (select avg(predicted_clv) from customer_clv ${at}) as mean_predicted_clv
               from clv_summary ${at}`,
    periods: `select * from period_metrics ${at} order by period_start`,
    cohorts: `select cohort_start, period_offset, cohort_size, active_customers, retention_rate from cohort_retention ${at} order by cohort_start, period_offset`,
    cohortRevenue: `select cohort_start, period_offset, is_complete, cohort_size, cumulative_revenue_per_customer from cohort_revenue ${at} order by cohort_start, period_offset`,
    channels: `select * from channel_metrics ${at} order by customers_acquired desc, acquisition_channel`,
    // Over every period: CAC as total spend per customer, the CLVs weighted by customers.
    acquisitionByChannel: `select acquisition_channel, sum(spend) as spend, sum(new_customers) as new_customers,
                             sum(spend) / nullif(sum(new_customers), 0) as cac,
                             sum(mean_predicted_clv * new_customers) / nullif(sum(case when mean_predicted_clv is not null then new_customers end), 0) as mean_predicted_clv,
                             sum(mean_classic_clv * new_customers) / nullif(sum(case when mean_classic_clv is not null then new_customers end), 0) as mean_classic_clv
                           from acquisition_metrics ${at} and acquisition_channel <> 'all' and spend is not null
                           group by acquisition_channel order by new_customers desc, acquisition_channel`,
    acquisitionByPeriod: `select period_start, spend, new_customers, cac, payback_days from acquisition_metrics ${at} and acquisition_channel = 'all' order by period_start`,
    referrals: `select * from referral_metrics ${at} order by period_start`,
    nps: `select * from nps ${at} order by period_start`,
    clvSummary: `select * from clv_summary ${at}`,
    clvModels: `select * from clv_model ${at} order by model`,
    clvDistribution: `with bounds as (select max(predicted_clv) as top from customer_clv ${at})
                      select least(19, cast(floor(20 * predicted_clv / nullif(bounds.top, 0)) as integer)) as bucket,
                             min(bounds.top) as top, count(*) as customers
                      from customer_clv cross join bounds ${at} and predicted_clv is not null group by 1 order by 1`,
    aliveDistribution: `select least(9, cast(floor(10 * p_alive) as integer)) as bucket, count(*) as customers
                        from customer_clv ${at} and p_alive is not null group by 1 order by 1`,
    segments: `select segment, count(*) as customers, sum(net_revenue) as net_revenue from rfm_segments ${at} group by segment order by customers desc`,
    campaigns: `select campaign, min(priority) as priority, count(*) as customers from campaign_audience ${at} group by campaign order by priority desc`,
    campaignResults: `select * from campaign_results ${at} order by case when asks_for = 'referral' then referral_uplift else uplift end desc nulls last, campaign`,
  };
}

/** Tables each part of the report reads. */
const NEEDS: Record<string, readonly string[]> = {
  headline: ['clv_summary', 'customer_clv'],
  periods: ['period_metrics'],
  cohorts: ['cohort_retention'],
  cohortRevenue: ['cohort_revenue'],
  channels: ['channel_metrics'],
  acquisitionByChannel: ['acquisition_metrics'],
  acquisitionByPeriod: ['acquisition_metrics'],
  referrals: ['referral_metrics'],
  nps: ['nps'],
  clvSummary: ['clv_summary'],
  clvModels: ['clv_model'],
  clvDistribution: ['customer_clv'],
  aliveDistribution: ['customer_clv'],
  segments: ['rfm_segments'],
  campaigns: ['campaign_audience'],
  campaignResults: ['campaign_results'],
};

export type QueryRows = (sql: string) => Promise<Row[]>;

/**
 * Reads the report's figures through any engine (DuckDB locally, Athena in AWS). Parts whose
 * tables are missing (a lake written before they existed) come back empty.
 */
export async function assembleReportData(query: QueryRows, asOf: string, available?: ReadonlySet<string>): Promise<ReportData> {
  const results: Record<string, Row[]> = {};
  for (const [name, sql] of Object.entries(reportQueries(asOf))) {
    const readable = available === undefined || NEEDS[name]!.every((table) => available.has(table));
    results[name] = readable ? await query(sql) : [];
  }
  return {
    asOf,
    generatedAt: new Date().toISOString(),
    headline: results['headline']![0] ?? {},
    periods: results['periods']!,
    cohorts: results['cohorts']!,
    cohortRevenue: results['cohortRevenue']!,
    channels: results['channels']!,
    acquisitionByChannel: results['acquisitionByChannel']!,
    acquisitionByPeriod: results['acquisitionByPeriod']!,
    referrals: results['referrals']!,
    nps: results['nps']!,
    clvSummary: results['clvSummary']![0],
    clvModels: results['clvModels']!,
    clvDistribution: results['clvDistribution']!,
    aliveDistribution: results['aliveDistribution']!,
    segments: results['segments']!,
    campaigns: results['campaigns']!,
    campaignResults: results['campaignResults']!,
  };
}

/**
 * Thresholds that define a metric rather than tune the pipeline: written here once, rendered
 * into the SQL as parameters, into the dictionary's tests and docs, and into the report.
 * Settings a team tunes (activity window, campaign rules) are in config.ts instead.
 */

/** NPS categories of a 0-10 answer, as Reichheld's Net Promoter Score defines them. */
export const NPS_CATEGORIES = {
  promoter: { min: 9, max: 10 },
  passive: { min: 7, max: 8 },
  detractor: { min: 0, max: 6 },
} as const;

export type NpsCategory = keyof typeof NPS_CATEGORIES;

const scores = (category: NpsCategory) => `${NPS_CATEGORIES[category].min}-${NPS_CATEGORIES[category].max}`;

/** "promoters score 9-10, passives 7-8, detractors 0-6". */
export const NPS_CATEGORY_TEXT = `promoters score ${scores('promoter')}, passives ${scores('passive')}, detractors ${scores('detractor')}`;

/** The SQL parameters of the NPS categories (stg_survey_responses.sql). */
export function metricSqlParameters(): Record<string, string> {
  return {
    nps_promoter_min_score: String(NPS_CATEGORIES.promoter.min),
    nps_passive_min_score: String(NPS_CATEGORIES.passive.min),
  };
}

import { NPS_CATEGORIES } from './thresholds.ts';

/** What follows from the thresholds (thresholds.ts): their wording and their SQL parameters. */
export { NPS_CATEGORIES };

type NpsCategory = keyof typeof NPS_CATEGORIES;

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

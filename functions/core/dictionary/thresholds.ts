/**
 * Thresholds that define a metric rather than tune the pipeline, written here and nowhere else:
 * the SQL, the dictionary's tests and docs and the report take them from metric-definitions.ts,
 * which derives everything from this file. Settings a team tunes (activity window, campaign
 * rules) are in config.ts instead.
 */

/** NPS categories of a 0-10 answer, as Reichheld's Net Promoter Score defines them. */
export const NPS_CATEGORIES = {
  promoter: { min: 9, max: 10 },
  passive: { min: 7, max: 8 },
  detractor: { min: 0, max: 6 },
} as const;

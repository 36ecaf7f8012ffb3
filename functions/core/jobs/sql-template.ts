import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { campaignSqlParameters } from '../campaigns/campaigns.ts';
import type { PipelineConfig } from '../config.ts';
import { metricSqlParameters } from '../dictionary/metric-definitions.ts';
import { UsageError } from '../errors.ts';
import { isCurrencyCode } from '../events/schemas.ts';
import { isCalendarDate } from '../events/timestamps.ts';

/**
 * The sql/ directory: next to functions/ in a checkout, or where a bundled Lambda was given
 * its copy (SQL_DIRECTORY). Resolved on use, because bundles have no import.meta.url.
 */
export function sqlDirectory(): string {
  return process.env['SQL_DIRECTORY'] ?? fileURLToPath(new URL('../../../sql/', import.meta.url));
}

const PERIOD_STEPS: Record<PipelineConfig['period'], string> = {
  week: "interval '7' day",
  month: "interval '1' month",
  quarter: "interval '3' month",
};

/**
 * Every value a query can be given. Each one is validated before it becomes a literal: dates
 * are calendar dates, the zone is a known IANA name, numbers are integers, the period is one
 * of a fixed set. Nothing from config, the command line or events reaches SQL any other way.
 */
export type SqlParameters = Readonly<Record<string, string>>;

export function sqlParameters(config: PipelineConfig, asOf: string): SqlParameters {
  if (!isCalendarDate(asOf)) throw new UsageError(`as_of ${JSON.stringify(asOf)} is not a date (YYYY-MM-DD)`);
  // Athena projects partitions from the earliest event date on: an earlier run would be invisible there.
  if (asOf < config.earliestEventDate) throw new UsageError(`as_of ${asOf} is before the earliest event date ${config.earliestEventDate} (earliestEventDate)`);
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(config.businessTimezone)) {
    throw new UsageError(`business timezone ${JSON.stringify(config.businessTimezone)} is not a zone name`);
  }
  return {
    as_of: asOf,
    business_timezone: config.businessTimezone,
    reporting_currency: reportingCurrencyOf(config),
    period_unit: config.period,
    gross_margin_rate: String(config.grossMarginRate),
    period_step: PERIOD_STEPS[config.period],
    activity_window_days: String(Math.trunc(config.activityWindowDays)),
    nps_trailing_window_days: String(Math.trunc(config.npsTrailingWindowDays)),
    ...Object.fromEntries(config.rfm.frequencyThresholds.map((purchases, index) => [`rfm_f${index + 2}_min_purchases`, String(Math.trunc(purchases))])),
    ...metricSqlParameters(),
    ...campaignSqlParameters(config),
  };
}

/** The reporting currency as a literal: an ISO 4217 code (three capitals), or '' when unset. */
function reportingCurrencyOf(config: PipelineConfig): string {
  if (config.reportingCurrency === undefined) return '';
  if (!isCurrencyCode(config.reportingCurrency)) throw new UsageError(`reporting currency ${JSON.stringify(config.reportingCurrency)} is not an ISO 4217 code`);
  return config.reportingCurrency;
}

const PLACEHOLDER = /\{\{\s*([a-z][a-z0-9_]*)\s*\}\}/g;

/** Replaces {{name}} placeholders; an unknown placeholder is an error, never left in the SQL. */
export function renderSql(template: string, parameters: SqlParameters): string {
  return template.replace(PLACEHOLDER, (_match, name: string) => {
    const value = parameters[name];
    if (value === undefined) throw new Error(`SQL uses an unknown parameter {{${name}}}`);
    return value;
  });
}

/** Names of the placeholders a template uses. */
export function placeholdersOf(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((match) => match[1]!);
}

/** Reads a query from sql/. */
export async function readSql(file: string): Promise<string> {
  return readFile(join(sqlDirectory(), file), 'utf8');
}

import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ConfigError } from './errors.ts';

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * The pipeline's settings, one validated file (JSON) with documented defaults. Unknown keys are
 * refused so that a typo does not silently fall back to a default.
 */
export const configSchema = z.strictObject({
  /** IANA zone whose calendar days and periods the metrics use. Default "UTC". */
  businessTimezone: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_+\-/]*$/, { message: 'must be an IANA time zone name, like Europe/Berlin' })
    .refine(isTimeZone, { message: 'is not a time zone this runtime knows' })
    .default('UTC'),
  /** Calendar period for cohorts, period metrics and NPS. Default "month". */
  period: z.enum(['week', 'month', 'quarter']).default('month'),
  /** A customer is active on a day if they purchased within this many days up to it. Default 90. */
  activityWindowDays: z.int().min(1).max(3660).default(90),
  /** Length of the trailing window for the rolling NPS. Default 90. */
  npsTrailingWindowDays: z.int().min(1).max(3660).default(90),
});

export type PipelineConfig = z.output<typeof configSchema>;

/** The configuration with every default applied. */
export const defaultConfig: PipelineConfig = configSchema.parse({});

/** Validates a configuration object; the error names the offending key. */
export function parseConfig(input: unknown, origin = 'config'): PipelineConfig {
  const result = configSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const key = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') return `unknown key ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    return `${key || 'value'}: ${issue.message}`;
  });
  throw new ConfigError(`${origin}: ${problems.join('; ')}`);
}

/** Reads and validates a configuration file; no file means the defaults. */
export async function loadConfig(path?: string): Promise<PipelineConfig> {
  if (path === undefined) return defaultConfig;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config ${path}: ${(error as Error).message}`);
  }
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config ${path} is not valid JSON: ${(error as Error).message}`);
  }
  return parseConfig(input, `config ${path}`);
}

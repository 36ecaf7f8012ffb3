import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseConfig } from '../functions/core/config.ts';
import type { PipelineConfig } from '../functions/core/config.ts';

/**
 * Deployment settings, from the CDK context (cdk.json or `-c key=value`), validated at synth.
 * The pipeline's own config (time zone, windows, campaigns) is the same JSON file the command
 * line takes, passed with `-c pipelineConfig=path/to/config.json`.
 */
export const deploymentSchema = z.object({
  /** Daily run time in the schedule's time zone, HH:MM. Default 03:00. */
  scheduleTime: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'must be HH:MM' })
    .default('03:00'),
  /** IANA zone of the schedule. Default: the pipeline's business time zone. */
  scheduleTimezone: z.string().optional(),
  /** Athena stops (CANCELLED) any query that would scan more. Default 100 GiB. */
  bytesScannedCutoffPerQuery: z.coerce.number().int().min(10_485_760).default(107_374_182_400),
  /** Days query results are kept. Default 7. */
  queryResultRetentionDays: z.coerce.number().int().min(1).default(7),
  /** AWS account ids (comma-separated) whose services may consume the campaign queue. Default: none. */
  campaignConsumerAccounts: z
    .string()
    .regex(/^\d{12}(,\d{12})*$/, { message: 'must be 12-digit AWS account ids, comma-separated' })
    .transform((text) => text.split(','))
    .optional(),
  /** Path of the pipeline config JSON. Default: built-in defaults. */
  pipelineConfig: z.string().optional(),
});

export interface DeploymentConfig extends Omit<z.output<typeof deploymentSchema>, 'pipelineConfig'> {
  readonly pipeline: PipelineConfig;
  readonly scheduleTimezone: string;
}

export function readDeploymentConfig(context: Record<string, unknown>): DeploymentConfig {
  const parsed = deploymentSchema.safeParse(context);
  if (!parsed.success) {
    throw new Error(`CDK context: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  }
  const { pipelineConfig, ...rest } = parsed.data;
  const pipeline = parseConfig(pipelineConfig ? JSON.parse(readFileSync(pipelineConfig, 'utf8')) : {}, pipelineConfig ?? 'pipeline config');
  return { ...rest, pipeline, scheduleTimezone: rest.scheduleTimezone ?? pipeline.businessTimezone };
}

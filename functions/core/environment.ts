import { z } from 'zod';
import { configSchema, parseConfig } from './config.ts';
import type { PipelineConfig } from './config.ts';

/**
 * Lambda configuration, read once at module load. A missing or malformed variable stops the
 * function at cold start with the variable's name, instead of failing on the first event.
 */
export function readEnvironment<T extends z.ZodRawShape>(shape: T, source: NodeJS.ProcessEnv = process.env): z.infer<z.ZodObject<T>> {
  const result = z.object(shape).safeParse(source);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new Error(`invalid environment: ${problems.join('; ')}`);
}

/** The pipeline config passed to a Lambda as JSON in PIPELINE_CONFIG (validated like the CLI's file). */
export const pipelineConfigVariable = z
  .string()
  .default('{}')
  .transform((text, context): PipelineConfig => {
    try {
      return parseConfig(JSON.parse(text), 'PIPELINE_CONFIG');
    } catch (error) {
      context.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });

/** The earliest event date (config earliestEventDate), for the ingest functions that take no whole config. */
export const earliestEventDateVariable = configSchema.shape.earliestEventDate;

export const bucketName = z.string().regex(/^[a-z0-9.-]{3,63}$/, { message: 'must be an S3 bucket name' });

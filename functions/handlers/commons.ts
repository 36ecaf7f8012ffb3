import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { isCalendarDate } from '../core/events/timestamps.ts';
import { METRICS_NAMESPACE } from '../core/metrics.ts';

/**
 * What every Lambda handler builds at cold start, alike: a logger, metrics and a tracer named
 * after the function (its folder under functions/handlers/), SDK clients whose calls show as
 * X-Ray subsegments (the functions run with active tracing), and the Lambda context on every
 * log line of an invocation.
 */
export function handlerTools(service: string) {
  const logger = new Logger({ serviceName: service });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: service });
  const tracer = new Tracer({ serviceName: service });
  return {
    logger,
    metrics,
    tracer,
    /** An AWS SDK v3 client whose calls are traced (unchanged outside Lambda, where tracing is off). */
    traced: <T extends object>(client: T): T => tracer.captureAWSv3Client(client),
    /** Call first in a handler: the request id and function name go on every log line of the invocation. */
    begin: (context: Context | undefined): void => {
      if (context) logger.addContext(context);
    },
  };
}

/** The input fields the handlers share. */
export const inputs = {
  /** A run date: validated before it becomes a SQL literal or a lake key. */
  asOf: z.string().refine(isCalendarDate, { message: 'must be a date, YYYY-MM-DD' }),
} as const;

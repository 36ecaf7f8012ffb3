/**
 * Retries for AWS calls that failed in a way worth trying again: throttling, 5xx, timeouts.
 * The SDK retries too, but with a short budget; lake writes and Athena polls deserve a longer
 * one, and an explicit loop makes the behaviour testable with client mocks.
 */
export interface RetryOptions {
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly sleep?: (milliseconds: number) => Promise<void>;
}

/**
 * A call that kept failing in a transient way until the attempt limit. The message names the
 * operation and the attempts; `cause` is the last error.
 */
export class RetriesExhaustedError extends Error {
  override readonly name = 'RetriesExhaustedError';
}

export const defaultSleep = (milliseconds: number) => new Promise<void>((resolve) => setTimeout(resolve, milliseconds));

const TRANSIENT_NAMES = new Set([
  'SlowDown',
  'InternalError',
  'ServiceUnavailable',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestThrottled',
  'ECONNRESET',
  'ETIMEDOUT',
]);

/** True for errors that a later identical call may not repeat. */
export function isTransient(error: unknown): boolean {
  const candidate = error as { name?: string; code?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  const status = candidate.$metadata?.httpStatusCode;
  return (
    TRANSIENT_NAMES.has(candidate.name ?? '') ||
    TRANSIENT_NAMES.has(candidate.code ?? '') ||
    candidate.$retryable !== undefined ||
    (status !== undefined && (status === 429 || status >= 500))
  );
}

/** "TimeoutError: socket hung up": SDK messages often leave out the error's name or code. */
export function describeError(error: unknown): string {
  const { name, code, message } = (error ?? {}) as { name?: string; code?: string; message?: string };
  const label = code ?? name;
  return label && !message?.includes(label) ? `${label}: ${message ?? ''}` : (message ?? String(error));
}

/**
 * Calls `call` until it succeeds, a non-transient error (thrown as is) or the attempt limit
 * (a RetriesExhaustedError naming `operation`), with exponential backoff (half fixed, half
 * random, so that throttled callers spread out) between.
 */
export async function withRetries<T>(
  call: () => Promise<T>,
  options: RetryOptions = {},
  operation = 'AWS call',
  /** Errors this call may repeat although they are not transient in general. */
  alsoRetry: (error: unknown) => boolean = () => false,
): Promise<T> {
  const maxAttempts = options.maxAttempts ?? 6;
  const baseDelayMs = options.baseDelayMs ?? 200;
  const sleep = options.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (!isTransient(error) && !alsoRetry(error)) throw error;
      if (attempt >= maxAttempts) throw new RetriesExhaustedError(`${operation} failed after ${attempt} attempts: ${describeError(error)}`, { cause: error });
      const ceiling = baseDelayMs * 2 ** (attempt - 1);
      await sleep(ceiling / 2 + Math.random() * (ceiling / 2));
    }
  }
}

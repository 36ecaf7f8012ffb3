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

export async function withRetries<T>(call: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const maxAttempts = options.maxAttempts ?? 6;
  const baseDelayMs = options.baseDelayMs ?? 200;
  const sleep = options.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= maxAttempts || !isTransient(error)) throw error;
      const ceiling = baseDelayMs * 2 ** (attempt - 1);
      await sleep(ceiling / 2 + Math.random() * (ceiling / 2));
    }
  }
}

import { ServiceUnavailableError } from '../domain/errors';

/** Errors that say "not now", never "no": worth another try after a pause. */
const TRANSIENT = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TransactionInProgressException',
  'InternalServerError',
  'ServiceUnavailable',
]);

export function isTransient(error: unknown): boolean {
  return error instanceof Error && TRANSIENT.has(error.name);
}

export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  capMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, baseMs: 15, capMs: 500 };

/** Marks an attempt that lost a race and should simply be tried again. */
export const RETRY = Symbol('retry');

/**
 * Runs `attempt` until it returns a result, retrying (with exponential backoff and
 * full jitter, so that the losers of one race do not collide again in lockstep)
 * when it returns RETRY or throws a transient error. Bounded: after the last
 * attempt the caller gets a 503 with Retry-After, never a 500.
 */
export async function withRetry<T>(attempt: () => Promise<T | typeof RETRY>, policy: RetryPolicy = DEFAULT_RETRY): Promise<T> {
  for (let n = 0; n < policy.attempts; n++) {
    try {
      const result = await attempt();
      if (result !== RETRY) return result;
    } catch (error) {
      if (!isTransient(error)) throw error;
    }
    if (n < policy.attempts - 1) {
      const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** n);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
    }
  }
  throw new ServiceUnavailableError('The service is busy with this event right now; retry shortly', 1);
}

import { ServiceUnavailableError } from '../domain/errors';
import { isTransient } from '../faults';

export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  capMs: number;
  /** No attempt starts after this long since the first one. */
  budgetMs: number;
}

/*
 * THE RETRY BUDGET: one for the whole chain, so that retries nested in retries
 * cannot multiply past the time a request has.
 *
 * Two layers retry. The SDK resends a single call that failed in a way it knows
 * to be retryable (a throttle, a 500, a lost connection) up to SDK_MAX_ATTEMPTS
 * times, with the same input: that is what turns a lost answer into success, since
 * a resent transaction carries its ClientRequestToken and is not applied twice.
 * withRetry (below) repeats a whole attempt (read, plan, transaction) when the
 * transaction was cancelled by a conflict or a throttle, or when the SDK gave up on
 * a transient error: that is what re-plans after losing a race.
 *
 * So a step makes at most SDK_MAX_ATTEMPTS x `attempts` calls, and starts no new
 * attempt once `budgetMs` has passed. The time is the real bound; the attempts are
 * many because transactions on one item cancel each other rather than queue: a
 * buyer who lost must find a gap between the others' transactions, and with a few
 * writers on one event a handful of attempts is not always enough. The SDK waits at most about a second before
 * its one resend (its throttling backoff), so a step spends at most the budget
 * plus one attempt in retries. A booking's request is one such step (its hold
 * timer starts from the table's stream, off the request), a payment two (the
 * confirmation, and the read that settles an unknown outcome): at most about
 * 5 + 1 + 5 + 1 s, inside the functions' 10 s timeout only because the second runs
 * when the first failed fast. A timed-out function is answered by API Gateway, not
 * with our problem+json, and leaves the client not knowing what happened.
 */
export const SDK_MAX_ATTEMPTS = 2;
export const DEFAULT_RETRY: RetryPolicy = { attempts: 16, baseMs: 15, capMs: 500, budgetMs: 5000 };

/** Marks an attempt that lost a race and should simply be tried again. */
export const RETRY = Symbol('retry');

/**
 * Runs `attempt` until it returns a result, retrying (with exponential backoff and
 * full jitter, so that the losers of one race do not collide again in lockstep)
 * when it returns RETRY or throws a transient error. Bounded: after the last
 * attempt the caller gets a 503 with Retry-After, never a 500.
 */
export async function withRetry<T>(attempt: (budgetEnds: number) => Promise<T | typeof RETRY>, policy: RetryPolicy = DEFAULT_RETRY): Promise<T> {
  const started = Date.now();
  // An attempt that works on in steps (the booking's) stops when the budget ends.
  const budgetEnds = started + policy.budgetMs;
  let cause: unknown = 'every attempt lost a race (transaction conflicts or throttled partitions)';
  for (let n = 0; n < policy.attempts; n++) {
    try {
      const result = await attempt(budgetEnds);
      if (result !== RETRY) return result;
    } catch (error) {
      if (!isTransient(error)) throw error;
      cause = error;
    }
    if (n === policy.attempts - 1 || Date.now() - started > policy.budgetMs) break;
    const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** n);
    await new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
  }
  throw new ServiceUnavailableError('The service is busy with this event right now; retry shortly', 1, { cause });
}

import type { CounterDelta } from '../../lib/domain/booking';

/**
 * Adds a delta to counters as the store's update expression does inside DynamoDB
 * (lib/store/counters.ts), so that the rules can be checked without a table.
 */
export function applyDelta<T extends CounterDelta>(counters: T, delta: CounterDelta): T {
  const next = { ...counters };
  for (const key of Object.keys(delta) as (keyof CounterDelta)[]) next[key] = (counters[key] + delta[key]) as T[keyof CounterDelta];
  return next;
}

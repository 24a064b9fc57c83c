import { createHash } from 'node:crypto';
import type { HoldBatch, HoldTimer } from '../ports';
import { inParallel } from '../parallel';
import { type RetryPolicy, withRetry } from '../store/retry';
import type { BookingDeps } from './bookings';
import { expireHold, type ExpiryResult } from './holds';

/** A hold that has just begun, as the table's stream reports it. */
export interface NewHold {
  booking_id: string;
  expires_at: string;
}

/**
 * Holds whose `expires_at` lie within this span of the earliest of them share one
 * timer, which fires at the latest: no hold ends more than two seconds after its
 * own expiry, and one read of the stream (about a second of a sale's bookings,
 * whose holds run out in the same second or so) makes one execution instead of
 * one per hold. Step Functions charges by the transition, not by the hold.
 */
export const BATCH_SPAN_MS = 2000;

/**
 * The most holds one timer ends. Its expire Lambda ends them all in one
 * invocation, which must fit its timeout even when every expiry retries under
 * contention, and its input stays far below Step Functions' 256 KB.
 */
export const MAX_HOLDS_PER_BATCH = 500;

/**
 * The name of a batch's timer, from what is in it and nothing else: the start of
 * its expiry window (readable, and sorting by when it fires) and a hash of its
 * sorted booking ids. A batch read again from the stream gets the same name, and
 * Step Functions starts an execution name once.
 */
export function batchId(windowStartMs: number, bookingIds: readonly string[]): string {
  const second = new Date(windowStartMs).toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
  const hash = createHash('sha256').update([...bookingIds].sort().join('\n')).digest('hex').slice(0, 32);
  return `holds-${second}-${hash}`;
}

/**
 * Groups new holds into the batches their timers end: in order of expiry, each
 * batch from its earliest hold to the last that runs out within BATCH_SPAN_MS of
 * it, at most MAX_HOLDS_PER_BATCH each, the ids sorted. The same holds always
 * make the same batches, whatever their order, and every batch is named by
 * batchId after the second of its earliest hold, a batch of one included.
 */
export function batchesOf(holds: readonly NewHold[]): HoldBatch[] {
  const expiries = new Map<string, number>();
  for (const hold of holds) {
    const expiresMs = Date.parse(hold.expires_at);
    if (!Number.isFinite(expiresMs)) throw new Error(`Hold ${hold.booking_id} has no valid expires_at: ${hold.expires_at}`);
    expiries.set(hold.booking_id, Math.max(expiresMs, expiries.get(hold.booking_id) ?? expiresMs));
  }
  const ordered = [...expiries].sort(([a, at], [b, bt]) => at - bt || (a < b ? -1 : a > b ? 1 : 0));
  const groups: [string, number][][] = [];
  for (const entry of ordered) {
    const current = groups.at(-1);
    if (current && current.length < MAX_HOLDS_PER_BATCH && entry[1] - current[0]![1] < BATCH_SPAN_MS) current.push(entry);
    else groups.push([entry]);
  }
  return groups.map((group) => {
    const ids = group.map(([id]) => id).sort();
    const second = Math.floor(group[0]![1] / 1000) * 1000;
    return { id: batchId(second, ids), expires_at: new Date(group.at(-1)![1]).toISOString(), booking_ids: ids };
  });
}

/**
 * A throttled start is retried inside the invocation for a while: handing the
 * records back to the event source mapping also works, but holds up every record
 * behind them on the stream shard.
 */
export const START_RETRY: RetryPolicy = { attempts: 8, baseMs: 100, capMs: 2000, budgetMs: 10_000 };

/** How many timers one invocation starts at once: a batch of the stream makes a few. */
const START_CONCURRENCY = 4;

export interface StartedTimers {
  started: HoldBatch[];
  /** Batches whose timer could not be started: their holds go back to the stream, to be read again. */
  failed: { batch: HoldBatch; error: unknown }[];
}

/**
 * Starts the timers of new holds, one per batch (batchesOf).
 * 1. Group the holds into batches, each named after what it holds.
 * 2. Start each batch's timer; a batch started before (a redelivered record) is
 *    started already, by its name. A throttle or another transient fault is
 *    retried with backoff (START_RETRY).
 * 3. Report the batches still not started: the caller hands their holds back
 *    (the stream delivers them again), so a fault only delays a timer. Should a
 *    timer never start, the sweeper ends its holds once they are due.
 */
export async function startHoldTimers(deps: { timer: HoldTimer; retry?: RetryPolicy }, holds: readonly NewHold[]): Promise<StartedTimers> {
  const batches = batchesOf(holds);
  type Outcome = { batch: HoldBatch } | { batch: HoldBatch; error: unknown };
  const outcomes = await inParallel(batches, START_CONCURRENCY, async (batch): Promise<Outcome> => {
    try {
      await withRetry(async () => {
        await deps.timer.start(batch);
        return batch;
      }, deps.retry ?? START_RETRY);
      return { batch };
    } catch (error) {
      return { batch, error };
    }
  });
  return {
    started: outcomes.filter((o) => !('error' in o)).map((o) => o.batch),
    failed: outcomes.filter((o): o is { batch: HoldBatch; error: unknown } => 'error' in o),
  };
}

/**
 * How many holds of a batch are ended at once. A sale's holds are mostly of one
 * event, whose stock items take concurrent transactions badly (they cancel each
 * other rather than queue): a few at a time end a batch of hundreds within
 * seconds without turning its expiry into a storm of conflicts.
 */
export const EXPIRE_CONCURRENCY = 8;

export interface ExpiredBatch {
  /** What each hold's expiry did (expireHold), by booking id. */
  results: Record<string, ExpiryResult>;
  /** Holds whose expiry failed (its retries ran out, or a fault): a later attempt ends them. */
  failures: { booking_id: string; error: unknown }[];
}

/**
 * Ends the holds of a batch whose timer fired: each through expireHold, so each
 * is ended only if still unpaid and due, and ending it twice is harmless. Every
 * hold is tried even when others fail; the caller decides what to retry.
 */
export async function expireHolds(deps: BookingDeps, bookingIds: readonly string[], concurrency = EXPIRE_CONCURRENCY): Promise<ExpiredBatch> {
  type Outcome = { id: string; result: ExpiryResult } | { id: string; error: unknown };
  const outcomes = await inParallel([...new Set(bookingIds)], concurrency, async (id): Promise<Outcome> => {
    try {
      return { id, result: await expireHold(deps, id) };
    } catch (error) {
      return { id, error };
    }
  });
  const results: Record<string, ExpiryResult> = {};
  const failures: ExpiredBatch['failures'] = [];
  for (const outcome of outcomes) {
    if ('result' in outcome) results[outcome.id] = outcome.result;
    else failures.push({ booking_id: outcome.id, error: outcome.error });
  }
  return { results, failures };
}

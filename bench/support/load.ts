import { since } from './stats';

export interface LoadResult {
  ops: number;
  elapsedMs: number;
  perSecond: number;
  /** Milliseconds of every successful operation. */
  latencies: number[];
  /** Failed operations by error name. */
  errors: Record<string, number>;
}

/**
 * Runs `op` from `concurrency` workers, each starting its next call as soon as
 * its last one settles, for `durationMs`. Only completed calls count.
 */
export async function runFor(durationMs: number, concurrency: number, op: (worker: number) => Promise<unknown>): Promise<LoadResult> {
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  const start = performance.now();
  const end = start + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < end) {
        const t = performance.now();
        try {
          await op(worker);
          latencies.push(since(t));
        } catch (error) {
          const name = (error as Error).name || 'Error';
          errors[name] = (errors[name] ?? 0) + 1;
        }
      }
    }),
  );
  const elapsedMs = since(start);
  return { ops: latencies.length, elapsedMs, perSecond: (latencies.length / elapsedMs) * 1000, latencies, errors };
}

/** Runs `count` calls of `op` from `concurrency` workers (each call gets its index). */
export async function runCount<T>(count: number, concurrency: number, op: (index: number, worker: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async (_, worker) => {
      while (next < count) {
        const index = next++;
        results[index] = await op(index, worker);
      }
    }),
  );
  return results;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

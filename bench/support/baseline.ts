import { createHash } from 'node:crypto';
import { median, round, since } from './stats';

/**
 * A fixed CPU workload, the yardstick for figures that depend on this machine:
 * JSON round trips and SHA-256 hashing of small objects, the kind of work a
 * handler does. These machines are shared and noisy, so every part measures it
 * again just before it measures anything else, and reports its figures also as
 * multiples of it.
 */
const sample = { id: '0b4c3a5e-1f6d-4f0e-9d1b-7c1e2a3b4c5d', event_id: 'e', quantity: 2, status: 'PENDING', created_at: new Date(0).toISOString() };

function workload(): number {
  let checksum = 0;
  for (let i = 0; i < 20_000; i++) {
    const text = JSON.stringify({ ...sample, quantity: i });
    const parsed = JSON.parse(text) as { quantity: number };
    checksum += parsed.quantity + createHash('sha256').update(text).digest()[0]!;
  }
  return checksum;
}

export interface CpuBaseline {
  /** Median milliseconds of one run of the workload. */
  ms: number;
  runs: number[];
}

export function cpuBaseline(runs = 7): CpuBaseline {
  workload(); // warm the JIT
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    workload();
    times.push(round(since(start)));
  }
  return { ms: round(median(times)), runs: times };
}

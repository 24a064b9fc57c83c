import type { CpuBaseline } from './baseline';
import type { BenchContext } from './context';
import type { PartResult } from './report';
import { round, since } from './stats';

/** What a part measured; the part's name, its duration and its CPU yardstick are added around it. */
export type Findings = Pick<PartResult, 'figures' | 'checks' | 'targets' | 'notes'>;

export type Part = (ctx: BenchContext) => Promise<PartResult>;

/**
 * A part of the bench. The CPU yardstick is measured before anything else, so that
 * every part's machine-dependent figures can be read against the machine as it was
 * just then (bench/support/baseline.ts).
 */
export function definePart(name: string, measure: (ctx: BenchContext, cpu: CpuBaseline) => Promise<Findings>): Part {
  return async (ctx) => {
    const started = performance.now();
    const cpu = ctx.cpu();
    const findings = await measure(ctx, cpu);
    return { part: name, seconds: round(since(started) / 1000, 1), cpuBaselineMs: cpu.ms, ...findings };
  };
}

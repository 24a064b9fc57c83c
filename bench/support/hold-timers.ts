import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * How many holds each Step Functions execution timed in the design's flash sale
 * under the model (bench/parts/like-aws.ts), kept between runs: the cost part
 * prices Step Functions per million bookings with it, also when it runs in a
 * later `npm run bench` than the sale.
 */
export interface MeasuredHoldTimers {
  measured_at: string;
  variant: string;
  bookings_per_second: number;
  holds: number;
  executions: number;
  holdsPerExecution: number;
  consumerInvocations: number;
}

const FILE = resolve(__dirname, '../../.data/bench/like-aws-hold-timers.json');

export function keepHoldTimers(measured: MeasuredHoldTimers): void {
  mkdirSync(resolve(FILE, '..'), { recursive: true });
  writeFileSync(FILE, `${JSON.stringify(measured, null, 2)}\n`);
}

/** The last measurement kept, if any. */
export function lastHoldTimers(): (MeasuredHoldTimers & { file: string }) | undefined {
  if (!existsSync(FILE)) return undefined;
  return { ...(JSON.parse(readFileSync(FILE, 'utf8')) as MeasuredHoldTimers), file: FILE };
}

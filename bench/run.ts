/**
 * `npm run bench`: the benchmark suite (BENCHMARKS.md says what each part measures
 * and how). `npm run bench -- --only flash-sale` (or a comma-separated list) runs
 * some parts only. Prints tables, writes .data/bench/results.json, stops every
 * process it started and removes its temp folders, and exits non-zero when a
 * correctness check fails. Speed targets are reported (PASS/MISS), not enforced.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { cleanupAll, cleanupOnSignals } from './support/cleanup';
import { createContext } from './support/context';
import type { Part } from './support/part';
import { check, printTargetsAndChecks, table, target, verdict } from './support/report';
import { round } from './support/stats';

/**
 * Each part is loaded when it is to run, so a part whose code no longer loads is
 * reported as that part failing, and `--only` runs the others.
 */
const PARTS: Record<string, () => Promise<Part>> = {
  'booking-path': async () => (await import('./parts/booking-path')).bookingPath,
  'cold-start': async () => (await import('./parts/cold-start')).coldStart,
  // After cold-start: it prices Lambda with the durations cold-start measured.
  cost: async () => (await import('./parts/cost')).cost,
  scale: async () => (await import('./parts/scale')).scale,
  'like-aws-proxy': async () => (await import('./parts/like-aws-proxy')).likeAwsProxy,
  waitlist: async () => (await import('./parts/waitlist')).waitlist,
  // Last: they bring their own stacks, so the shared DynamoDB Local is stopped first.
  'flash-sale': async () => (await import('./parts/flash-sale')).flashSale,
  'like-aws': async () => (await import('./parts/like-aws')).likeAws,
};
const OWN_STACK = new Set(['flash-sale', 'like-aws']);
const TIME_LIMIT_S = 600;
const RESULTS = resolve(__dirname, '../.data/bench/results.json');

function parseArgs(argv: string[]): string[] {
  const only = argv.flatMap((arg, i) => (arg === '--only' ? [argv[i + 1] ?? ''] : arg.startsWith('--only=') ? [arg.slice(7)] : []));
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(`usage: npm run bench [-- --only <part>[,<part>...]]\nparts: ${Object.keys(PARTS).join(', ')}`);
    process.exit(0);
  }
  if (only.length === 0) return Object.keys(PARTS);
  const wanted = only.flatMap((o) => o.split(',')).map((p) => p.trim()).filter(Boolean);
  const unknown = wanted.filter((p) => !(p in PARTS));
  if (unknown.length > 0) {
    console.error(`unknown part(s): ${unknown.join(', ')}; parts: ${Object.keys(PARTS).join(', ')}`);
    process.exit(2);
  }
  return Object.keys(PARTS).filter((p) => wanted.includes(p));
}

function machine() {
  const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? 'unknown';
  let memory = `${(totalmem() / 2 ** 30).toFixed(1)} GiB`;
  try {
    memory = execFileSync('free', ['-h'], { encoding: 'utf8' }).split('\n')[1]?.trim().replace(/\s+/g, ' ') ?? memory;
  } catch {
    // no `free`: the total from os is enough
  }
  let load = '';
  try {
    load = readFileSync('/proc/loadavg', 'utf8').trim();
  } catch {
    // not Linux
  }
  return { nproc: cpus().length, cpu_model: cpuModel, memory, node: process.version, platform: `${process.platform} ${process.arch}`, loadavg_at_start: load };
}

async function main(): Promise<number> {
  const parts = parseArgs(process.argv.slice(2));
  cleanupOnSignals();
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const ctx = createContext();
  const meta = machine();
  console.log(`Ticket booking API benchmarks: ${parts.join(', ')}`);
  console.log(`  ${meta.nproc} cores, ${meta.cpu_model}, node ${meta.node}, load ${meta.loadavg_at_start}`);

  const failures: string[] = [];
  try {
    for (const name of parts) {
      if (OWN_STACK.has(name)) await ctx.releaseDynamo();
      ctx.log(`part ${name}: starting`);
      try {
        const part = await PARTS[name]!();
        const result = await part(ctx);
        ctx.results[name] = result;
        printTargetsAndChecks(result);
        ctx.log(`part ${name}: done in ${result.seconds} s`);
      } catch (error) {
        console.error(`\npart ${name} failed:`, error);
        failures.push(`${name}: ${(error as Error).message}`);
      }
    }
  } finally {
    ctx.log('cleaning up');
    const cleanupFailures = await cleanupAll();
    for (const f of cleanupFailures) console.error(`cleanup: ${f}`);
  }

  const seconds = round((performance.now() - started) / 1000, 1);
  const results = Object.values(ctx.results);
  const checks = results.flatMap((r) => r.checks);
  for (const f of failures) checks.push(check(`part ran to the end`, false, f));
  const targets = results.flatMap((r) => r.targets);
  if (parts.length === Object.keys(PARTS).length) targets.push(target('whole bench run time', seconds, 's', '<', TIME_LIMIT_S));

  console.log(
    table(
      'Summary',
      ['kind', 'name', 'result'],
      [
        ...targets.map((t) => ['target', `${t.name} (${t.target})`, `${verdict(t.met)} (${Number.isInteger(t.value) ? t.value : t.value.toFixed(3)}${t.unit ? ` ${t.unit}` : ''})`]),
        ...checks.map((c) => ['check', c.name, c.ok ? 'OK' : `FAILED: ${c.detail}`]),
      ],
    ),
  );
  const failed = checks.filter((c) => !c.ok);
  console.log(`\nTotal ${seconds} s. Targets met: ${targets.filter((t) => t.met).length}/${targets.length}. Correctness checks failed: ${failed.length}.`);

  mkdirSync(resolve(RESULTS, '..'), { recursive: true });
  writeFileSync(
    RESULTS,
    `${JSON.stringify({ started_at: startedAt, seconds, parts, machine: meta, results: ctx.results, targets, checks, ok: failed.length === 0 }, null, 2)}\n`,
  );
  console.log(`Results: ${RESULTS}`);
  return failed.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  async (error) => {
    console.error(error);
    await cleanupAll();
    process.exit(1);
  },
);

import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext } from './context';

/**
 * Fresh `node` processes, one at a time, for cold starts: each loads modules or a
 * Lambda bundle, calls its handler, and writes what it timed to a file. A child
 * rather than a worker thread, because a cold start is a process that has loaded
 * nothing yet.
 */

/** The child: loads modules, or one bundle whose handler it invokes twice, timing each step. */
const CHILD = `
'use strict';
const started = performance.now();
const fs = require('node:fs');
const mode = process.env.BENCH_MODE;
const out = {};
out.boot_ms = started;
if (mode === 'require') {
  const t = performance.now();
  for (const m of JSON.parse(process.env.BENCH_MODULES)) require(m);
  out.load_ms = performance.now() - t;
  fs.writeFileSync(process.env.BENCH_OUT, JSON.stringify(out));
  process.exit(0);
}
const t0 = performance.now();
const mod = require(process.env.BENCH_BUNDLE);
out.load_ms = performance.now() - t0;
// The SDK packages loaded with the bundle: a require() inside a lazy import() is not.
out.sdk_at_load = [...new Set(Object.keys(require.cache).map((k) => (/node_modules[/](@aws-sdk[/][^/]+)[/]/.exec(k) || [])[1]).filter(Boolean))];
const handler = mod[process.env.BENCH_EXPORT];
const [first, second] = JSON.parse(process.env.BENCH_EVENTS);
const context = (name) => ({
  functionName: name, functionVersion: '$LATEST', memoryLimitInMB: '512', awsRequestId: require('node:crypto').randomUUID(),
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:' + name, logGroupName: '/aws/lambda/' + name,
  logStreamName: 'bench', callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => 10000,
  done() {}, fail() {}, succeed() {},
});
const summary = (r) => {
  if (!r || typeof r !== 'object') return String(r);
  if (r.statusCode !== undefined) return r.statusCode;
  if (r.isAuthorized !== undefined) return 'authorized:' + r.isAuthorized + ':' + (r.context && r.context.role);
  if (r.result !== undefined) return r.result;
  if (r.found !== undefined) return 'found:' + r.found + ' expired:' + r.expired;
  return JSON.stringify(r).slice(0, 60);
};
(async () => {
  const t1 = performance.now();
  try { out.first = summary(await handler(first, context(process.env.BENCH_FUNCTION))); } catch (e) { out.first = 'threw ' + e.name + ': ' + e.message; }
  const t2 = performance.now();
  try { out.second = summary(await handler(second, context(process.env.BENCH_FUNCTION))); } catch (e) { out.second = 'threw ' + e.name + ': ' + e.message; }
  out.first_ms = t2 - t1;
  out.second_ms = performance.now() - t2;
  fs.writeFileSync(process.env.BENCH_OUT, JSON.stringify(out));
  process.exit(0);
})();
`;

/** What a child timed, and its process's wall time from spawn to exit. */
export interface ChildResult {
  /** When the child's first line ran, in ms since its process started: Node's own start. */
  boot_ms: number;
  load_ms: number;
  first_ms?: number;
  second_ms?: number;
  first?: string | number;
  sdk_at_load?: string[];
  second?: string | number;
  wall_ms: number;
}

function runChild(script: string, env: Record<string, string>, nodeArgs: string[], outFile: string): Promise<ChildResult> {
  const start = performance.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, script], { env: { ...env, BENCH_OUT: outFile }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const wall = performance.now() - start;
      if (code !== 0) return reject(new Error(`child exited ${code}: ${stderr.slice(-1000)}`));
      try {
        resolvePromise({ ...(JSON.parse(readFileSync(outFile, 'utf8')) as Omit<ChildResult, 'wall_ms'>), wall_ms: wall });
      } catch (error) {
        reject(new Error(`no result (${(error as Error).message}): ${stderr.slice(-1000)}`));
      }
    });
  });
}

/** A bundled handler, as the Lambda runtime finds it. */
export interface Handler {
  /** The bundle's file. */
  path: string;
  exportName: string;
  /** The deployed function's name (its context's functionName). */
  functionName: string;
}

export interface FreshNode {
  /** Loads `modules` (none: Node starting and exiting) and times the require(). */
  require(modules: string[], nodeArgs?: string[]): Promise<ChildResult>;
  /** Loads a handler's bundle and calls it with two requests, one after the other; `env` adds to the environment. */
  invoke(handler: Handler, env: Record<string, string>, requests: [unknown, unknown]): Promise<ChildResult>;
}

/** Children with `env` as their whole environment (nothing inherited); `nodeArgs` default to none. */
export function freshNode(ctx: BenchContext, env: Record<string, string>): FreshNode {
  const script = join(ctx.tempDir('child'), 'cold.cjs');
  writeFileSync(script, CHILD);
  const outFile = join(ctx.tempDir('out'), 'result.json');
  return {
    require: (modules, nodeArgs = []) => runChild(script, { ...env, BENCH_MODE: 'require', BENCH_MODULES: JSON.stringify(modules) }, nodeArgs, outFile),
    invoke: (handler, extra, requests) =>
      runChild(
        script,
        {
          ...env,
          ...extra,
          BENCH_MODE: 'handler',
          BENCH_BUNDLE: handler.path,
          BENCH_EXPORT: handler.exportName,
          BENCH_FUNCTION: handler.functionName,
          BENCH_EVENTS: JSON.stringify(requests),
        },
        [],
        outFile,
      ),
  };
}

/**
 * Part 3. Cold start. Each function's bundle as deployed (`serverless package`:
 * serverless-esbuild, minified, @aws-sdk/* left to the Lambda runtime), its size,
 * and the time a fresh `node` process takes to load it and to handle a first
 * request (a minimal API Gateway v2 event, with the environment the function gets,
 * against DynamoDB Local and a stub Step Functions endpoint), measured separately.
 * The authorizer runs twice: with the admin key in the environment (`dev`, the
 * local stack) and as deployed stages run it, reading the key from SSM (a stub
 * endpoint that answers GetParameter), where its first request loads the SSM client.
 * Then where the load time goes: Node's own start, the AWS SDK modules the bundle
 * loads, the bundle's own code, and what source-mapped stack traces would add
 * (NODE_OPTIONS=--enable-source-maps, off unless a stage sets the nodeOptions param).
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, resolve } from 'node:path';
import type { Booking } from '../../lib/domain/booking';
import type { Caller } from '../../lib/domain/caller';
import { CreateEventBody, type Event } from '../../lib/domain/event';
import { bookingStore } from '../../lib/store/bookings';
import { eventStore } from '../../lib/store/events';
import { userStore } from '../../lib/store/users';
import { recentEvents } from '../../lib/store/recent-events';
import { type BookingDeps, createBooking } from '../../lib/usecases/bookings';
import { createEvent } from '../../lib/usecases/events';
import { registerUser } from '../../lib/usecases/users';
import { freePort } from '../../localstack/processes';
import { onCleanup } from '../support/cleanup';
import type { BenchContext } from '../support/context';
import { benchTable, createTableCopy } from '../support/dynamo';
import { check, type Check, fmt, type PartResult, table, target } from '../support/report';
import { median, round } from '../support/stats';

const ROOT = resolve(__dirname, '../..');
const SERVERLESS = resolve(ROOT, 'node_modules/serverless/bin/serverless.js');
const RUNS = 7;
const BREAKDOWN_RUNS = 5;
const TABLE = 'bench-cold-start';
const BUNDLE_LIMIT_KB = 300;
const LOAD_LIMIT_MS = 150;

/** The child: loads one bundle in a fresh process and invokes its handler twice, timing each step. */
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

interface ChildResult {
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

/** A Step Functions endpoint that accepts every StartExecution (the hold timer's one call). */
async function stubStepFunctions(): Promise<{ endpoint: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ executionArn: `arn:aws:states:us-east-1:000000000000:execution:bench:${randomUUID()}`, startDate: Date.now() / 1000 }));
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { endpoint: `http://127.0.0.1:${port}`, server };
}

/**
 * An SSM endpoint that answers GetParameter with the admin key: where deployed
 * stages keep it (lib/adapters/admin-key.ts), for the authorizer's first request
 * as it runs there.
 */
async function stubSsm(name: string, value: string): Promise<{ endpoint: string; server: Server }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const input = JSON.parse(body || '{}') as { Name?: string; WithDecryption?: boolean };
      const ok = req.headers['x-amz-target'] === 'AmazonSSM.GetParameter' && input.Name === name && input.WithDecryption === true;
      res.writeHead(ok ? 200 : 400, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(
        JSON.stringify(
          ok
            ? { Parameter: { Name: name, Type: 'SecureString', Value: value, Version: 1, ARN: `arn:aws:ssm:us-east-1:000000000000:parameter${name}` } }
            : { __type: 'ValidationException', message: `unexpected request ${req.headers['x-amz-target']} ${body}` },
        ),
      );
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { endpoint: `http://127.0.0.1:${port}`, server };
}

function httpEvent(routeKey: string, rawPath: string, options: { caller?: Caller; body?: unknown; params?: Record<string, string>; query?: Record<string, string> } = {}) {
  const [method] = routeKey.split(' ');
  const now = new Date();
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString: new URLSearchParams(options.query ?? {}).toString(),
    headers: { 'content-type': 'application/json', host: 'bench.execute-api.us-east-1.amazonaws.com', 'user-agent': 'bench' },
    queryStringParameters: options.query,
    pathParameters: options.params,
    requestContext: {
      accountId: '000000000000',
      apiId: 'bench',
      domainName: 'bench.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'bench',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
      ...(options.caller ? { authorizer: { lambda: options.caller } } : {}),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    isBase64Encoded: false,
  };
}

export async function coldStart(ctx: BenchContext): Promise<PartResult> {
  const started = performance.now();
  const cpu = ctx.cpu();
  const service = await ctx.service();
  const dynamo = await ctx.dynamo();
  const checks: Check[] = [];

  // 1. Package exactly as for a deployment, in folders of our own.
  const packageDir = ctx.tempDir('package');
  const workFolder = `.esbuild-e2e/bench-package-${process.pid}`;
  onCleanup('esbuild work folder', () => rmSync(resolve(ROOT, workFolder), { recursive: true, force: true }));
  ctx.log('cold start: serverless package');
  const packageStart = performance.now();
  execFileSync(process.execPath, [SERVERLESS, 'package', '--stage', 'dev', '--package', packageDir], {
    cwd: ROOT,
    stdio: 'pipe',
    env: { ...process.env, ESBUILD_WORK_FOLDER: workFolder, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
  });
  const packageSeconds = round((performance.now() - packageStart) / 1000, 1);

  // 2. Unzip every function; read its bundle's size.
  const unzipped = ctx.tempDir('bundles');
  const functions = (service.functions as Record<string, { name: string; handler: string }>);
  const bundles = readdirSync(packageDir)
    .filter((f) => f.endsWith('.zip'))
    .map((zip) => {
      const fn = zip.replace(/\.zip$/, '');
      const dir = join(unzipped, fn);
      execFileSync('unzip', ['-q', '-o', join(packageDir, zip), '-d', dir]);
      const handler = functions[fn]!.handler; // e.g. functions/bookings.create
      const file = `${handler.slice(0, handler.lastIndexOf('.'))}.js`;
      const js = join(dir, file);
      const source = readFileSync(js, 'utf8');
      const sdkModules = [...new Set([...source.matchAll(/require\("(@aws-sdk\/[^"]+)"\)/g)].map((m) => m[1]!))].sort();
      const mapFile = `${js}.map`;
      let mapBytes = 0;
      try {
        mapBytes = statSync(mapFile).size;
      } catch {
        // no source map
      }
      return {
        fn,
        name: functions[fn]!.name,
        file,
        exportName: handler.slice(handler.lastIndexOf('.') + 1),
        path: js,
        jsBytes: statSync(js).size,
        mapBytes,
        zipBytes: statSync(join(packageDir, zip)).size,
        sdkModules,
      };
    })
    .sort((a, b) => a.fn.localeCompare(b.fn));

  // 3. What the functions need: a table of their own, a user, events, bookings.
  await createTableCopy(dynamo, TABLE);
  const t = benchTable(dynamo.endpoint, TABLE);
  const sfn = await stubStepFunctions();
  onCleanup('stub Step Functions endpoint', () => new Promise((r) => sfn.server.close(() => r(undefined))));
  const users = userStore(t);
  const events = eventStore(t);
  const deps: BookingDeps = { events: recentEvents(events), bookings: bookingStore(t), holds: { start: async () => undefined }, holdSeconds: 900, clock: () => new Date() };
  const user = await registerUser(users, { name: 'Cold', email: `cold.${Date.now()}@example.org` }, new Date());
  const caller: Caller = { role: 'user', user_id: user.id };
  const admin: Caller = { role: 'admin' };
  const adminKey = `adm_bench_cold_start_${Date.now()}`;
  const adminKeyParameter = '/ticket-booking/bench/admin-api-key';
  const ssm = await stubSsm(adminKeyParameter, adminKey);
  onCleanup('stub SSM endpoint', () => new Promise((r) => ssm.server.close(() => r(undefined))));
  const eventInput = () =>
    CreateEventBody.parse({ name: 'Cold start', date_time: new Date(Date.now() + 86_400_000).toISOString(), total_tickets: 100_000, ticket_price: '20.00' });
  const anEvent = (): Promise<Event> => createEvent(events, eventInput(), new Date());
  const event = await anEvent();
  const aBooking = (): Promise<Booking> => createBooking(deps, { user_id: user.id, event_id: event.id, quantity: 1 });
  const anExpiredBooking = (): Promise<Booking> =>
    createBooking({ ...deps, holdSeconds: 1, clock: () => new Date(Date.now() - 60_000) }, { user_id: user.id, event_id: event.id, quantity: 1 });

  const fixtures: Record<string, () => Promise<unknown>> = {
    authorizer: async () => ({
      version: '2.0',
      type: 'REQUEST',
      routeArn: 'arn:aws:execute-api:us-east-1:000000000000:bench/$default/POST/bookings',
      identitySource: [],
      routeKey: 'POST /bookings',
      rawPath: '/bookings',
      rawQueryString: '',
      headers: { authorization: `Bearer ${user.api_key}` },
      requestContext: httpEvent('POST /bookings', '/bookings').requestContext,
    }),
    'authorizer, key in SSM': async () => ({
      version: '2.0',
      type: 'REQUEST',
      routeArn: 'arn:aws:execute-api:us-east-1:000000000000:bench/$default/POST/events',
      identitySource: [],
      routeKey: 'POST /events',
      rawPath: '/events',
      rawQueryString: '',
      headers: { authorization: `Bearer ${adminKey}` },
      requestContext: httpEvent('POST /events', '/events').requestContext,
    }),
    health: async () => httpEvent('GET /health', '/health'),
    openapi: async () => httpEvent('GET /openapi.json', '/openapi.json'),
    createUser: async () => httpEvent('POST /users', '/users', { body: { name: 'Cold', email: `cold.${randomUUID()}@example.org` } }),
    getMe: async () => httpEvent('GET /users/me', '/users/me', { caller }),
    createEvent: async () => httpEvent('POST /events', '/events', { caller: admin, body: { ...eventInput(), ticket_price: 20 } }),
    listEvents: async () => httpEvent('GET /events', '/events', { query: { limit: '20' } }),
    getEvent: async () => httpEvent('GET /events/{id}', `/events/${event.id}`, { params: { id: event.id } }),
    updateEvent: async () => httpEvent('PATCH /events/{id}', `/events/${event.id}`, { caller: admin, params: { id: event.id }, body: { description: 'updated' } }),
    deleteEvent: async () => {
      const doomed = await anEvent();
      return httpEvent('DELETE /events/{id}', `/events/${doomed.id}`, { caller: admin, params: { id: doomed.id } });
    },
    eventStats: async () => httpEvent('GET /events/{id}/stats', `/events/${event.id}/stats`, { caller: admin, params: { id: event.id } }),
    createBooking: async () => httpEvent('POST /bookings', '/bookings', { caller, body: { event_id: event.id, quantity: 1 } }),
    listBookings: async () => httpEvent('GET /bookings', '/bookings', { caller, query: { limit: '20' } }),
    getBooking: async () => {
      const b = await aBooking();
      return httpEvent('GET /bookings/{id}', `/bookings/${b.id}`, { caller, params: { id: b.id } });
    },
    cancelBooking: async () => {
      const b = await aBooking();
      return httpEvent('POST /bookings/{id}/cancel', `/bookings/${b.id}/cancel`, { caller, params: { id: b.id } });
    },
    payBooking: async () => {
      const b = await aBooking();
      return httpEvent('POST /bookings/{id}/payment', `/bookings/${b.id}/payment`, { caller, params: { id: b.id }, body: { payment_token: 'tok_visa' } });
    },
    expireBooking: async () => ({ booking_id: (await anExpiredBooking()).id }),
    notFound: async () => {
      // The catch-all: API Gateway sends a path no route serves to `$default`.
      const request = httpEvent('GET /no-such-path', '/no-such-path');
      return { ...request, routeKey: '$default', requestContext: { ...request.requestContext, routeKey: '$default' } };
    },
    sweepExpiredHolds: async () => ({ version: '0', id: randomUUID(), 'detail-type': 'Scheduled Event', source: 'aws.events', time: new Date().toISOString(), detail: {} }),
  };
  const expected: Record<string, string> = {
    authorizer: 'authorized:true:user',
    'authorizer, key in SSM': 'authorized:true:admin',
    createUser: '201',
    createEvent: '201',
    createBooking: '201',
    deleteEvent: '204',
    notFound: '404',
  };

  // 4. The child's environment: what serverless.yml gives the functions, pointed at
  // the local endpoints; the SDK from node_modules, as the Lambda runtime provides it.
  const script = join(ctx.tempDir('child'), 'cold.cjs');
  writeFileSync(script, CHILD);
  const outFile = join(ctx.tempDir('out'), 'result.json');
  const baseEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    NODE_PATH: resolve(ROOT, 'node_modules'),
    TABLE_NAME: TABLE,
    ADMIN_API_KEY: adminKey,
    HOLD_SECONDS: '900',
    HOLD_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:bench-hold',
    PAYMENT_LATENCY_MS: '0',
    LOG_LEVEL: 'INFO',
    POWERTOOLS_SERVICE_NAME: 'ticket-booking',
    POWERTOOLS_METRICS_NAMESPACE: 'TicketBooking',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SFN: sfn.endpoint,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  // serverless.yml's NODE_OPTIONS (the nodeOptions param) is empty unless a stage
  // turns source maps on: its cost is measured on its own below.
  const asDeployed: string[] = [];
  const withSourceMaps = ['--enable-source-maps'];

  // 5. Every function in RUNS fresh processes, in rounds (one process of each
  // function per round, with the yardsticks: Node starting and exiting, and
  // requiring @aws-sdk/client-dynamodb alone), so that a burst of someone else's
  // load hits every function alike.
  ctx.log(`cold start: ${bundles.length} functions (and the authorizer with its key in SSM) x ${RUNS} fresh processes`);
  const bare: ChildResult[] = [];
  const dynamoSdk: ChildResult[] = [];
  // Each function as `dev` runs it (the admin key in ADMIN_API_KEY), and the
  // authorizer once more as deployed stages run it: the key read from SSM.
  const authorizerBundle = bundles.find((b) => b.fn === 'authorizer')!;
  const cases = [
    ...bundles.map((b) => ({ label: b.fn, b, env: {} as Record<string, string> })),
    { label: 'authorizer, key in SSM', b: authorizerBundle, env: { ADMIN_API_KEY: '', ADMIN_API_KEY_PARAMETER: adminKeyParameter, AWS_ENDPOINT_URL_SSM: ssm.endpoint } },
  ];
  const runsOf = new Map<string, { result: ChildResult; yardstick: number }[]>(cases.map((c) => [c.label, []]));
  for (let i = 0; i < RUNS; i++) {
    bare.push(await runChild(script, { ...baseEnv, BENCH_MODE: 'require', BENCH_MODULES: '[]' }, asDeployed, outFile));
    const yardstick = await runChild(script, { ...baseEnv, BENCH_MODE: 'require', BENCH_MODULES: '["@aws-sdk/client-dynamodb"]' }, asDeployed, outFile);
    dynamoSdk.push(yardstick);
    for (const { label, b, env: caseEnv } of cases) {
      const fixture = fixtures[label];
      if (!fixture) throw new Error(`no request for function ${label}`);
      const env = { ...baseEnv, ...caseEnv, BENCH_MODE: 'handler', BENCH_BUNDLE: b.path, BENCH_EXPORT: b.exportName, BENCH_FUNCTION: b.name, BENCH_EVENTS: JSON.stringify([await fixture(), await fixture()]) };
      runsOf.get(label)!.push({ result: await runChild(script, env, asDeployed, outFile), yardstick: yardstick.load_ms });
    }
  }
  const nodeBootMs = median(bare.map((r) => r.boot_ms));
  const nodeWallMs = median(bare.map((r) => r.wall_ms));
  const dynamoSdkMs = median(dynamoSdk.map((r) => r.load_ms));
  /** The SDK modules a bundle requires that are loaded with it (not only on some request). */
  const sdkAtLoad = (label: string) => {
    const loaded = new Set(runsOf.get(label)!.flatMap((r) => r.result.sdk_at_load ?? []));
    return cases.find((c) => c.label === label)!.b.sdkModules.filter((m) => loaded.has(m));
  };
  const perFunction = [];
  for (const { label, b } of cases) {
    const rounds = runsOf.get(label)!;
    const runs = rounds.map((r) => r.result);
    const answers = [...new Set(runs.map((r) => String(r.first)))];
    const want = expected[label] ?? (b.fn === 'expireBooking' ? 'expired' : b.fn === 'sweepExpiredHolds' ? 'found:' : '200');
    const good = runs.every((r) => String(r.first).includes(want) && String(r.second).includes(want));
    checks.push(check(`cold start: ${label} loads and answers its first request`, good, `first: ${answers.join(', ')}; second: ${[...new Set(runs.map((r) => String(r.second)))].join(', ')}`));
    perFunction.push({
      fn: label,
      file: b.file,
      js_bytes: b.jsBytes,
      map_bytes: b.mapBytes,
      zip_bytes: b.zipBytes,
      sdk_modules: b.sdkModules,
      sdk_modules_at_load: sdkAtLoad(label),
      load_ms: round(median(runs.map((r) => r.load_ms))),
      load_in_client_dynamodb_requires: round(median(rounds.map((r) => r.result.load_ms / r.yardstick)), 2),
      first_invocation_ms: round(median(runs.map((r) => r.first_ms ?? Number.NaN))),
      load_and_first_ms: round(median(runs.map((r) => r.load_ms + (r.first_ms ?? Number.NaN)))),
      warm_invocation_ms: round(median(runs.map((r) => r.second_ms ?? Number.NaN))),
      node_boot_ms: round(median(runs.map((r) => r.boot_ms))),
      process_wall_ms: round(median(runs.map((r) => r.wall_ms))),
      load_runs_ms: runs.map((r) => round(r.load_ms)),
      first_answer: answers.join(', '),
    });
  }

  // 6. Where the load time goes, per bundle file, in interleaved fresh processes:
  // the SDK modules it loads with it, alone; the bundle as deployed; the bundle with
  // source maps turned on.
  ctx.log('cold start: where the load time goes');
  const files = [...new Map(bundles.map((b) => [b.file, { ...b, sdkModules: sdkAtLoad(b.fn) }])).values()];
  const breakdown = [];
  for (const b of files) {
    const sdk: number[] = [];
    const noMaps: number[] = [];
    const withMaps: number[] = [];
    const sdkEnv = { ...baseEnv, BENCH_MODE: 'require', BENCH_MODULES: JSON.stringify(b.sdkModules) };
    const bundleEnv = { ...baseEnv, BENCH_MODE: 'require', BENCH_MODULES: JSON.stringify([b.path]) };
    for (let i = 0; i < BREAKDOWN_RUNS; i++) {
      sdk.push((await runChild(script, sdkEnv, asDeployed, outFile)).load_ms);
      noMaps.push((await runChild(script, bundleEnv, asDeployed, outFile)).load_ms);
      withMaps.push((await runChild(script, bundleEnv, withSourceMaps, outFile)).load_ms);
    }
    const sdkMs = median(sdk);
    const noMapMs = median(noMaps);
    const mapsMs = median(withMaps);
    breakdown.push({
      file: b.file,
      js_bytes: b.jsBytes,
      map_bytes: b.mapBytes,
      sdk_modules: b.sdkModules,
      load_as_deployed_ms: round(noMapMs),
      sdk_ms: round(sdkMs),
      own_code_ms: round(noMapMs - sdkMs),
      source_maps_on_adds_ms: round(mapsMs - noMapMs),
      load_with_source_maps_ms: round(mapsMs),
    });
  }

  // What each SDK client adds on top of the DynamoDB ones every bundle needs.
  const sdkSets = {
    dynamodb: ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb', '@aws-sdk/util-dynamodb'],
    'dynamodb + sfn': ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb', '@aws-sdk/util-dynamodb', '@aws-sdk/client-sfn'],
    'dynamodb + sfn + ssm': ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb', '@aws-sdk/util-dynamodb', '@aws-sdk/client-sfn', '@aws-sdk/client-ssm'],
  };
  const sdkSetRuns: Record<string, number[]> = Object.fromEntries(Object.keys(sdkSets).map((k) => [k, []]));
  for (let i = 0; i < BREAKDOWN_RUNS; i++) {
    for (const [name, modules] of Object.entries(sdkSets)) {
      sdkSetRuns[name]!.push((await runChild(script, { ...baseEnv, BENCH_MODE: 'require', BENCH_MODULES: JSON.stringify(modules) }, asDeployed, outFile)).load_ms);
    }
  }
  const sdkSetMs = Object.fromEntries(Object.entries(sdkSetRuns).map(([k, v]) => [k, round(median(v))]));
  t.close();

  const worstLoad = Math.max(...perFunction.map((f) => f.load_ms));
  const biggest = Math.max(...perFunction.map((f) => f.js_bytes));
  console.log(
    table(
      `Cold start per function (median of ${RUNS} fresh processes; as deployed: no --enable-source-maps)`,
      ['function', 'bundle js', 'zip', 'load', 'first request', 'load + first', 'warm request', 'load / require(client-dynamodb)', 'first answer'],
      perFunction.map((f) => [
        f.fn,
        fmt.kb(f.js_bytes),
        fmt.kb(f.zip_bytes),
        fmt.ms(f.load_ms),
        fmt.ms(f.first_invocation_ms),
        fmt.ms(f.load_and_first_ms),
        fmt.ms(f.warm_invocation_ms),
        fmt.x(f.load_in_client_dynamodb_requires),
        f.first_answer,
      ]),
    ),
  );
  console.log(
    table(
      `Where the load time goes (median of ${BREAKDOWN_RUNS}); Node itself starts in ${fmt.ms(nodeBootMs)} (process spawn to exit: ${fmt.ms(nodeWallMs)})`,
      ['bundle', 'js', 'source map', 'load as deployed', 'AWS SDK modules', 'own code', 'source maps on: +', 'SDK modules loaded with it'],
      breakdown.map((b) => [b.file, fmt.kb(b.js_bytes), fmt.kb(b.map_bytes), fmt.ms(b.load_as_deployed_ms), fmt.ms(b.sdk_ms), fmt.ms(b.own_code_ms), fmt.ms(b.source_maps_on_adds_ms), b.sdk_modules.join(' ')]),
    ),
  );
  console.log(
    `  SDK modules alone: DynamoDB (client, lib, util) ${fmt.ms(sdkSetMs['dynamodb']!)}; + client-sfn ${fmt.ms(sdkSetMs['dynamodb + sfn']!)}; + client-ssm ${fmt.ms(sdkSetMs['dynamodb + sfn + ssm']!)}`,
  );
  console.log(`  yardsticks: require('@aws-sdk/client-dynamodb') alone ${fmt.ms(dynamoSdkMs)}; CPU loop ${fmt.ms(cpu.ms)}; package took ${packageSeconds} s`);

  return {
    part: 'cold-start',
    seconds: round((performance.now() - started) / 1000, 1),
    cpuBaselineMs: cpu.ms,
    figures: {
      runs: RUNS,
      package_seconds: packageSeconds,
      node_boot_ms: round(nodeBootMs),
      node_process_wall_ms: round(nodeWallMs),
      require_client_dynamodb_ms: round(dynamoSdkMs),
      functions: perFunction,
      breakdown,
      sdk_sets_ms: sdkSetMs,
      ratios: {
        worst_load_in_client_dynamodb_requires: Math.max(...perFunction.map((f) => f.load_in_client_dynamodb_requires)),
        worst_load_in_cpu_yardsticks: round(worstLoad / cpu.ms, 2),
      },
    },
    checks,
    targets: [
      target('largest bundle (minified js)', round(biggest / 1024, 1), 'KB', '<', BUNDLE_LIMIT_KB),
      target('slowest load of a bundle', round(worstLoad, 1), 'ms', '<', LOAD_LIMIT_MS),
    ],
    notes: [
      'Load = require() of the unzipped bundle in a fresh node process, the SDK resolved from node_modules as the Lambda runtime provides it. First request = the handler called once (SDK clients created, first connection to DynamoDB Local); warm = the same handler again.',
    ],
  };
}

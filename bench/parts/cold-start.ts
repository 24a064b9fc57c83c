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
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Booking } from '../../lib/domain/booking';
import type { Caller } from '../../lib/domain/caller';
import type { Event } from '../../lib/domain/event';
import { eventStore } from '../../lib/store/events';
import { userStore } from '../../lib/store/users';
import { createBooking } from '../../lib/usecases/bookings';
import { registerUser } from '../../lib/usecases/users';
import type { ServiceDefinition } from '../../localstack/service';
import { stubSsm, stubStepFunctions } from '../support/aws-stubs';
import { onCleanup } from '../support/cleanup';
import type { BenchContext } from '../support/context';
import { type BenchDynamo, benchTable, createTableCopy } from '../support/dynamo';
import { type ChildResult, type FreshNode, freshNode, type Handler } from '../support/fresh-node';
import { definePart, type Findings } from '../support/part';
import { check, type Check, fmt, table, target } from '../support/report';
import { median, round, since } from '../support/stats';
import { bookingDepsOn, createFutureEvent, eventBody, type EventFields } from '../support/wiring';

const ROOT = resolve(__dirname, '../..');
const SERVERLESS = resolve(ROOT, 'node_modules/serverless/bin/serverless.js');
const RUNS = 7;
const BREAKDOWN_RUNS = 5;
const TABLE = 'bench-cold-start';
const BUNDLE_LIMIT_KB = 300;
const LOAD_LIMIT_MS = 150;
const ADMIN_KEY_PARAMETER = '/ticket-booking/bench/admin-api-key';
/**
 * serverless.yml's NODE_OPTIONS (the nodeOptions param) is empty unless a stage
 * turns source maps on, so every process runs without them but those that measure
 * what they cost.
 */
const WITH_SOURCE_MAPS = ['--enable-source-maps'];
/** What each SDK client adds on top of the DynamoDB ones every bundle needs. */
const SDK_SETS = {
  dynamodb: ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb', '@aws-sdk/util-dynamodb'],
  'dynamodb + sfn': ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb', '@aws-sdk/util-dynamodb', '@aws-sdk/client-sfn'],
  'dynamodb + sfn + ssm': ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb', '@aws-sdk/util-dynamodb', '@aws-sdk/client-sfn', '@aws-sdk/client-ssm'],
};

export const coldStart = definePart('cold-start', async (ctx, cpu) => {
  const service = await ctx.service();
  const dynamo = await ctx.dynamo();
  const packaged = packageAsDeployed(ctx);
  const bundles = readBundles(ctx, packaged.dir, service);
  const adminKey = `adm_bench_cold_start_${Date.now()}`;
  const stubs = { sfn: await stubStepFunctions(), ssm: await stubSsm(ADMIN_KEY_PARAMETER, adminKey) };
  const requests = await prepareRequests(dynamo, adminKey);
  const cases = casesOf(bundles, stubs.ssm);
  const node = freshNode(ctx, functionEnvironment(dynamo.endpoint, stubs.sfn, adminKey));
  const rounds = await measureFunctions(ctx, node, cases, requests.byCase);
  const functions = summariseFunctions(cases, rounds);
  const breakdown = await measureLoadBreakdown(ctx, node, bundles, rounds);
  const sdkSets = await measureSdkSets(node);
  requests.close();
  const measured: Measured = { packageSeconds: packaged.seconds, yardsticks: yardsticksOf(rounds), ...functions, breakdown, sdkSets };
  printTables(measured, cpu.ms);
  return findingsOf(measured, cpu.ms);
});

/** One function's package: where its bundle is, how big, and which SDK modules it requires. */
interface Bundle extends Handler {
  /** The function's key in serverless.yml. */
  fn: string;
  /** The handler file inside the package. */
  file: string;
  jsBytes: number;
  mapBytes: number;
  zipBytes: number;
  sdkModules: string[];
}

/** One function measured as one way of running it: the function and what its environment adds. */
interface Case {
  label: string;
  bundle: Bundle;
  env: Record<string, string>;
}

/** The first (and second) request of each case, made fresh for every process. */
type Requests = Record<string, () => Promise<unknown>>;

/** Packages the service exactly as for a deployment, in folders of our own. */
function packageAsDeployed(ctx: BenchContext): { dir: string; seconds: number } {
  const dir = ctx.tempDir('package');
  const workFolder = `.esbuild-e2e/bench-package-${process.pid}`;
  onCleanup('esbuild work folder', () => rmSync(resolve(ROOT, workFolder), { recursive: true, force: true }));
  ctx.log('cold start: serverless package');
  const started = performance.now();
  execFileSync(process.execPath, [SERVERLESS, 'package', '--stage', 'dev', '--package', dir], {
    cwd: ROOT,
    stdio: 'pipe',
    env: { ...process.env, ESBUILD_WORK_FOLDER: workFolder, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
  });
  return { dir, seconds: round(since(started) / 1000, 1) };
}

/** Unzips every function's package and reads its bundle: sizes, and the SDK modules it requires. */
function readBundles(ctx: BenchContext, packageDir: string, service: ServiceDefinition): Bundle[] {
  const unzipped = ctx.tempDir('bundles');
  const functions = service.functions as Record<string, { name: string; handler: string }>;
  return readdirSync(packageDir)
    .filter((f) => f.endsWith('.zip'))
    .map((zip) => {
      const fn = zip.replace(/\.zip$/, '');
      const dir = join(unzipped, fn);
      execFileSync('unzip', ['-q', '-o', join(packageDir, zip), '-d', dir]);
      const handler = functions[fn]!.handler; // e.g. functions/bookings.create
      const file = `${handler.slice(0, handler.lastIndexOf('.'))}.js`;
      const js = join(dir, file);
      const source = readFileSync(js, 'utf8');
      return {
        fn,
        functionName: functions[fn]!.name,
        file,
        exportName: handler.slice(handler.lastIndexOf('.') + 1),
        path: js,
        jsBytes: statSync(js).size,
        mapBytes: sizeOrZero(`${js}.map`),
        zipBytes: statSync(join(packageDir, zip)).size,
        sdkModules: [...new Set([...source.matchAll(/require\("(@aws-sdk\/[^"]+)"\)/g)].map((m) => m[1]!))].sort(),
      };
    })
    .sort((a, b) => a.fn.localeCompare(b.fn));
}

function sizeOrZero(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0; // no source map
  }
}

/**
 * What the functions' first requests need, in a table of their own: a user, an
 * event, bookings (fresh ones where a request changes them); then a request for
 * every case, by its label.
 */
async function prepareRequests(dynamo: BenchDynamo, adminKey: string): Promise<{ byCase: Requests; close(): void }> {
  await createTableCopy(dynamo, TABLE);
  const t = benchTable(dynamo.endpoint, TABLE);
  const events = eventStore(t);
  const deps = bookingDepsOn(t);
  const user = await registerUser(userStore(t), { name: 'Cold', email: `cold.${Date.now()}@example.org` }, new Date());
  const caller: Caller = { role: 'user', user_id: user.id };
  const admin: Caller = { role: 'admin' };
  const fields: EventFields = { name: 'Cold start', total_tickets: 100_000, ticket_price: '20.00' };
  const anEvent = (): Promise<Event> => createFutureEvent(events, fields, 1);
  const event = await anEvent();
  const aBooking = (): Promise<Booking> => createBooking(deps, { user_id: user.id, event_id: event.id, quantity: 1 });
  const anExpiredBooking = (): Promise<Booking> =>
    createBooking({ ...deps, holdSeconds: 1, clock: () => new Date(Date.now() - 60_000) }, { user_id: user.id, event_id: event.id, quantity: 1 });

  const byCase: Requests = {
    authorizer: async () => authorizerEvent('POST /bookings', '/bookings', user.api_key),
    'authorizer, key in SSM': async () => authorizerEvent('POST /events', '/events', adminKey),
    health: async () => httpEvent('GET /health', '/health'),
    openapi: async () => httpEvent('GET /openapi.json', '/openapi.json'),
    createUser: async () => httpEvent('POST /users', '/users', { body: { name: 'Cold', email: `cold.${randomUUID()}@example.org` } }),
    getMe: async () => httpEvent('GET /users/me', '/users/me', { caller }),
    createEvent: async () => httpEvent('POST /events', '/events', { caller: admin, body: { ...eventBody(fields, 1), ticket_price: 20 } }),
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
    expireBooking: async () => {
      const b = await anExpiredBooking();
      return { booking_ids: [b.id], expires_at: b.expires_at };
    },
    notFound: async () => {
      // The catch-all: API Gateway sends a path no route serves to `$default`.
      const request = httpEvent('GET /no-such-path', '/no-such-path');
      return { ...request, routeKey: '$default', requestContext: { ...request.requestContext, routeKey: '$default' } };
    },
    sweepExpiredHolds: async () => ({ version: '0', id: randomUUID(), 'detail-type': 'Scheduled Event', source: 'aws.events', time: new Date().toISOString(), detail: {} }),
  };
  return { byCase, close: () => t.close() };
}

/** What a case's first and second answers must contain (the child's summary of the handler's result). */
function expectedAnswer(c: Case): string {
  const expected: Record<string, string> = {
    authorizer: 'authorized:true:user',
    'authorizer, key in SSM': 'authorized:true:admin',
    createUser: '201',
    createEvent: '201',
    createBooking: '201',
    deleteEvent: '204',
    notFound: '404',
  };
  return expected[c.label] ?? (c.bundle.fn === 'expireBooking' ? '"expired":1' : c.bundle.fn === 'sweepExpiredHolds' ? 'found:' : '200');
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

/** The Lambda authorizer's event (payload format 2.0, simple responses) for a request to `routeKey` with `key`. */
function authorizerEvent(routeKey: string, rawPath: string, key: string) {
  const [method] = routeKey.split(' ');
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn: `arn:aws:execute-api:us-east-1:000000000000:bench/$default/${method}${rawPath}`,
    identitySource: [],
    routeKey,
    rawPath,
    rawQueryString: '',
    headers: { authorization: `Bearer ${key}` },
    requestContext: httpEvent(routeKey, rawPath).requestContext,
  };
}

/**
 * Each function as `dev` runs it (the admin key in ADMIN_API_KEY), and the
 * authorizer once more as deployed stages run it: the key read from SSM.
 */
function casesOf(bundles: Bundle[], ssmEndpoint: string): Case[] {
  const authorizer = bundles.find((b) => b.fn === 'authorizer')!;
  return [
    ...bundles.map((bundle) => ({ label: bundle.fn, bundle, env: {} })),
    { label: 'authorizer, key in SSM', bundle: authorizer, env: { ADMIN_API_KEY: '', ADMIN_API_KEY_PARAMETER: ADMIN_KEY_PARAMETER, AWS_ENDPOINT_URL_SSM: ssmEndpoint } },
  ];
}

/**
 * What serverless.yml gives the functions, pointed at the local endpoints; the SDK
 * from node_modules, as the Lambda runtime provides it.
 */
function functionEnvironment(dynamoEndpoint: string, sfnEndpoint: string, adminKey: string): Record<string, string> {
  return {
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
    AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
    AWS_ENDPOINT_URL_SFN: sfnEndpoint,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/** A case's process, with the yardstick of its round (require('@aws-sdk/client-dynamodb') alone). */
interface Run {
  result: ChildResult;
  yardstick: number;
}

interface Rounds {
  /** Node starting and exiting, nothing loaded. */
  bare: ChildResult[];
  /** require('@aws-sdk/client-dynamodb') alone. */
  dynamoSdk: ChildResult[];
  byCase: Map<string, Run[]>;
}

/**
 * Every case in RUNS fresh processes, in rounds (one process of each case per
 * round, with the yardsticks), so that a burst of someone else's load hits every
 * function alike.
 */
async function measureFunctions(ctx: BenchContext, node: FreshNode, cases: Case[], requests: Requests): Promise<Rounds> {
  ctx.log(`cold start: ${new Set(cases.map((c) => c.bundle.fn)).size} functions (and the authorizer with its key in SSM) x ${RUNS} fresh processes`);
  const rounds: Rounds = { bare: [], dynamoSdk: [], byCase: new Map(cases.map((c) => [c.label, []])) };
  for (let i = 0; i < RUNS; i++) {
    rounds.bare.push(await node.require([]));
    const yardstick = await node.require(['@aws-sdk/client-dynamodb']);
    rounds.dynamoSdk.push(yardstick);
    for (const c of cases) {
      const request = requests[c.label];
      if (!request) throw new Error(`no request for function ${c.label}`);
      rounds.byCase.get(c.label)!.push({ result: await node.invoke(c.bundle, c.env, [await request(), await request()]), yardstick: yardstick.load_ms });
    }
  }
  return rounds;
}

/** The SDK modules a bundle requires that are loaded with it (not only on some request). */
function sdkModulesAtLoad(bundle: Bundle, runs: Run[]): string[] {
  const loaded = new Set(runs.flatMap((r) => r.result.sdk_at_load ?? []));
  return bundle.sdkModules.filter((m) => loaded.has(m));
}

/** The medians of the yardstick processes of the rounds. */
interface Yardsticks {
  nodeBootMs: number;
  nodeWallMs: number;
  dynamoSdkMs: number;
}

function yardsticksOf(rounds: Rounds): Yardsticks {
  return {
    nodeBootMs: median(rounds.bare.map((r) => r.boot_ms)),
    nodeWallMs: median(rounds.bare.map((r) => r.wall_ms)),
    dynamoSdkMs: median(rounds.dynamoSdk.map((r) => r.load_ms)),
  };
}

/** Each case's medians, and whether every one of its processes answered both requests as expected. */
function summariseFunctions(cases: Case[], rounds: Rounds) {
  const checks: Check[] = [];
  const functions = cases.map((c) => {
    const runsOfCase = rounds.byCase.get(c.label)!;
    const runs = runsOfCase.map((r) => r.result);
    const answers = [...new Set(runs.map((r) => String(r.first)))];
    const want = expectedAnswer(c);
    const good = runs.every((r) => String(r.first).includes(want) && String(r.second).includes(want));
    checks.push(check(`cold start: ${c.label} loads and answers its first request`, good, `first: ${answers.join(', ')}; second: ${[...new Set(runs.map((r) => String(r.second)))].join(', ')}`));
    const b = c.bundle;
    return {
      fn: c.label,
      file: b.file,
      js_bytes: b.jsBytes,
      map_bytes: b.mapBytes,
      zip_bytes: b.zipBytes,
      sdk_modules: b.sdkModules,
      sdk_modules_at_load: sdkModulesAtLoad(b, runsOfCase),
      load_ms: round(median(runs.map((r) => r.load_ms))),
      load_in_client_dynamodb_requires: round(median(runsOfCase.map((r) => r.result.load_ms / r.yardstick)), 2),
      first_invocation_ms: round(median(runs.map((r) => r.first_ms ?? Number.NaN))),
      load_and_first_ms: round(median(runs.map((r) => r.load_ms + (r.first_ms ?? Number.NaN)))),
      warm_invocation_ms: round(median(runs.map((r) => r.second_ms ?? Number.NaN))),
      node_boot_ms: round(median(runs.map((r) => r.boot_ms))),
      process_wall_ms: round(median(runs.map((r) => r.wall_ms))),
      load_runs_ms: runs.map((r) => round(r.load_ms)),
      first_answer: answers.join(', '),
    };
  });
  return { functions, checks };
}

/**
 * Where the load time goes, per bundle file, in interleaved fresh processes: the
 * SDK modules it loads with it, alone; the bundle as deployed; the bundle with
 * source maps turned on.
 */
async function measureLoadBreakdown(ctx: BenchContext, node: FreshNode, bundles: Bundle[], rounds: Rounds) {
  ctx.log('cold start: where the load time goes');
  const files = [...new Map(bundles.map((b) => [b.file, { ...b, sdkModules: sdkModulesAtLoad(b, rounds.byCase.get(b.fn)!) }])).values()];
  const breakdown = [];
  for (const b of files) {
    const sdk: number[] = [];
    const noMaps: number[] = [];
    const withMaps: number[] = [];
    for (let i = 0; i < BREAKDOWN_RUNS; i++) {
      sdk.push((await node.require(b.sdkModules)).load_ms);
      noMaps.push((await node.require([b.path])).load_ms);
      withMaps.push((await node.require([b.path], WITH_SOURCE_MAPS)).load_ms);
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
  return breakdown;
}

/** The SDK_SETS loaded alone, interleaved. */
async function measureSdkSets(node: FreshNode): Promise<Record<string, number>> {
  const runs: Record<string, number[]> = Object.fromEntries(Object.keys(SDK_SETS).map((k) => [k, []]));
  for (let i = 0; i < BREAKDOWN_RUNS; i++) {
    for (const [name, modules] of Object.entries(SDK_SETS)) runs[name]!.push((await node.require(modules)).load_ms);
  }
  return Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, round(median(v))]));
}

interface Measured {
  packageSeconds: number;
  yardsticks: Yardsticks;
  functions: ReturnType<typeof summariseFunctions>['functions'];
  checks: Check[];
  breakdown: Awaited<ReturnType<typeof measureLoadBreakdown>>;
  sdkSets: Record<string, number>;
}

function printTables(m: Measured, cpuMs: number): void {
  console.log(
    table(
      `Cold start per function (median of ${RUNS} fresh processes; as deployed: no --enable-source-maps)`,
      ['function', 'bundle js', 'zip', 'load', 'first request', 'load + first', 'warm request', 'load / require(client-dynamodb)', 'first answer'],
      m.functions.map((f) => [
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
      `Where the load time goes (median of ${BREAKDOWN_RUNS}); Node itself starts in ${fmt.ms(m.yardsticks.nodeBootMs)} (process spawn to exit: ${fmt.ms(m.yardsticks.nodeWallMs)})`,
      ['bundle', 'js', 'source map', 'load as deployed', 'AWS SDK modules', 'own code', 'source maps on: +', 'SDK modules loaded with it'],
      m.breakdown.map((b) => [b.file, fmt.kb(b.js_bytes), fmt.kb(b.map_bytes), fmt.ms(b.load_as_deployed_ms), fmt.ms(b.sdk_ms), fmt.ms(b.own_code_ms), fmt.ms(b.source_maps_on_adds_ms), b.sdk_modules.join(' ')]),
    ),
  );
  console.log(
    `  SDK modules alone: DynamoDB (client, lib, util) ${fmt.ms(m.sdkSets['dynamodb']!)}; + client-sfn ${fmt.ms(m.sdkSets['dynamodb + sfn']!)}; + client-ssm ${fmt.ms(m.sdkSets['dynamodb + sfn + ssm']!)}`,
  );
  console.log(`  yardsticks: require('@aws-sdk/client-dynamodb') alone ${fmt.ms(m.yardsticks.dynamoSdkMs)}; CPU loop ${fmt.ms(cpuMs)}; package took ${m.packageSeconds} s`);
}

function findingsOf(m: Measured, cpuMs: number): Findings {
  const worstLoad = Math.max(...m.functions.map((f) => f.load_ms));
  const biggest = Math.max(...m.functions.map((f) => f.js_bytes));
  return {
    figures: {
      runs: RUNS,
      package_seconds: m.packageSeconds,
      node_boot_ms: round(m.yardsticks.nodeBootMs),
      node_process_wall_ms: round(m.yardsticks.nodeWallMs),
      require_client_dynamodb_ms: round(m.yardsticks.dynamoSdkMs),
      functions: m.functions,
      breakdown: m.breakdown,
      sdk_sets_ms: m.sdkSets,
      ratios: {
        worst_load_in_client_dynamodb_requires: Math.max(...m.functions.map((f) => f.load_in_client_dynamodb_requires)),
        worst_load_in_cpu_yardsticks: round(worstLoad / cpuMs, 2),
      },
    },
    checks: m.checks,
    targets: [
      target('largest bundle (minified js)', round(biggest / 1024, 1), 'KB', '<', BUNDLE_LIMIT_KB),
      target('slowest load of a bundle', round(worstLoad, 1), 'ms', '<', LOAD_LIMIT_MS),
    ],
    notes: [
      'Load = require() of the unzipped bundle in a fresh node process, the SDK resolved from node_modules as the Lambda runtime provides it. First request = the handler called once (SDK clients created, first connection to DynamoDB Local); warm = the same handler again.',
    ],
  };
}

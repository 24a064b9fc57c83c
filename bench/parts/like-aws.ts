/**
 * Part 6. One hot event under the model of AWS (localstack/like-aws), with AWS's
 * limits scaled to a tenth so that this 2-core machine reaches them: the whole stack
 * (startIsolatedStack with `likeAws`), one event, a few hundred buyers at once, each
 * retrying a 503 after its Retry-After, a bounded number of times. The same sale
 * runs twice in one run, each on a stack of its own: the baseline, the event's
 * stock on one item (`stock_shards: 1`, the old ceiling), and the design, the
 * stock on the shards the service gives an event of its size. It reports the
 * goodput (attempts answered 201 or 409, not 503), the bookings per second and
 * their ratio to what one partition takes, the conflicts and throttles the model
 * counted by partition, the sell-out time, the booking's latency, and how many
 * holds each Step Functions execution started from the stream times.
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { resolve } from 'node:path';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, type ExecutionListItem, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { defaultStockShards } from '../../lib/domain/stock';
import { bookingsByEventStatus, bookingsByStatus, eventsByDate, holdsByExpiry, INDEX_BUCKETS, keys } from '../../lib/store/keys';
import { localClient } from '../../localstack/dynamodb-local';
import { startIsolatedStack } from '../../localstack/isolated-stack';
import type { LikeAwsDynamoDbStats } from '../../localstack/like-aws/dynamodb';
import { type Item, itemSize, writeUnits } from '../../localstack/like-aws/item-size';
import type { PartitionAccount } from '../../localstack/like-aws/partitions';
import { type LikeAwsModel, likeAwsSettings, type LikeAwsSettings } from '../../localstack/like-aws/settings';
import type { LikeAwsStepFunctionsStats } from '../../localstack/like-aws/stepfunctions';
import type { RunningStack } from '../../localstack/stack';
import type { CpuBaseline } from '../support/baseline';
import { onCleanup } from '../support/cleanup';
import { keepHoldTimers } from '../support/hold-timers';
import { cpuSnapshot, cpuSpent } from '../support/cpu-usage';
import type { BenchContext } from '../support/context';
import { type HttpClient, httpClient } from '../support/http';
import { sleep } from '../support/load';
import { definePart, type Findings } from '../support/part';
import { type Check, check, fmt, table, target } from '../support/report';
import { type Buyer, countUnhandled, eventJson, type EventStats, listEventBookings, problemType, recountOfListing, registerBuyers, type SaleBooking } from '../support/sale';
import { median, round, since, type Summary, summarize } from '../support/stats';

const TOTAL_TICKETS = 1000;
const BUYERS = 300;
/** Three times the stock, so that demand outlasts it, as in an on-sale. */
const PURCHASES = 3000;
/** A buyer's retries of one purchase answered 503, each after its Retry-After. */
const MAX_RETRIES = 3;
/** No purchase or retry starts after this: what is left unsold then stays unsold. */
const SALE_LIMIT_MS = 60_000;
const PRICE = '49.90';
/** The functions' timeout (serverless.yml): a request answered later outlived its function. */
const FUNCTION_TIMEOUT_MS = 10_000;
/** Longer than any sale here, so that no ticket comes back on sale during it. */
const HOLD_SECONDS = 900;
/** AWS's limits are divided by this, and the rates measured multiplied by it, to read them at AWS's scale. */
const SCALE = 10;
const ROOT = resolve(__dirname, '../..');
const LOOP_DELAY_RESOLUTION_MS = 10;
/** Partitions shown: the busiest by units, and every one that throttled or conflicted. */
const TOP_PARTITIONS = 6;
/** The goal for the design: at least this share of attempts answered 201 or 409. */
const GOODPUT_TARGET = 0.99;
/** How long the stream may take, after the sale, to hand its last holds to the timers. */
const TIMERS_SETTLE_MS = 30_000;

/** One sale: the models on, the event's stock shards, and where its stack log and its attempts are kept. */
interface Variant {
  id: string;
  label: string;
  models: LikeAwsModel[];
  /** The sale event's `stock_shards`; undefined: the service's default for its size. */
  stockShards?: number;
  /** The goodput target applies to it. */
  design: boolean;
}

/**
 * Both sales meet AWS's behaviour: conflicts (the default transaction window),
 * ClientRequestToken idempotency, partition write units, the StartExecution
 * throttle. Lost answers stay off: they test recovery, not throughput, and would
 * blur what the figures say about the design's ceiling.
 *
 * The baseline is the same stack with the stock on one item: the old ceiling of
 * one partition and one conflict window. The index spreading and the timers
 * started from the stream apply to it too; the old design as a whole is the run
 * recorded in BENCHMARKS.md, part 6, "Before the sharded stock". The design is
 * the event as an admin creates it, with the shards the service chooses for its
 * size (defaultStockShards: 10 for 1,000 tickets).
 *
 * Then the most shards an event may have (what every event of 10,000 tickets or
 * more gets), to see how the conflicts fall with the shards at the same crowd.
 *
 * The sale "without conflicts" of the first runs is gone: it showed what binds
 * once the hot item's conflicts are gone (the partitions, StartExecution), and
 * the design's own sale now shows that, with conflicts on.
 */
const VARIANTS: Variant[] = [
  { id: 'one-shard', label: 'baseline: 1 stock item', models: ['conflicts', 'tokens', 'partitions', 'sfn-throttle'], stockShards: 1, design: false },
  { id: 'sharded', label: 'design: default shards', models: ['conflicts', 'tokens', 'partitions', 'sfn-throttle'], design: true },
  { id: 'sharded-100', label: 'design: 100 shards', models: ['conflicts', 'tokens', 'partitions', 'sfn-throttle'], stockShards: 100, design: true },
];
/** Bookings made one at a time before the sale: the request's own latency, with no queue in front of it. */
const ALONE = 40;

const stackLogOf = (v: Variant) => resolve(ROOT, `.data/bench/like-aws-${v.id}-stack.log`);
const attemptsFileOf = (v: Variant) => resolve(ROOT, `.data/bench/like-aws-${v.id}-attempts.json`);

/** AWS's limits at a tenth, with the variant's models. */
function scaledSettings(models: LikeAwsModel[]): LikeAwsSettings {
  const aws = likeAwsSettings({});
  return {
    ...aws,
    models,
    partitionWcu: aws.partitionWcu / SCALE,
    sfnStartRate: aws.sfnStartRate / SCALE,
    sfnStartBurst: aws.sfnStartBurst / SCALE,
  };
}

export const likeAws = definePart('like-aws', async (ctx, cpu) => {
  const runs: ModelRun[] = [];
  // One after the other: two stacks at once would share this machine's two cores.
  for (const variant of VARIANTS) runs.push(await saleUnder(ctx, variant));
  printComparison(runs);
  keepDesignTimers(runs);
  return findingsOf(runs, cpu);
});

/** The holds per execution of the design's sale, for the cost part (bench/support/hold-timers.ts). */
function keepDesignTimers(runs: ModelRun[]): void {
  const design = runs.find((run) => run.variant.design);
  if (!design) return;
  keepHoldTimers({
    measured_at: new Date().toISOString(),
    variant: design.variant.label,
    bookings_per_second: round(design.sale.bookingsPerSecond, 1),
    holds: design.timers.holds,
    executions: design.timers.executions,
    holdsPerExecution: round(design.timers.holdsPerExecution, 2),
    consumerInvocations: design.timers.consumerInvocations,
  });
}

async function saleUnder(ctx: BenchContext, variant: Variant): Promise<ModelRun> {
  const settings = scaledSettings(variant.models);
  const stack = await startModelStack(ctx, variant, settings);
  try {
    const buyers = await registerBuyers(stack.http, BUYERS);
    await warmUpHandlers(stack, buyers[0]!);
    const alone = await bookingsAlone(stack, variant, buyers);
    const { id: eventId, stockShards } = await createSaleEvent(stack, variant);
    const items = await itemsOfSale(stack, eventId);
    // The sale's figures only: the buyers' registration and the warm-up are not part of it.
    stack.model.dynamoDb.reset();
    stack.model.stepFunctions.reset();
    const logFrom = statSync(stack.logFile).size;
    const saleStartedAt = Date.now();
    const sale = await runSale(ctx, variant, stack, buyers, eventId);
    const model = { dynamoDb: stack.model.dynamoDb.stats(), stepFunctions: stack.model.stepFunctions.stats() };
    const verified = await recount(variant, stack, eventId, sale);
    const timers = await holdTimersOf(ctx, variant, stack, verified.listedIds, saleStartedAt, logFrom);
    keepAttempts(variant, sale.attempts);
    const unhandled = await countUnhandled(stack.logFile);
    const checks = [
      ...checkSale(variant, sale),
      ...verified.checks,
      check(
        `like-aws (${variant.label}): every hold of the sale has one timer`,
        timers.untimed === 0 && timers.timedTwice === 0,
        `${timers.holds} holds in ${timers.executions} executions; ${timers.untimed} without a timer ${TIMERS_SETTLE_MS / 1000} s after the sale, ${timers.timedTwice} in two`,
      ),
      check(`like-aws (${variant.label}): the stack logged no unhandled error`, unhandled === 0, `${unhandled} "Unhandled error" lines in its log`),
    ];
    const run: ModelRun = {
      variant,
      settings,
      stackStartSeconds: stack.startSeconds,
      eventId,
      stockShards,
      items,
      alone,
      sale,
      model,
      verified,
      timers,
      checks,
      notes: notesOf(stack),
    };
    printTables(run);
    return run;
  } finally {
    await stack.close();
  }
}

interface ModelStack {
  http: HttpClient;
  adminKey: string;
  dynamoDbEndpoint: string;
  tableName: string;
  /** Step Functions as the functions reach it (through the model), and the hold's state machine. */
  stepFunctionsEndpoint: string;
  holdStateMachineArn: string;
  model: NonNullable<RunningStack['likeAws']>;
  /** Where the stack logs while it runs (moved to stackLogOf(variant) when it stops). */
  logFile: string;
  startSeconds: number;
  close(): Promise<void>;
}

interface Attempt {
  buyer: number;
  purchase: number;
  /** 0 for the first attempt of a purchase, then 1.. for its retries. */
  retry: number;
  /** ms after the sale started */
  sent: number;
  done: number;
  ms: number;
  status: number;
  type?: string;
  detail?: string;
  /** Seconds, from the 503's Retry-After; undefined when it had none. */
  retryAfterS?: number;
  booking?: SaleBooking;
  error?: string;
}

type Outcome = 'booked' | 'sold out' | 'turned away' | 'failed';

interface Purchase {
  buyer: number;
  attempts: number;
  /** Booked (201), refused as sold out (409), turned away (still 503 after its retries, or when the sale stopped), or failed otherwise. */
  outcome: Outcome;
}

async function startModelStack(ctx: BenchContext, variant: Variant, settings: LikeAwsSettings): Promise<ModelStack> {
  ctx.log(`like-aws (${variant.label}): starting the stack under the model (in memory, free ports, AWS's limits / ${SCALE})`);
  const started = performance.now();
  const stack = await startIsolatedStack(`bench-like-aws-${variant.id}`, { holdSeconds: HOLD_SECONDS, likeAws: settings });
  const stopStack = onCleanup(`like-aws stack (${variant.label})`, async () => {
    await stack.stop();
    mkdirSync(resolve(stackLogOf(variant), '..'), { recursive: true });
    if (existsSync(stack.logFile)) renameSync(stack.logFile, stackLogOf(variant));
  });
  if (!stack.likeAws) {
    await stopStack();
    throw new Error('the stack started without the model of AWS');
  }
  const startSeconds = round(since(started) / 1000, 1);
  ctx.log(`like-aws (${variant.label}): stack up in ${startSeconds} s at ${stack.url}; models: ${stack.likeAws.description}`);
  const http = httpClient(stack.url);
  return {
    http,
    adminKey: stack.adminApiKey,
    dynamoDbEndpoint: stack.dynamoDbEndpoint,
    tableName: stack.tableName,
    stepFunctionsEndpoint: stack.stepFunctionsEndpoint,
    holdStateMachineArn: stack.holdStateMachineArn,
    model: stack.likeAws,
    logFile: stack.logFile,
    startSeconds,
    async close() {
      http.close();
      await stopStack();
    },
  };
}

/** Every handler the sale and the checks use, loaded before the clock starts, on an event of its own. */
async function warmUpHandlers({ http, adminKey }: ModelStack, buyer: Buyer): Promise<void> {
  const warm = await http.expect<{ id: string }>(201, 'POST', '/events', { key: adminKey, json: eventJson('Warm-up', 10, PRICE) });
  await http.expect(201, 'POST', '/bookings', { key: buyer.key, json: { event_id: warm.id, quantity: 1 } });
  await http.expect(200, 'GET', `/events/${warm.id}/stats`, { key: adminKey });
  await http.expect(200, 'GET', `/bookings?event_id=${warm.id}&limit=10`, { key: adminKey });
}

/**
 * ALONE bookings, one after the other, by different buyers, on an event of the
 * variant's shards: what one request costs when nothing queues in front of it
 * (the authorizer, the event's terms, one transaction; the timer is the stream's).
 * Then a pause, so that the stream has handed their holds to the timers before
 * the sale's figures start.
 */
async function bookingsAlone({ http, adminKey }: ModelStack, variant: Variant, buyers: Buyer[]): Promise<Summary> {
  const json = { ...eventJson('One at a time', ALONE * 10, PRICE), ...(variant.stockShards === undefined ? {} : { stock_shards: variant.stockShards }) };
  const event = await http.expect<{ id: string }>(201, 'POST', '/events', { key: adminKey, json });
  const ms: number[] = [];
  for (let i = 0; i < ALONE; i++) {
    const started = performance.now();
    await http.expect(201, 'POST', '/bookings', { key: buyers[i % buyers.length]!.key, json: { event_id: event.id, quantity: 1 }, agent: buyers[i % buyers.length]!.agent });
    ms.push(since(started));
  }
  await sleep(3000);
  return summarize(ms);
}

async function createSaleEvent({ http, adminKey }: ModelStack, variant: Variant): Promise<{ id: string; stockShards: number }> {
  const json = { ...eventJson('Flash sale like AWS', TOTAL_TICKETS, PRICE), ...(variant.stockShards === undefined ? {} : { stock_shards: variant.stockShards }) };
  const event = await http.expect<{ id: string; stock_shards: number }>(201, 'POST', '/events', { key: adminKey, json });
  const expected = variant.stockShards ?? defaultStockShards(TOTAL_TICKETS);
  if (event.stock_shards !== expected) throw new Error(`the sale's event has ${event.stock_shards} stock shards, not ${expected}`);
  return { id: event.id, stockShards: event.stock_shards };
}

/** An item's size as the model bills it, and the units of one transactional write of it (item-size.ts). */
interface ItemUnits {
  bytes: number;
  units: number;
}

/**
 * What one transactional write of the sale's items costs, as the model charges
 * it: a stock shard (written by every booking, the units that turn a shard's
 * account into a count of the transactions DynamoDB ran on it) and the event
 * item (written by no booking now; its size says what the shards spare).
 */
async function itemsOfSale({ dynamoDbEndpoint, tableName }: ModelStack, eventId: string): Promise<{ shard: ItemUnits; event: ItemUnits }> {
  const client = localClient(dynamoDbEndpoint);
  const unitsOf = async (key: { pk: string; sk: string }): Promise<ItemUnits> => {
    const { Item: item } = await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: key.pk }, sk: { S: key.sk } } }));
    if (!item) throw new Error(`${key.pk} of the sale is not in the table`);
    const bytes = itemSize(item as unknown as Item);
    return { bytes, units: 2 * writeUnits(bytes) };
  };
  try {
    return { shard: await unitsOf(keys.stock(eventId, 0)), event: await unitsOf(keys.event(eventId)) };
  } finally {
    client.destroy();
  }
}

type Timers = Awaited<ReturnType<typeof holdTimersOf>>;

/**
 * The hold timers the sale's bookings got from the table's stream: the
 * executions of the hold's state machine started since the sale began, each
 * read for the holds it times, once every booking listed after the sale is in
 * one of them (or TIMERS_SETTLE_MS went by). Also the stream consumer's
 * invocations, from its log lines ("hold timers started") written since.
 */
async function holdTimersOf(ctx: BenchContext, variant: Variant, stack: ModelStack, listed: ReadonlySet<string>, saleStartedAt: number, logFrom: number) {
  const sfn = new SFNClient({ endpoint: stack.stepFunctionsEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const inputs = new Map<string, string[]>();
  const waitStarted = performance.now();
  try {
    for (;;) {
      const executions: ExecutionListItem[] = [];
      let nextToken: string | undefined;
      do {
        const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn: stack.holdStateMachineArn, nextToken, maxResults: 1000 }));
        executions.push(...(page.executions ?? []));
        nextToken = page.nextToken;
      } while (nextToken);
      for (const e of executions) {
        if (inputs.has(e.executionArn!) || (e.startDate?.getTime() ?? 0) < saleStartedAt - 1000) continue;
        const { input } = await sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn }));
        const parsed = JSON.parse(input ?? '{}') as { booking_ids?: string[]; booking_id?: string };
        inputs.set(e.executionArn!, (parsed.booking_ids ?? (parsed.booking_id ? [parsed.booking_id] : [])).filter((id) => listed.has(id)));
      }
      const timed = new Set([...inputs.values()].flat());
      if ([...listed].every((id) => timed.has(id)) || since(waitStarted) > TIMERS_SETTLE_MS) break;
      await sleep(1000);
    }
  } finally {
    sfn.destroy();
  }
  const ofSale = [...inputs.values()].filter((ids) => ids.length > 0);
  const times = new Map<string, number>();
  for (const id of ofSale.flat()) times.set(id, (times.get(id) ?? 0) + 1);
  const sizes = ofSale.map((ids) => ids.length);
  const invocations = consumerInvocations(stack.logFile, logFrom);
  const result = {
    holds: times.size,
    executions: ofSale.length,
    holdsPerExecution: ofSale.length > 0 ? times.size / ofSale.length : Number.NaN,
    largest: Math.max(0, ...sizes),
    smallest: sizes.length > 0 ? Math.min(...sizes) : 0,
    untimed: [...listed].filter((id) => !times.has(id)).length,
    timedTwice: [...times.values()].filter((n) => n > 1).length,
    consumerInvocations: invocations,
    settledAfterMs: round(since(waitStarted), 0),
  };
  ctx.log(`like-aws (${variant.label}): ${result.holds} holds timed by ${result.executions} executions (${fmt.n(result.holdsPerExecution, 1)} each), ${invocations} invocations of the stream consumer`);
  return result;
}

/** The stream consumer's invocations that started timers, from its log lines written after `from` (bytes). */
function consumerInvocations(logFile: string, from: number): number {
  const size = statSync(logFile).size;
  const buffer = Buffer.alloc(Math.max(0, size - from));
  const fd = openSync(logFile, 'r');
  try {
    readSync(fd, buffer, 0, buffer.length, from);
  } finally {
    closeSync(fd);
  }
  return buffer
    .toString('utf8')
    .split('\n')
    .filter((line) => line.includes('"hold timers started"') && !/"holds":0\b/.test(line)).length;
}

type Sale = ReturnType<typeof summariseSale>;

/**
 * PURCHASES purchases of one ticket each, every buyer starting its next as soon as
 * its last one ended, until SALE_LIMIT_MS. A purchase answered 503 is tried again
 * after the answer's Retry-After, at most MAX_RETRIES times, as API.md tells clients.
 */
async function runSale(ctx: BenchContext, variant: Variant, { http, adminKey }: ModelStack, buyers: Buyer[], eventId: string): Promise<Sale> {
  ctx.log(`like-aws (${variant.label}): ${PURCHASES} purchases from ${BUYERS} buyers for ${TOTAL_TICKETS} tickets, for at most ${SALE_LIMIT_MS / 1000} s`);
  const attempts: Attempt[] = [];
  const purchases: Purchase[] = [];
  let next = 0;
  const cpuBefore = cpuSnapshot();
  // The models run in this process: a late timer here holds a transaction's items longer than its window.
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
  loopDelay.enable();
  const saleStart = performance.now();
  const open = () => since(saleStart) < SALE_LIMIT_MS;

  const attempt = async (b: number, purchase: number, retry: number): Promise<Attempt> => {
    const sent = since(saleStart);
    try {
      const r = await http.call('POST', '/bookings', { key: buyers[b]!.key, json: { event_id: eventId, quantity: 1 }, agent: buyers[b]!.agent });
      const retryAfter = r.headers['retry-after'];
      return {
        buyer: b,
        purchase,
        retry,
        sent,
        done: since(saleStart),
        ms: r.ms,
        status: r.status,
        type: problemType(r.body),
        detail: problemDetail(r.body),
        retryAfterS: typeof retryAfter === 'string' && retryAfter !== '' ? Number(retryAfter) : undefined,
        booking: r.status === 201 ? (r.body as SaleBooking) : undefined,
      };
    } catch (error) {
      return { buyer: b, purchase, retry, sent, done: since(saleStart), ms: Number.NaN, status: 0, error: String(error) };
    }
  };

  await Promise.all(
    buyers.map(async (_, b) => {
      while (next < PURCHASES && open()) {
        const purchase = next++;
        for (let retry = 0; ; retry++) {
          const a = await attempt(b, purchase, retry);
          attempts.push(a);
          if (a.status !== 503 || retry === MAX_RETRIES || !open()) {
            purchases.push({ buyer: b, attempts: retry + 1, outcome: outcomeOf(a.status) });
            break;
          }
          await sleep((Number.isFinite(a.retryAfterS) ? a.retryAfterS! : 1) * 1000);
        }
      }
    }),
  );
  loopDelay.disable();
  const cpu = cpuSpent(cpuBefore, cpuSnapshot());
  const after = await http.expect<EventStats>(200, 'GET', `/events/${eventId}/stats`, { key: adminKey });
  // The histogram holds whole intervals between samples; what exceeds the resolution is the delay.
  const lateBy = (ns: number) => Math.max(0, ns / 1e6 - LOOP_DELAY_RESOLUTION_MS);
  const lag = { p50: lateBy(loopDelay.percentile(50)), p99: lateBy(loopDelay.percentile(99)), max: lateBy(loopDelay.max) };
  const sale = summariseSale(attempts, purchases, after, cpu, lag);
  ctx.log(
    `like-aws (${variant.label}): ${sale.ticketsSold} sold in ${fmt.n(sale.sellingMs / 1000, 1)} s; ${attempts.length} attempts, goodput ${fmt.n(sale.goodput * 100, 1)}%; purchases ${JSON.stringify(sale.outcomes)}`,
  );
  return sale;
}

const outcomeOf = (status: number): Outcome => (status === 201 ? 'booked' : status === 409 ? 'sold out' : status === 503 ? 'turned away' : 'failed');

const problemDetail = (body: unknown) => (body && typeof body === 'object' && 'detail' in body ? String((body as { detail: unknown }).detail) : undefined);

function summariseSale(attempts: Attempt[], purchases: Purchase[], after: EventStats, cpu: Record<string, number>, eventLoopDelayMs: { p50: number; p99: number; max: number }) {
  const booked = attempts.filter((a) => a.status === 201);
  const refused = attempts.filter((a) => a.status === 409);
  const busy = attempts.filter((a) => a.status === 503);
  const other = attempts.filter((a) => a.status !== 201 && a.status !== 409 && a.status !== 503);
  const byStatus: Record<string, number> = {};
  for (const a of attempts) byStatus[String(a.status)] = (byStatus[String(a.status)] ?? 0) + 1;
  // A 503's detail says which mechanism gave up: the booking's retries, or the hold's start.
  const busyBecause: Record<string, number> = {};
  for (const a of busy) busyBecause[a.detail ?? '(no detail)'] = (busyBecause[a.detail ?? '(no detail)'] ?? 0) + 1;
  const outcomes: Record<Outcome, number> = { booked: 0, 'sold out': 0, 'turned away': 0, failed: 0 };
  for (const p of purchases) outcomes[p.outcome] += 1;
  const ticketsSold = booked.reduce((n, a) => n + (a.booking?.quantity ?? 0), 0);
  const ms = Math.max(...attempts.map((a) => a.done));
  // Tickets can be taken without a 201 (a request that outlived its function's timeout), so the table says whether they ran out.
  const soldOut = after.tickets_available === 0;
  const sellOutMs = soldOut && booked.length > 0 ? Math.max(...booked.map((a) => a.done)) : Number.NaN;
  /** The time tickets were on sale: until the last one went, or until the sale stopped. */
  const sellingMs = Number.isFinite(sellOutMs) ? sellOutMs : ms;
  const onSale = attempts.filter((a) => a.done <= sellingMs);
  const perSecond = Array.from({ length: Math.ceil(sellingMs / 1000) }, () => 0);
  for (const a of booked) {
    const second = Math.min(perSecond.length - 1, Math.floor(a.done / 1000));
    if (second >= 0) perSecond[second]! += 1;
  }
  return {
    attempts,
    purchases,
    booked,
    refused,
    busy,
    other,
    byStatus,
    busyBecause,
    outcomes,
    /** Share of attempts answered with a decision (201 or 409) rather than "busy" (503). */
    goodput: (booked.length + refused.length) / attempts.length,
    /** The same, of the attempts answered while tickets were left: after the sell-out every answer is a cheap 409. */
    goodputOnSale: onSale.filter((a) => a.status === 201 || a.status === 409).length / onSale.length,
    attemptsPerSecondOnSale: onSale.length / (sellingMs / 1000),
    ticketsSold,
    soldOut,
    /** Tickets still on sale when the sale stopped. */
    unsoldShare: after.tickets_available / TOTAL_TICKETS,
    /** The whole sale: until the last attempt was answered. */
    ms,
    sellOutMs,
    sellingMs,
    bookingsPerSecond: ticketsSold / (sellingMs / 1000),
    /** 201s answered in each second of the selling time. */
    perSecond,
    first409Ms: refused.length > 0 ? Math.min(...refused.map((a) => a.done)) : Number.NaN,
    attemptsPerPurchase: attempts.length / purchases.length,
    cpu,
    eventLoopDelayMs,
    latency: {
      all: summarize(attempts.filter((a) => a.status !== 0).map((a) => a.ms)),
      booked: summarize(booked.map((a) => a.ms)),
      refused: summarize(refused.map((a) => a.ms)),
      busy: summarize(busy.map((a) => a.ms)),
    },
  };
}

function checkSale(variant: Variant, sale: Sale): Check[] {
  const name = (what: string) => `like-aws (${variant.label}): ${what}`;
  const wrong409 = sale.refused.filter((a) => a.type !== 'insufficient-tickets');
  // Only a read that saw no ticket left may refuse (README, "Planning on a copy of the event").
  const refusedWhileLeft = sale.refused.filter((a) => !/, 0 left$/.test(a.detail ?? ''));
  const withoutRetryAfter = sale.busy.filter((a) => !Number.isFinite(a.retryAfterS));
  const late = sale.other.filter((a) => a.ms >= FUNCTION_TIMEOUT_MS);
  return [
    check(name('never more sold than the stock'), sale.ticketsSold <= TOTAL_TICKETS, `${sale.ticketsSold} tickets answered 201, stock ${TOTAL_TICKETS}`),
    check(
      name('every 409 is insufficient-tickets, with no ticket left'),
      wrong409.length === 0 && refusedWhileLeft.length === 0,
      wrong409.length + refusedWhileLeft.length === 0
        ? `${sale.refused.length} refusals`
        : `${wrong409.length} of another type (${[...new Set(wrong409.map((a) => a.type))].join(', ')}); ${refusedWhileLeft.length} while tickets were left (${refusedWhileLeft[0]?.detail ?? ''})`,
    ),
    check(
      name('no server faults (5xx other than 503 busy) or transport errors'),
      sale.other.length === 0,
      sale.other.length === 0
        ? `503 busy: ${sale.busy.length}`
        : `${JSON.stringify(sale.byStatus)}; ${late.length} of the ${sale.other.length} answered after ${FUNCTION_TIMEOUT_MS / 1000} s, the function's timeout ${sale.other.find((a) => a.error)?.error ?? ''}`,
    ),
    check(name('every 503 carries Retry-After'), withoutRetryAfter.length === 0, `${withoutRetryAfter.length} of ${sale.busy.length} without it`),
  ];
}

type Verified = Awaited<ReturnType<typeof recount>>;

/**
 * The statistics against a recount of the admin's listing (every page). Nothing
 * was paid and nothing expired, so every booking is PENDING and holds its tickets.
 */
async function recount(variant: Variant, { http, adminKey }: ModelStack, eventId: string, sale: Sale) {
  const name = (what: string) => `like-aws (${variant.label}): ${what}`;
  const { listed, pages } = await listEventBookings(http, adminKey, eventId);
  const stats = await http.expect<EventStats>(200, 'GET', `/events/${eventId}/stats`, { key: adminKey });
  const { recounted, reported, mismatched } = recountOfListing(listed, stats, TOTAL_TICKETS);
  const answered = new Set(sale.booked.map((a) => a.booking!.id));
  const listedIds = new Set(listed.map((b) => b.id));
  const missing = [...answered].filter((id) => !listedIds.has(id));
  // A booking whose hold could not be started and whose withdrawal failed too stays
  // PENDING without a 201, until the sweeper ends it at expires_at (README, "Expiry").
  const unanswered = listed.filter((b) => !answered.has(b.id));
  const accounted = stats.tickets_sold + stats.tickets_held + stats.tickets_available;
  const answeredTickets = sale.ticketsSold;
  return {
    stats,
    recounted,
    pages,
    listedIds,
    unanswered: unanswered.length,
    checks: [
      check(
        name('exactly the stock sold: every ticket taken was answered 201, and no more'),
        stats.tickets_held + stats.tickets_sold === answeredTickets && answeredTickets <= TOTAL_TICKETS,
        `${answeredTickets} tickets answered 201; the table holds ${stats.tickets_held} and sold ${stats.tickets_sold} of ${TOTAL_TICKETS}, ${stats.tickets_available} left`,
      ),
      check(
        name('stats == recount of GET /bookings?event_id= (all pages)'),
        mismatched.length === 0,
        mismatched.length === 0 ? JSON.stringify(reported) : `differ in ${mismatched.join(', ')}: stats ${JSON.stringify(reported)} recount ${JSON.stringify(recounted)}`,
      ),
      check(
        name('sold + held + available == total, and held + sold <= stock'),
        accounted === stats.total_tickets && stats.tickets_held + stats.tickets_sold <= TOTAL_TICKETS,
        `${stats.tickets_sold} + ${stats.tickets_held} + ${stats.tickets_available} = ${accounted} of ${stats.total_tickets}`,
      ),
      check(
        name('every 201 booking is listed, PENDING'),
        missing.length === 0 && listed.filter((b) => answered.has(b.id)).every((b) => b.status === 'PENDING'),
        `${listed.length} listed in ${pages} pages, ${missing.length} of the ${answered.size} answered 201 missing, ${unanswered.length} listed without a 201`,
      ),
    ],
  };
}

/** Every attempt, for a closer look (sent and answered, ms after the sale started). */
function keepAttempts(variant: Variant, attempts: Attempt[]): void {
  mkdirSync(resolve(attemptsFileOf(variant), '..'), { recursive: true });
  writeFileSync(
    attemptsFileOf(variant),
    JSON.stringify({
      fields: ['buyer', 'purchase', 'retry', 'sent_ms', 'done_ms', 'status', 'type', 'retry_after_s'],
      rows: attempts.map((a) => [a.buyer, a.purchase, a.retry, Math.round(a.sent), Math.round(a.done), a.status, a.type ?? null, a.retryAfterS ?? null]),
    }),
  );
}

function notesOf(stack: ModelStack): string[] {
  const resent = stack.http.resent();
  return resent > 0 ? [`${resent} requests sent again: the server had closed their idle keep-alive connection as they went out`] : [];
}

interface ModelRun {
  variant: Variant;
  settings: LikeAwsSettings;
  stackStartSeconds: number;
  eventId: string;
  stockShards: number;
  items: { shard: ItemUnits; event: ItemUnits };
  /** Latency of a booking made with nothing else in flight. */
  alone: Summary;
  sale: Sale;
  model: { dynamoDb: LikeAwsDynamoDbStats; stepFunctions: LikeAwsStepFunctionsStats };
  verified: Verified;
  timers: Timers;
  checks: Check[];
  notes: string[];
}

/** What a partition key value is, in the table's design (README, "Table design"; lib/store/keys.ts). */
function whatIs(p: PartitionAccount, eventId: string): string {
  const event = keys.event(eventId).pk;
  if (p.index === null && p.partition === event) return "the sale's event item (terms)";
  if (p.index === null && p.partition.startsWith(`${event}#STOCK#`)) return 'a stock shard of the sale';
  if (p.index === eventsByDate.index && p.partition === eventsByDate.pk) return 'every event, by date (gsi1)';
  if (p.index === 'gsi2' && p.partition.startsWith(bookingsByEventStatus(eventId, 'PENDING', 0).slice(0, -1))) return `a bucket (of ${INDEX_BUCKETS}) of the event's PENDING bookings (gsi2)`;
  if (p.index === 'gsi2' && p.partition.startsWith(`${event}#`)) return `a bucket of the event's bookings of another status (gsi2)`;
  if (p.index === 'gsi3' && p.partition.startsWith(bookingsByStatus('PENDING', 0).slice(0, -1))) return `a bucket (of ${INDEX_BUCKETS}) of every PENDING booking (gsi3)`;
  if (p.index === 'gsi3') return 'a bucket of every booking of another status (gsi3)';
  if (p.index === 'gsi4' && p.partition.startsWith(holdsByExpiry(0).slice(0, -1))) return `a bucket (of ${INDEX_BUCKETS}) of the live holds by expiry (gsi4)`;
  if (p.index === null && p.partition.startsWith('BOOKING#')) return 'one booking';
  if (p.index === null && p.partition.startsWith('TALLY#')) return "one buyer's tally";
  if (p.index === 'gsi1' && p.partition.startsWith('USER#')) return "one buyer's bookings (gsi1)";
  return 'other';
}

/** The busiest partitions, and every one that throttled or conflicted. */
function hotPartitions(stats: LikeAwsDynamoDbStats): PartitionAccount[] {
  const busiest = stats.partitions.slice(0, TOP_PARTITIONS);
  const refused = stats.partitions.filter((p) => (p.throttles > 0 || p.conflicts > 0) && !busiest.includes(p));
  return [...busiest, ...refused.sort((a, b) => b.throttles + b.conflicts - (a.throttles + a.conflicts))];
}

/** Every partition the sale wrote, by what it is: how many, their units, the busiest one, and what each kind refused. */
function partitionsByKind(run: ModelRun) {
  const sellingS = run.sale.sellingMs / 1000;
  const kinds = new Map<string, { partitions: number; units: number; busiest: number; throttles: number; conflicts: number }>();
  for (const p of run.model.dynamoDb.partitions) {
    const what = whatIs(p, run.eventId);
    const k = kinds.get(what) ?? { partitions: 0, units: 0, busiest: 0, throttles: 0, conflicts: 0 };
    k.partitions += 1;
    k.units += p.units;
    k.busiest = Math.max(k.busiest, p.units / sellingS);
    k.throttles += p.throttles;
    k.conflicts += p.conflicts;
    kinds.set(what, k);
  }
  return [...kinds.entries()]
    .map(([what, k]) => ({ what, ...k, busiest: round(k.busiest, 1) }))
    .sort((a, b) => b.busiest - a.busiest);
}

/**
 * Transactions on the sale's stock during the sale: those the model refused
 * (every write of the sale is a booking's transaction, and each includes a stock
 * shard), and those DynamoDB Local decided, applied or refused by a condition,
 * each of which the model charged to a shard's partition (a tail booking that
 * takes from two shards counts twice: there are few).
 */
function transactionsOf(run: ModelRun) {
  const { dynamoDb } = run.model;
  const shardUnits = dynamoDb.partitions.filter((p) => p.index === null && p.partition.startsWith(`${keys.event(run.eventId).pk}#STOCK#`)).reduce((n, p) => n + p.units, 0);
  const decided = shardUnits / run.items.shard.units;
  const refused = dynamoDb.conflicts + dynamoDb.throttles;
  const total = decided + refused;
  return {
    total: round(total, 0),
    decided: round(decided, 0),
    conflicts: dynamoDb.conflicts,
    throttles: dynamoDb.throttles,
    cancelledShare: total > 0 ? refused / total : Number.NaN,
    conflictShare: total > 0 ? dynamoDb.conflicts / total : Number.NaN,
    throttleShare: total > 0 ? dynamoDb.throttles / total : Number.NaN,
  };
}

/**
 * What one partition takes, in bookings per second: the scaled write units of a
 * partition key value over the units of a booking's transactional write on its
 * stock item (2 for an item under 1 KB). The stock on one item caps a sale there
 * whatever else is spread; the design's gain is its throughput over this.
 */
const onePartitionCeiling = (run: ModelRun) => run.settings.partitionWcu / run.items.shard.units;

const label = (p: PartitionAccount, eventId: string) => `${p.index ?? 'table'} ${p.partition.replace(eventId, '<event>')}`;
const pct = (share: number) => (Number.isFinite(share) ? `${(share * 100).toFixed(1)}%` : 'n/a');

function printTables(run: ModelRun): void {
  const { sale, model, settings } = run;
  const sellingS = sale.sellingMs / 1000;
  const tx = transactionsOf(run);
  const active = sale.perSecond.filter((n) => n > 0);
  console.log(
    table(
      `Flash sale ${run.variant.label} (${run.variant.models.join(', ')}; limits / ${SCALE}: ${settings.partitionWcu} WCU/s per partition, StartExecution ${settings.sfnStartRate}/s burst ${settings.sfnStartBurst}): ${PURCHASES} purchases, ${BUYERS} buyers, ${TOTAL_TICKETS} tickets`,
      ['figure', 'value', `at AWS's scale (x${SCALE})`],
      [
        ['goodput (attempts answered 201 or 409)', pct(sale.goodput), `${pct(sale.goodputOnSale)} while tickets were left`],
        ['attempts by status', JSON.stringify(sale.byStatus), `${sale.attemptsPerPurchase.toFixed(2)} attempts per purchase`],
        ['purchases', JSON.stringify(sale.outcomes), ''],
        ['tickets sold (201)', `${sale.ticketsSold}`, ''],
        [sale.soldOut ? 'sold out at (last 201 answered)' : 'unsold when the sale stopped', sale.soldOut ? fmt.ms(sale.sellOutMs, 0) : pct(sale.unsoldShare), ''],
        ['bookings per second while on sale', fmt.n(sale.bookingsPerSecond, 1), fmt.n(sale.bookingsPerSecond * SCALE, 0)],
        [
          'over the one-partition ceiling (one stock item)',
          fmt.x(sale.bookingsPerSecond / onePartitionCeiling(run)),
          `ceiling ${fmt.n(onePartitionCeiling(run), 0)}/s here, ${fmt.n(onePartitionCeiling(run) * SCALE, 0)}/s on AWS (${settings.partitionWcu} WCU/s / ${run.items.shard.units} WCU)`,
        ],
        ['attempts answered per second while on sale', fmt.n(sale.attemptsPerSecondOnSale, 1), 'what this stack answered'],
        ['bookings in the busiest second / median second with any', `${Math.max(0, ...sale.perSecond)} / ${active.length > 0 ? median(active) : 0}`, ''],
        ['first 409 answered at', fmt.ms(sale.first409Ms, 0), ''],
        ['whole sale (last attempt answered)', fmt.ms(sale.ms, 0), ''],
        ['stock shards', `${run.stockShards}`, ''],
        ['transactions on the stock (derived)', fmt.n(tx.total), `${tx.decided} decided by DynamoDB Local, ${fmt.n(tx.decided / sellingS, 1)}/s`],
        ['  cancelled: conflict / throttle', `${tx.conflicts} / ${tx.throttles}`, `${pct(tx.conflictShare)} / ${pct(tx.throttleShare)} (${pct(tx.cancelledShare)} in all)`],
        ['StartExecution: calls / throttled', `${model.stepFunctions.starts} / ${model.stepFunctions.throttles}`, `${fmt.n(model.stepFunctions.starts / sellingS, 1)} calls/s`],
        ['hold timers: executions / holds per execution', `${run.timers.executions} / ${fmt.n(run.timers.holdsPerExecution, 1)}`, `${run.timers.consumerInvocations} invocations of the stream consumer; largest ${run.timers.largest}, smallest ${run.timers.smallest}`],
        ['stock shard / event item', `${run.items.shard.bytes} B / ${run.items.event.bytes} B`, `${run.items.shard.units} / ${run.items.event.units} WCU per transactional write`],
        [
          "event-loop delay of the models' process p50 / p99 / max",
          `${fmt.ms(sale.eventLoopDelayMs.p50)} / ${fmt.ms(sale.eventLoopDelayMs.p99)} / ${fmt.ms(sale.eventLoopDelayMs.max)}`,
          `how late a ${settings.transactionMs} ms window may end`,
        ],
      ],
    ),
  );
  console.log(
    table(
      `${run.variant.label}: 503 answers by detail`,
      ['detail', 'n'],
      Object.entries(sale.busyBecause).map(([detail, n]) => [detail, n]),
    ),
  );
  console.log(
    table(
      `${run.variant.label}: hot partitions (the busiest, and every one refused a write); units per second over the ${fmt.n(sellingS, 1)} s on sale, limit ${settings.partitionWcu}`,
      ['index', 'partition key value', 'what', 'WCU', 'WCU/s', 'throttles', 'conflicts'],
      hotPartitions(model.dynamoDb).map((p) => [
        p.index ?? 'table',
        p.partition.replace(run.eventId, '<event>'),
        whatIs(p, run.eventId),
        fmt.n(p.units),
        fmt.n(p.units / sellingS, 1),
        p.throttles,
        p.conflicts,
      ]),
    ),
  );
  console.log(
    table(
      `${run.variant.label}: every partition the sale wrote, by what it is (limit ${settings.partitionWcu} WCU/s each)`,
      ['what', 'partitions', 'WCU', 'busiest WCU/s', 'throttles', 'conflicts'],
      partitionsByKind(run).map((k) => [k.what, k.partitions, fmt.n(k.units), fmt.n(k.busiest, 1), k.throttles, k.conflicts]),
    ),
  );
  const latencyRow = (name: string, s: Summary) => [name, fmt.n(s.n), fmt.ms(s.p50, 0), fmt.ms(s.p95, 0), fmt.ms(s.p99, 0), fmt.ms(s.max, 0)];
  console.log(
    table(
      `${run.variant.label}: latency (client side, one attempt)`,
      ['answers', 'n', 'p50', 'p95', 'p99', 'max'],
      [latencyRow(`201, one booking at a time before the sale (an event of ${run.stockShards} shards)`, run.alone), latencyRow('all', sale.latency.all), latencyRow('201 booked', sale.latency.booked), latencyRow('409 sold out', sale.latency.refused), latencyRow('503 busy', sale.latency.busy)],
    ),
  );
  const cpuTotal = Object.values(sale.cpu).reduce((n, v) => n + v, 0);
  console.log(
    table(
      `${run.variant.label}: where the CPU went during the sale (${fmt.n(sale.ms / 1000, 1)} s of wall time on ${cpus().length} cores; the models run in the bench's process)`,
      ['process', 'CPU s', 'share'],
      Object.entries(sale.cpu)
        .sort((a, b) => b[1] - a[1])
        .map(([name, sec]) => [name, sec.toFixed(1), `${((sec / cpuTotal) * 100).toFixed(0)}%`]),
    ),
  );
}

/** The variants side by side. */
function printComparison(runs: ModelRun[]): void {
  const row = (figure: string, value: (run: ModelRun) => string) => [figure, ...runs.map(value)];
  const throttled = (run: ModelRun) =>
    run.model.dynamoDb.partitions
      .filter((p) => p.throttles > 0)
      .sort((a, b) => b.throttles - a.throttles)
      .slice(0, 4)
      .map((p) => `${label(p, run.eventId)} ${p.throttles}`)
      .join(', ') || 'none';
  console.log(
    table(
      `The flash sale under the model, side by side (AWS's limits / ${SCALE})`,
      ['figure', ...runs.map((r) => r.variant.label)],
      [
        row('goodput (201 or 409), all / while tickets were left', (r) => `${pct(r.sale.goodput)} / ${pct(r.sale.goodputOnSale)}`),
        row('stock shards', (r) => String(r.stockShards)),
        row('bookings per second while on sale (x10: AWS)', (r) => `${fmt.n(r.sale.bookingsPerSecond, 1)} (${fmt.n(r.sale.bookingsPerSecond * SCALE, 0)})`),
        row('over the one-partition ceiling', (r) => `${fmt.x(r.sale.bookingsPerSecond / onePartitionCeiling(r))} of ${fmt.n(onePartitionCeiling(r), 0)}/s`),
        row('over the baseline', (r) => fmt.x(r.sale.bookingsPerSecond / runs[0]!.sale.bookingsPerSecond)),
        row('attempts answered per second while on sale', (r) => fmt.n(r.sale.attemptsPerSecondOnSale, 1)),
        row('latency p50 / p95, one booking at a time', (r) => `${fmt.ms(r.alone.p50, 0)} / ${fmt.ms(r.alone.p95, 0)}`),
        row('latency p50 / p95, all attempts', (r) => `${fmt.ms(r.sale.latency.all.p50, 0)} / ${fmt.ms(r.sale.latency.all.p95, 0)}`),
        row('latency p50 / p95 of a 201', (r) => `${fmt.ms(r.sale.latency.booked.p50, 0)} / ${fmt.ms(r.sale.latency.booked.p95, 0)}`),
        row('sold out at / unsold when stopped', (r) => (r.sale.soldOut ? fmt.ms(r.sale.sellOutMs, 0) : `unsold ${pct(r.sale.unsoldShare)}`)),
        row('transactions cancelled: conflict / throttle', (r) => `${pct(transactionsOf(r).conflictShare)} / ${pct(transactionsOf(r).throttleShare)}`),
        row('StartExecution throttled', (r) => `${r.model.stepFunctions.throttles} of ${r.model.stepFunctions.starts}`),
        row('holds per execution (executions)', (r) => `${fmt.n(r.timers.holdsPerExecution, 1)} (${r.timers.executions})`),
        row('503 answers', (r) => `${r.sale.busy.length} of ${r.sale.attempts.length}`),
        row('purchases turned away', (r) => `${r.sale.outcomes['turned away']} of ${r.sale.purchases.length}`),
        row('partitions that throttled (writes refused)', throttled),
      ],
    ),
  );
}

function findingsOf(runs: ModelRun[], cpu: CpuBaseline): Findings {
  return {
    figures: {
      settings: { total_tickets: TOTAL_TICKETS, buyers: BUYERS, purchases: PURCHASES, max_retries: MAX_RETRIES, sale_limit_ms: SALE_LIMIT_MS, hold_seconds: HOLD_SECONDS, scale: SCALE },
      cpu_yardstick_ms: cpu.ms,
      ...Object.fromEntries(runs.map((run) => [run.variant.id, figuresOf(run)])),
    },
    checks: runs.flatMap((run) => run.checks),
    targets: runs.filter((run) => run.variant.design).map((run) => target(`like-aws (${run.variant.label}): goodput, attempts answered 201 or 409`, round(run.sale.goodput * 100, 2), '%', '>=', GOODPUT_TARGET * 100)),
    notes: runs.flatMap((run) => run.notes.map((note) => `${run.variant.label}: ${note}`)),
  };
}

function figuresOf(run: ModelRun): Record<string, unknown> {
  const { sale, model, verified, settings } = run;
  const sellingS = sale.sellingMs / 1000;
  const tx = transactionsOf(run);
  return {
    like_aws: settings,
    stack_start_s: run.stackStartSeconds,
    event_id: run.eventId,
    stock_shards: run.stockShards,
    items: run.items,
    one_partition_ceiling_per_second: round(onePartitionCeiling(run), 1),
    over_one_partition_ceiling: round(run.sale.bookingsPerSecond / onePartitionCeiling(run), 3),
    attempts_per_second_on_sale: round(sale.attemptsPerSecondOnSale, 1),
    hold_timers: run.timers,
    partitions_by_kind: partitionsByKind(run),
    goodput: round(sale.goodput, 4),
    goodput_while_on_sale: round(sale.goodputOnSale, 4),
    attempts: sale.attempts.length,
    attempts_by_status: sale.byStatus,
    busy_because: sale.busyBecause,
    purchases: sale.outcomes,
    attempts_per_purchase: round(sale.attemptsPerPurchase, 2),
    tickets_sold: sale.ticketsSold,
    sold_out: sale.soldOut,
    sell_out_ms: Number.isFinite(sale.sellOutMs) ? round(sale.sellOutMs, 0) : null,
    unsold_share: round(sale.unsoldShare, 4),
    selling_ms: round(sale.sellingMs, 0),
    sale_ms: round(sale.ms, 0),
    first_409_ms: Number.isFinite(sale.first409Ms) ? round(sale.first409Ms, 0) : null,
    bookings_per_second: round(sale.bookingsPerSecond, 1),
    bookings_per_second_at_aws_scale: round(sale.bookingsPerSecond * SCALE, 0),
    bookings_each_second: sale.perSecond,
    transactions: { ...tx, cancelledShare: round(tx.cancelledShare, 4), conflictShare: round(tx.conflictShare, 4), throttleShare: round(tx.throttleShare, 4) },
    dynamodb_model: { ...model.dynamoDb, partitions: undefined },
    hot_partitions: hotPartitions(model.dynamoDb).map((p) => ({ ...p, label: label(p, run.eventId), what: whatIs(p, run.eventId), units_per_second: round(p.units / sellingS, 1) })),
    stepfunctions_model: model.stepFunctions,
    start_executions_per_second: round(model.stepFunctions.starts / sellingS, 1),
    latency_ms: { ...sale.latency, one_at_a_time: run.alone },
    sale_cpu_seconds: sale.cpu,
    event_loop_delay_ms: { p50: round(sale.eventLoopDelayMs.p50, 1), p99: round(sale.eventLoopDelayMs.p99, 1), max: round(sale.eventLoopDelayMs.max, 1) },
    final_stats: verified.stats,
    recount: verified.recounted,
    listed_without_201: verified.unanswered,
    listing_pages: verified.pages,
    stack_log: stackLogOf(run.variant),
    attempts_file: attemptsFileOf(run.variant),
  };
}

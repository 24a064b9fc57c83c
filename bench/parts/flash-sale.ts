/**
 * Part 2. A flash sale over HTTP against the running stack, as `npm start` runs it
 * (startIsolatedStack: DynamoDB Local, the local Step Functions endpoint and
 * serverless-offline with the bundled handlers, in memory, on free ports): one
 * event of 1,000 tickets, 5,000 booking attempts from 200 concurrent clients. Then
 * every booking paid (half) or expired (the rest, by their hold executions), and
 * the statistics checked against a recount of the admin's booking list.
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import type { Agent } from 'node:http';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { eventStore } from '../../lib/store/events';
import { startIsolatedStack } from '../../localstack/isolated-stack';
import { functionNamesOf, type ServiceDefinition, tableOf } from '../../localstack/service';
import type { CpuBaseline } from '../support/baseline';
import { rawBooking } from '../support/booking-shape';
import { onCleanup } from '../support/cleanup';
import { cpuSnapshot, cpuSpent } from '../support/cpu-usage';
import type { BenchContext } from '../support/context';
import { benchTable, createTableCopy } from '../support/dynamo';
import { type HttpClient, httpClient } from '../support/http';
import { runCount, runFor, sleep } from '../support/load';
import { definePart, type Findings } from '../support/part';
import { type Check, check, fmt, table } from '../support/report';
import { type Buyer, countUnhandled, eventJson, type EventStats, listEventBookings, problemType, recountOfListing, registerBuyers, type SaleBooking } from '../support/sale';
import { round, since, type Summary, summarize } from '../support/stats';
import { createFutureEvent } from '../support/wiring';

const TOTAL_TICKETS = 1000;
const ATTEMPTS = 5000;
const CLIENTS = 200;
const PRICE = '49.90';
/**
 * The hold of this stack. Long enough that no booking can expire while the sale
 * and the payments are still running on a slow, shared machine (an expiry during
 * the sale would put tickets back on sale and make "1,000 sold" meaningless; the
 * sale took 24 to 73 s here, depending on what else ran), short enough that
 * waiting for the unpaid half to expire fits the time budget.
 */
const HOLD_SECONDS = 120;
/** After the last unpaid booking's expires_at: when to run the sweeper by hand, and when to give up. */
const SWEEP_AFTER_MS = 15_000;
const GIVE_UP_AFTER_MS = 45_000;
const STACK_NAME = 'bench-flash-sale';
const ROOT = resolve(__dirname, '../..');
const STACK_LOG = resolve(ROOT, '.data/bench/flash-sale-stack.log');
const ATTEMPTS_FILE = resolve(ROOT, '.data/bench/flash-sale-attempts.json');

export const flashSale = definePart('flash-sale', async (ctx, cpu) => {
  const service = await ctx.service();
  const notes: string[] = [];
  const stack = await startSaleStack(ctx);
  const socketWarnings = countSocketWarnings();
  try {
    const rawTwi = await warmRawTwiYardstick(stack, service);
    const buyers = await registerBuyers(stack.http, CLIENTS);
    await warmUpHandlers(stack, buyers[0]!);
    const eventId = await createSaleEvent(stack);
    const sale = await runSale(ctx, stack, buyers, eventId);
    const saleChecks = await checkSale(stack, eventId, sale);
    const payments = await payNewestHalf(ctx, stack, buyers, sale);
    const expiry = await awaitExpiries(stack, service, eventId, payments.unpaid);
    if (expiry.note) notes.push(expiry.note);
    const verified = await recountFromListing(stack, eventId, payments);
    const raw = await rawTwi.measure();
    keepAttempts(sale.attempts);
    const unhandled = await countUnhandled(stack.logFile);
    const checks = [
      ...saleChecks,
      payments.check,
      expiry.check,
      ...verified.checks,
      check('flash sale: the stack logged no unhandled error', unhandled === 0, `${unhandled} "Unhandled error" lines in its log`),
    ];
    const run: SaleRun = { stackStartSeconds: stack.startSeconds, sale, payments, expiry, verified, raw };
    printTables(run);
    return findingsOf(run, cpu, checks, notes);
  } finally {
    const warnings = socketWarnings.stop();
    if (warnings > 0) notes.push(`the local Step Functions endpoint queued expire invocations behind its SDK client's 50 sockets (${warnings} SDK warnings, not printed)`);
    const resent = stack.http.resent();
    if (resent > 0) notes.push(`${resent} requests sent again: the server had closed their idle keep-alive connection as they went out`);
    await stack.close();
  }
});

interface SaleStack {
  http: HttpClient;
  lambda: LambdaClient;
  adminKey: string;
  dynamoDbEndpoint: string;
  /** Where the stack logs while it runs (moved to STACK_LOG when it stops). */
  logFile: string;
  startSeconds: number;
  close(): Promise<void>;
}

interface Attempt {
  /** The buyer's index. */
  user: number;
  /** ms after the sale started */
  sent: number;
  done: number;
  ms: number;
  status: number;
  type?: string;
  booking?: SaleBooking;
  error?: string;
}

/** The stack as `npm start` runs it, with HOLD_SECONDS, its log kept in STACK_LOG when it stops. */
async function startSaleStack(ctx: BenchContext): Promise<SaleStack> {
  ctx.log(`flash sale: starting the stack (in memory, free ports, HOLD_SECONDS=${HOLD_SECONDS})`);
  const started = performance.now();
  const stack = await startIsolatedStack(STACK_NAME, { holdSeconds: HOLD_SECONDS });
  mkdirSync(resolve(STACK_LOG, '..'), { recursive: true });
  const stopStack = onCleanup('flash-sale stack', async () => {
    await stack.stop();
    mkdirSync(resolve(STACK_LOG, '..'), { recursive: true });
    if (existsSync(stack.logFile)) renameSync(stack.logFile, STACK_LOG);
  });
  const startSeconds = round(since(started) / 1000, 1);
  ctx.log(`flash sale: stack up in ${startSeconds} s at ${stack.url}`);
  const lambda = new LambdaClient({ endpoint: stack.lambdaEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const http = httpClient(stack.url);
  return {
    http,
    lambda,
    adminKey: stack.adminApiKey,
    dynamoDbEndpoint: stack.dynamoDbEndpoint,
    logFile: stack.logFile,
    startSeconds,
    async close() {
      lambda.destroy();
      http.close();
      await stopStack();
    },
  };
}

/**
 * When 500 holds expire at once, the local Step Functions endpoint (in this
 * process) invokes 500 expire Lambdas through one SDK client, and the SDK warns
 * that its 50 sockets are busy. Expected here: counted, not printed.
 */
function countSocketWarnings(): { stop(): number } {
  let count = 0;
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (String(args[0]).includes('socket usage at capacity')) count++;
    else warn(...args);
  };
  return {
    stop() {
      console.warn = warn;
      return count;
    },
  };
}

/**
 * The yardstick of this part: raw booking transactions on the stack's own
 * DynamoDB Local, in a table of their own (the functions never see it). Warmed
 * here (which warms the JVM for the sale too), measured when the sale is over.
 */
async function warmRawTwiYardstick(stack: SaleStack, service: ServiceDefinition) {
  const name = 'bench-baseline';
  await createTableCopy({ endpoint: stack.dynamoDbEndpoint, definition: tableOf(service) }, name);
  const t = benchTable(stack.dynamoDbEndpoint, name);
  const event = await createFutureEvent(eventStore(t), { name: 'baseline', total_tickets: 1_000_000, ticket_price: 1 }, 1);
  let u = 0;
  const rawOp = () => rawBooking(t.raw, name, event, `u${u++}`);
  await runFor(3000, 16, rawOp);
  return {
    /** Raw TWI per second with 16 in flight, and the median of one at a time. */
    async measure(): Promise<{ perSecond: number; ms: number }> {
      const throughput = await runFor(2500, 16, rawOp);
      const latency = await runFor(1500, 1, rawOp);
      t.close();
      return { perSecond: throughput.perSecond, ms: summarize(latency.latencies).p50 };
    },
  };
}

/** Every handler the sale and the checks use, loaded before the clock starts, on an event of its own. */
async function warmUpHandlers({ http, adminKey }: SaleStack, buyer: Buyer): Promise<void> {
  const warm = await http.expect<{ id: string }>(201, 'POST', '/events', { key: adminKey, json: eventJson('Warm-up', 10, PRICE) });
  const booking = await http.expect<{ id: string }>(201, 'POST', '/bookings', { key: buyer.key, json: { event_id: warm.id, quantity: 1 } });
  await http.expect(200, 'POST', `/bookings/${booking.id}/payment`, { key: buyer.key, json: { payment_token: 'tok_visa' } });
  await http.expect(200, 'GET', `/events/${warm.id}/stats`, { key: adminKey });
  await http.expect(200, 'GET', `/bookings?event_id=${warm.id}&limit=10`, { key: adminKey });
}

async function createSaleEvent({ http, adminKey }: SaleStack): Promise<string> {
  return (await http.expect<{ id: string }>(201, 'POST', '/events', { key: adminKey, json: eventJson('Flash sale', TOTAL_TICKETS, PRICE) })).id;
}

type Sale = ReturnType<typeof summariseSale>;

/** ATTEMPTS booking attempts of one ticket each, every buyer sending its next as soon as its last is answered. */
async function runSale(ctx: BenchContext, { http }: SaleStack, buyers: Buyer[], eventId: string): Promise<Sale> {
  ctx.log(`flash sale: ${ATTEMPTS} attempts from ${CLIENTS} clients for ${TOTAL_TICKETS} tickets`);
  const attempts: Attempt[] = [];
  let next = 0;
  const cpuBefore = cpuSnapshot();
  const saleStart = performance.now();
  await Promise.all(
    buyers.map(async (buyer, w) => {
      while (next < ATTEMPTS) {
        const i = next++;
        const sent = performance.now() - saleStart;
        try {
          const r = await http.call('POST', '/bookings', { key: buyer.key, json: { event_id: eventId, quantity: 1 }, agent: buyer.agent });
          attempts[i] = {
            user: w,
            sent,
            done: performance.now() - saleStart,
            ms: r.ms,
            status: r.status,
            type: problemType(r.body),
            booking: r.status === 201 ? (r.body as SaleBooking) : undefined,
          };
        } catch (error) {
          attempts[i] = { user: w, sent, done: performance.now() - saleStart, ms: Number.NaN, status: 0, error: String(error) };
        }
      }
    }),
  );
  const sale = summariseSale(attempts, cpuSpent(cpuBefore, cpuSnapshot()));
  ctx.log(`flash sale: ${sale.booked.length} booked, ${sale.refused.length} refused, ${sale.other.length} other in ${(sale.ms / 1000).toFixed(1)} s`);
  return sale;
}

function summariseSale(attempts: Attempt[], cpu: Record<string, number>) {
  const booked = attempts.filter((a) => a.status === 201);
  const refused = attempts.filter((a) => a.status === 409);
  const other = attempts.filter((a) => a.status !== 201 && a.status !== 409);
  const otherByStatus: Record<string, number> = {};
  for (const a of other) otherByStatus[String(a.status)] = (otherByStatus[String(a.status)] ?? 0) + 1;
  return {
    attempts,
    booked,
    refused,
    other,
    otherByStatus,
    /** The whole sale: until the last attempt was answered. */
    ms: Math.max(...attempts.map((a) => a.done)),
    cpu,
    ticketsSold: booked.reduce((n, a) => n + (a.booking?.quantity ?? 0), 0),
    sellOutMs: booked.length > 0 ? Math.max(...booked.map((a) => a.done)) : Number.NaN,
    first409Ms: refused.length > 0 ? Math.min(...refused.map((a) => a.done)) : Number.NaN,
    latency: {
      all: summarize(attempts.filter((a) => a.status !== 0).map((a) => a.ms)),
      booked: summarize(booked.map((a) => a.ms)),
      refused: summarize(refused.map((a) => a.ms)),
    },
  };
}

/** Exactly the tickets sold, every refusal the right one, no faults, and the statistics right after. */
async function checkSale({ http, adminKey }: SaleStack, eventId: string, sale: Sale): Promise<Check[]> {
  const { booked, refused, other, otherByStatus } = sale;
  const wrong409 = refused.filter((a) => a.type !== 'insufficient-tickets');
  const faults = other.filter((a) => a.status !== 503);
  const afterSale = await http.expect<EventStats>(200, 'GET', `/events/${eventId}/stats`, { key: adminKey });
  return [
    check('flash sale: tickets sold == 1000', sale.ticketsSold === TOTAL_TICKETS, `${sale.ticketsSold} tickets in ${booked.length} bookings answered 201`),
    check(
      'flash sale: every 409 is insufficient-tickets',
      wrong409.length === 0,
      wrong409.length === 0 ? `${refused.length} refusals` : `${wrong409.length} others: ${[...new Set(wrong409.map((a) => a.type))].join(', ')}`,
    ),
    check(
      'flash sale: no server faults (5xx other than 503 busy) or transport errors',
      faults.length === 0,
      faults.length === 0 ? `503 busy: ${otherByStatus['503'] ?? 0}` : `${JSON.stringify(otherByStatus)} ${faults.find((a) => a.error)?.error ?? ''}`,
    ),
    check(
      'flash sale: the sale ended within the hold (no ticket could come back on sale during it)',
      sale.ms < HOLD_SECONDS * 1000,
      `sale ${(sale.ms / 1000).toFixed(1)} s, hold ${HOLD_SECONDS} s`,
    ),
    check(
      'flash sale: stats right after the sale: 1000 held, 0 available',
      afterSale.tickets_held === TOTAL_TICKETS && afterSale.tickets_available === 0 && afterSale.bookings_pending === booked.length,
      JSON.stringify({ held: afterSale.tickets_held, available: afterSale.tickets_available, pending: afterSale.bookings_pending }),
    ),
  ];
}

type BuyersBooking = SaleBooking & { key: string; agent: Agent };

interface Payments {
  /** Every booking made, with its buyer's key and connection. */
  bookings: BuyersBooking[];
  paid: BuyersBooking[];
  unpaid: BuyersBooking[];
  confirmed: number;
  statuses: Record<string, number>;
  ms: number;
  latency: Summary;
  check: Check;
}

/** Pays the half made last (the most time left on their holds), 50 at a time; the rest are left to expire. */
async function payNewestHalf(ctx: BenchContext, { http }: SaleStack, buyers: Buyer[], sale: Sale): Promise<Payments> {
  const bookings = sale.booked.map((a) => ({ ...a.booking!, key: buyers[a.user]!.key, agent: buyers[a.user]!.agent }));
  const newestFirst = [...bookings].sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));
  const paid = newestFirst.slice(0, Math.floor(bookings.length / 2));
  const unpaid = newestFirst.slice(paid.length);
  const started = performance.now();
  const answers = await runCount(paid.length, 50, (i) =>
    http.call('POST', `/bookings/${paid[i]!.id}/payment`, { key: paid[i]!.key, json: { payment_token: 'tok_visa' }, agent: paid[i]!.agent }),
  );
  const ms = since(started);
  const confirmed = answers.filter((p) => p.status === 200).length;
  const statuses: Record<string, number> = {};
  for (const p of answers) statuses[String(p.status)] = (statuses[String(p.status)] ?? 0) + 1;
  ctx.log(`flash sale: paid ${confirmed}/${paid.length} in ${(ms / 1000).toFixed(1)} s; waiting for the other ${unpaid.length} holds to expire`);
  return {
    bookings,
    paid,
    unpaid,
    confirmed,
    statuses,
    ms,
    latency: summarize(answers.map((p) => p.ms)),
    check: check('flash sale: every payment of a live hold confirmed (200)', confirmed === paid.length, JSON.stringify(statuses)),
  };
}

interface Expiry {
  firstExpiry: number;
  lastExpiry: number;
  /** Bookings still PENDING, from shortly before the first expires_at, in s after the last one. */
  series: { s: number; pending: number }[];
  /** What the sweeper answered, when it had to be run by hand. */
  swept: unknown;
  firstReleaseAt: number | undefined;
  /** Seconds from the last expires_at to no booking PENDING (NaN when that never came). */
  releaseLagS: number;
  check: Check;
  note?: string;
}

/**
 * The unpaid half expires through its hold executions (Wait until expires_at,
 * then the expire Lambda). The sweeper is run by hand only if they lag.
 */
async function awaitExpiries({ http, adminKey, lambda }: SaleStack, service: ServiceDefinition, eventId: string, unpaid: SaleBooking[]): Promise<Expiry> {
  const firstExpiry = Math.min(...unpaid.map((b) => Date.parse(b.expires_at)));
  const lastExpiry = Math.max(...unpaid.map((b) => Date.parse(b.expires_at)));
  const series: { s: number; pending: number }[] = [];
  let swept: unknown;
  let note: string | undefined;
  let settledAt: number | undefined;
  let firstReleaseAt: number | undefined;
  for (;;) {
    const stats = await http.expect<EventStats>(200, 'GET', `/events/${eventId}/stats`, { key: adminKey });
    const now = Date.now();
    if (now >= firstExpiry - 2000) series.push({ s: round((now - lastExpiry) / 1000, 1), pending: stats.bookings_pending });
    if (firstReleaseAt === undefined && stats.bookings_pending < unpaid.length) firstReleaseAt = now;
    if (stats.bookings_pending === 0) {
      settledAt = now;
      break;
    }
    if (now > lastExpiry + GIVE_UP_AFTER_MS) break;
    if (swept === undefined && now > lastExpiry + SWEEP_AFTER_MS) {
      const out = await lambda.send(new InvokeCommand({ FunctionName: functionNamesOf(service).sweepExpiredHolds, Payload: Buffer.from('{}') }));
      swept = JSON.parse(Buffer.from(out.Payload ?? []).toString('utf8') || 'null');
      note = `holds still PENDING ${SWEEP_AFTER_MS / 1000} s after expiry: ran the sweeper by hand: ${JSON.stringify(swept)}`;
    }
    await sleep(now < firstExpiry - 3000 ? Math.min(2000, firstExpiry - 3000 - now) : 500);
  }
  const releaseLagS = settledAt === undefined ? Number.NaN : round((settledAt - lastExpiry) / 1000, 1);
  return {
    firstExpiry,
    lastExpiry,
    series,
    swept,
    firstReleaseAt,
    releaseLagS,
    note,
    check: check(
      'flash sale: every unpaid hold expired (no booking left PENDING)',
      settledAt !== undefined,
      settledAt === undefined
        ? `still pending ${GIVE_UP_AFTER_MS / 1000} s after the last expires_at`
        : `last one ${releaseLagS} s after the last expires_at${swept === undefined ? '' : ' (sweeper run by hand)'}`,
    ),
  };
}

type Verified = Awaited<ReturnType<typeof recountFromListing>>;

/** The statistics against a recount of the admin's listing (every page), and every booking's end. */
async function recountFromListing({ http, adminKey }: SaleStack, eventId: string, payments: Payments) {
  const { listed, pages } = await listEventBookings(http, adminKey, eventId);
  const stats = await http.expect<EventStats>(200, 'GET', `/events/${eventId}/stats`, { key: adminKey });
  const { recounted: recount, reported, mismatched } = recountOfListing(listed, stats, TOTAL_TICKETS);
  const bookedIds = new Set(payments.bookings.map((b) => b.id));
  const listedIds = new Set(listed.map((b) => b.id));
  const missing = [...bookedIds].filter((id) => !listedIds.has(id));
  const extra = [...listedIds].filter((id) => !bookedIds.has(id));
  const paidIds = new Set(payments.paid.map((b) => b.id));
  const wrongEnd = listed.filter((b) => (paidIds.has(b.id) ? b.status !== 'CONFIRMED' : b.status !== 'CANCELLED' || b.cancel_reason !== 'PAYMENT_TIMEOUT'));
  const accounted = stats.tickets_sold + stats.tickets_held + stats.tickets_available;
  return {
    stats,
    recount,
    pages,
    checks: [
      check(
        'flash sale: stats == recount of GET /bookings?event_id= (all pages)',
        mismatched.length === 0,
        mismatched.length === 0 ? JSON.stringify(reported) : `differ in ${mismatched.join(', ')}: stats ${JSON.stringify(reported)} recount ${JSON.stringify(recount)}`,
      ),
      check(
        'flash sale: the listing holds exactly the 201 bookings',
        missing.length === 0 && extra.length === 0 && listed.length === bookedIds.size,
        `${listed.length} listed in ${pages} pages, ${missing.length} missing, ${extra.length} unknown`,
      ),
      check(
        'flash sale: every booking paid (CONFIRMED) or expired (CANCELLED, PAYMENT_TIMEOUT)',
        wrongEnd.length === 0 && accounted === stats.total_tickets,
        `${recount.bookings_confirmed} confirmed, ${recount.bookings_cancelled} expired, ${wrongEnd.length} otherwise; sold + held + available = ${accounted}`,
      ),
    ],
  };
}

/** Every attempt, for a closer look (sent and answered, ms after the sale started). */
function keepAttempts(attempts: Attempt[]): void {
  writeFileSync(
    ATTEMPTS_FILE,
    JSON.stringify({ fields: ['user', 'sent_ms', 'done_ms', 'status', 'type'], rows: attempts.map((a) => [a.user, Math.round(a.sent), Math.round(a.done), a.status, a.type ?? null]) }),
  );
}

interface SaleRun {
  stackStartSeconds: number;
  sale: Sale;
  payments: Payments;
  expiry: Expiry;
  verified: Verified;
  /** The raw TWI yardstick: per second with 16 in flight, and ms one at a time. */
  raw: { perSecond: number; ms: number };
}

/** The sell-out time of 1,000 raw transactions at the engine's rate. */
const rawFloorMs = (run: SaleRun) => (TOTAL_TICKETS / run.raw.perSecond) * 1000;

function printTables(run: SaleRun): void {
  const { sale, payments, expiry, raw } = run;
  const latencyRow = (label: string, s: Summary) => [
    label,
    fmt.n(s.n),
    fmt.ms(s.p50),
    fmt.ms(s.p95),
    fmt.ms(s.p99),
    fmt.ms(s.max),
    `${(s.p50 / raw.ms).toFixed(1)} / ${(s.p95 / raw.ms).toFixed(1)} / ${(s.p99 / raw.ms).toFixed(1)}`,
  ];
  console.log(
    table(
      `Flash sale over HTTP: ${ATTEMPTS} attempts, ${CLIENTS} clients, ${TOTAL_TICKETS} tickets (stack up in ${run.stackStartSeconds} s)`,
      ['figure', 'value', 'as a ratio'],
      [
        ['tickets sold (201)', `${sale.ticketsSold}`, ''],
        ['answered 201 / 409 / other', `${sale.booked.length} / ${sale.refused.length} / ${sale.other.length}`, sale.other.length ? JSON.stringify(sale.otherByStatus) : ''],
        ['time to sell out (last 201 answered)', fmt.ms(sale.sellOutMs, 0), `${(sale.sellOutMs / rawFloorMs(run)).toFixed(1)}x 1,000 raw TWI at the engine's rate`],
        ['first 409 answered at', fmt.ms(sale.first409Ms, 0), ''],
        ['whole sale (all 5,000 answered)', fmt.ms(sale.ms, 0), `${fmt.n((ATTEMPTS / sale.ms) * 1000)} attempts/s`],
        ['payments (500, 50 in flight)', fmt.ms(payments.ms, 0), `p50 ${fmt.ms(payments.latency.p50)}, p95 ${fmt.ms(payments.latency.p95)}`],
        ['last hold released after its expires_at', `${expiry.releaseLagS} s`, expiry.swept === undefined ? 'by the hold executions' : 'sweeper run by hand'],
        ['raw TWI on this DynamoDB Local', `${fmt.n(raw.perSecond)}/s (16 in flight)`, `${fmt.ms(raw.ms)} one at a time`],
      ],
    ),
  );
  console.log(
    table(
      'Flash sale latency (client side, whole request)',
      ['answers', 'n', 'p50', 'p95', 'p99', 'max', 'p50/p95/p99 in raw TWI round trips'],
      [latencyRow('all', sale.latency.all), latencyRow('201 booked', sale.latency.booked), latencyRow('409 sold out', sale.latency.refused)],
    ),
  );
  const cpuTotal = Object.values(sale.cpu).reduce((n, v) => n + v, 0);
  console.log(
    table(
      `Where the CPU went during the sale (${(sale.ms / 1000).toFixed(1)} s of wall time on ${cpus().length} cores)`,
      ['process', 'CPU s', 'share', 'ms per attempt'],
      Object.entries(sale.cpu)
        .sort((a, b) => b[1] - a[1])
        .map(([name, sec]) => [name, sec.toFixed(1), `${((sec / cpuTotal) * 100).toFixed(0)}%`, ((sec * 1000) / ATTEMPTS).toFixed(2)]),
    ),
  );
}

function findingsOf(run: SaleRun, cpu: CpuBaseline, checks: Check[], notes: string[]): Findings {
  const { sale, payments, expiry, verified, raw } = run;
  return {
    figures: {
      settings: { total_tickets: TOTAL_TICKETS, attempts: ATTEMPTS, clients: CLIENTS, hold_seconds: HOLD_SECONDS, price: PRICE },
      stack_start_s: run.stackStartSeconds,
      tickets_sold: sale.ticketsSold,
      answered: { '201': sale.booked.length, '409': sale.refused.length, other: sale.other.length, other_by_status: sale.otherByStatus },
      latency_ms: sale.latency,
      sell_out_ms: round(sale.sellOutMs, 0),
      sale_cpu_seconds: sale.cpu,
      first_409_ms: round(sale.first409Ms, 0),
      sale_ms: round(sale.ms, 0),
      attempts_per_second: round((ATTEMPTS / sale.ms) * 1000, 1),
      payments: { count: payments.paid.length, confirmed: payments.confirmed, statuses: payments.statuses, ms: round(payments.ms, 0), latency_ms: payments.latency },
      expiry: {
        unpaid: payments.unpaid.length,
        first_release_after_first_expiry_s: expiry.firstReleaseAt === undefined ? null : round((expiry.firstReleaseAt - expiry.firstExpiry) / 1000, 1),
        last_release_after_last_expiry_s: expiry.releaseLagS,
        sweeper_run_by_hand: expiry.swept ?? null,
        pending_series: expiry.series,
      },
      final_stats: verified.stats,
      recount: verified.recount,
      listing_pages: verified.pages,
      baseline: {
        raw_twi_per_second: round(raw.perSecond, 1),
        raw_twi_ms: round(raw.ms, 2),
        cpu_yardstick_ms: cpu.ms,
      },
      ratios: {
        sell_out_vs_raw_twi_floor: round(sale.sellOutMs / rawFloorMs(run), 2),
        p50_in_raw_twi: round(sale.latency.all.p50 / raw.ms, 1),
        p95_in_raw_twi: round(sale.latency.all.p95 / raw.ms, 1),
        p99_in_raw_twi: round(sale.latency.all.p99 / raw.ms, 1),
        p50_in_cpu_yardsticks: round(sale.latency.all.p50 / cpu.ms, 2),
        sell_out_in_cpu_yardsticks: round(sale.sellOutMs / cpu.ms, 1),
      },
      stack_log: STACK_LOG,
      attempts_file: ATTEMPTS_FILE,
    },
    checks,
    targets: [],
    notes,
  };
}

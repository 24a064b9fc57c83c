/**
 * Part 4. Cost per booking. The DynamoDB read and write units one booking's whole
 * life consumes (create, pay or expire, the hold timer's end, a stats read, and
 * the sweeper's reads), measured on DynamoDB Local with ReturnConsumedCapacity
 * added to every command by a middleware on a dedicated client, through the same
 * use cases the handlers run; beside the floor the table design allows; then the
 * AWS bill per million bookings (bench/prices.ts), with one Step Functions
 * execution per batch of holds, as many holds per execution as the design's
 * flash sale under the model measured (bench/support/hold-timers.ts).
 */
import { randomUUID } from 'node:crypto';
import { GetItemCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { localClient } from '../../localstack/dynamodb-local';
import { simulatedGateway } from '../../lib/adapters/simulated-gateway';
import { type Booking, toBookingView } from '../../lib/domain/booking';
import type { Caller } from '../../lib/domain/caller';
import type { EventWithStock } from '../../lib/domain/event';
import { idempotently, requestFingerprint } from '../../lib/http/idempotency';
import type { Table } from '../../lib/store/client';
import { eventStore } from '../../lib/store/events';
import { idempotencyStore } from '../../lib/store/idempotency';
import { keys } from '../../lib/store/keys';
import { userStore } from '../../lib/store/users';
import { NO_COPY } from '../../lib/store/recent-events';
import { authenticate } from '../../lib/usecases/authenticate';
import { createBooking } from '../../lib/usecases/bookings';
import { getEvent } from '../../lib/usecases/events';
import { expireHold, payBooking } from '../../lib/usecases/holds';
import { registerUser } from '../../lib/usecases/users';
import { stateMachinesOf } from '../../localstack/service';
import { PRICES } from '../prices';
import { type Consumption, itemSize, meterCapacity } from '../support/capacity';
import { createTableCopy, documentClientFor } from '../support/dynamo';
import { lastHoldTimers } from '../support/hold-timers';
import { definePart } from '../support/part';
import { fmt, table, target } from '../support/report';
import { round } from '../support/stats';
import { bookingDepsOn, createFutureEvent } from '../support/wiring';

const TABLE = 'bench-cost';
const HOLD_SECONDS = 900;
/** Assumptions of the life (stated in BENCHMARKS.md). */
const PAID_SHARE = 0.5;
const STATS_READS_PER_BOOKING = 1;
/** Lambda durations used when the cold-start part did not run (a stated estimate). */
const ESTIMATED_MS = 20;
/** The issue's targets, per million bookings. */
const STEP_FUNCTIONS_TARGET_USD = 1;
const TOTAL_TARGET_USD = 30;
/** Live holds, none due, that the sweeper's cost is measured on. */
const SWEEP_HOLDS = 40;

const KB = (bytes: number) => Math.ceil(bytes / 1024);

interface Step {
  step: string;
  /** What DynamoDB Local reported. */
  measured: Consumption;
  /** What AWS bills for what the code writes, from the items' sizes. */
  expected: { read: number; write: number };
  floor: { read: number; write: number; why: string };
}

export const cost = definePart('cost', async (ctx) => {
  const dynamo = await ctx.dynamo();
  const service = await ctx.service();
  await createTableCopy(dynamo, TABLE);
  const raw = localClient(dynamo.endpoint);
  const meter = meterCapacity(raw);
  const t: Table = { client: documentClientFor(raw), name: TABLE };
  const plain = localClient(dynamo.endpoint); // unmetered, for reading item sizes
  const users = userStore(t);
  const events = eventStore(t);
  const idempotency = idempotencyStore(t);
  const gateway = simulatedGateway({ latencyMs: 0 });
  // Every booking reads its event here (no copy kept): the cost of a booking in a
  // function that has not read the event lately, the dearer case.
  const deps = bookingDepsOn(t, { eventCopy: NO_COPY, holdSeconds: HOLD_SECONDS });
  const afterHold = { ...deps, clock: () => new Date(Date.now() + (HOLD_SECONDS + 1) * 1000) };
  const adminKey = `adm_bench_cost_${Date.now()}_0123456789`;

  try {
    const user = await registerUser(users, { name: 'Cost', email: `cost.${Date.now()}@example.org` }, new Date());
    const bearer = `Bearer ${user.api_key}`;
    const eventOf = (maxPerUser: number | null): Promise<EventWithStock> =>
      createFutureEvent(
        events,
        {
          name: 'Cost of a booking',
          description: 'An event with a realistic description of a few sentences, so that the event item has the size it would have in production.',
          total_tickets: 1000,
          ticket_price: '49.90',
          max_per_user: maxPerUser,
        },
        30,
      );
    const event = await eventOf(null);
    const capped = await eventOf(4);

    /** POST /bookings as functions/bookings.ts runs it: the authorizer, then the handler's use case. */
    const postBooking = async (eventId: string, idempotencyKey?: string): Promise<Booking> => {
      const caller = (await authenticate(users, adminKey, bearer)) as Extract<Caller, { role: 'user' }>;
      const body = { event_id: eventId, quantity: 1 };
      const scope = idempotencyKey === undefined ? undefined : { user_id: caller.user_id, operation: 'POST /bookings', key: idempotencyKey };
      let made: Booking | undefined;
      await idempotently(idempotency, scope, requestFingerprint('/bookings', body), randomUUID(), async (complete) => {
        const respond = (b: Booking) => ({ status: 201, headers: { location: `/bookings/${b.id}` }, body: toBookingView(b) });
        made = await createBooking(deps, { user_id: caller.user_id, ...body }, complete && ((b) => complete(respond(b))));
        return respond(made);
      });
      return made!;
    };
    const pay = async (b: Booking) => {
      const caller = await authenticate(users, adminKey, bearer);
      return payBooking({ ...deps, gateway }, b.id, caller, 'tok_visa');
    };
    const stats = async (eventId: string) => {
      await authenticate(users, adminKey, `Bearer ${adminKey}`);
      return getEvent(events, eventId);
    };

    // Warm the path once (first calls create nothing the later ones would not).
    await postBooking(event.id);

    const create = await meter.measure(() => postBooking(event.id));
    const keyedKey = `order-${randomUUID()}`;
    const createKeyed = await meter.measure(() => postBooking(event.id, keyedKey));
    const createCapped = await meter.measure(() => postBooking(capped.id));
    const paid = await meter.measure(() => pay(create.result));
    const holdEndPaid = await meter.measure(() => expireHold(afterHold, create.result.id));
    const unpaidBooking = await postBooking(event.id);
    const holdEndUnpaid = await meter.measure(() => expireHold(afterHold, unpaidBooking.id));
    const statsRead = await meter.measure(() => stats(event.id));
    if (holdEndPaid.result !== 'already-final' || holdEndUnpaid.result !== 'expired') {
      throw new Error(`unexpected hold ends: ${holdEndPaid.result}, ${holdEndUnpaid.result}`);
    }

    // The sweeper reads each bucket of the live holds (gsi4) up to now, and no
    // further: measured on live holds none of which is due, in a table of their own.
    await createTableCopy(dynamo, `${TABLE}-sweep`);
    const st: Table = { client: documentClientFor(raw), name: `${TABLE}-sweep` };
    const sweepDeps = bookingDepsOn(st, { holdSeconds: HOLD_SECONDS });
    const sweepEvent = await createFutureEvent(eventStore(st), { name: 'Sweep', total_tickets: 100, ticket_price: 1 }, 1);
    for (let i = 0; i < SWEEP_HOLDS; i++) await createBooking(sweepDeps, { user_id: `sweep-${i}`, event_id: sweepEvent.id, quantity: 1 });
    const sweep = await meter.measure(() => sweepDeps.bookings.expiredPending(new Date(), 500));
    if (sweep.result.length !== 0) throw new Error(`the sweeper found ${sweep.result.length} holds due among ${SWEEP_HOLDS} just made`);
    const sweepsPerMonth = 60 * 24 * 30;

    // A refusal reads every shard (only a fresh read of all of them may refuse):
    // measured on a sold-out event of 10 shards, in a function with no copy of it.
    const small = await createFutureEvent(events, { name: 'Sold out', total_tickets: 10, ticket_price: '49.90', stock_shards: 10 }, 30);
    for (let i = 0; i < 10; i++) await postBooking(small.id);
    const refusal = await meter.measure(() => postBooking(small.id).then(() => 'booked', (error: Error) => error.name));
    if (refusal.result !== 'InsufficientTicketsError') throw new Error(`a booking of a sold-out event ended ${refusal.result}`);

    // Item sizes, for the model of what AWS bills and for the floor.
    const keyed = createKeyed.result;
    const sizeOf = async (key: Record<string, string>, without: string[] = []) => {
      const item = (await plain.send(new GetItemCommand({ TableName: TABLE, Key: marshall(key), ConsistentRead: true }))).Item;
      if (!item) return 0;
      for (const name of without) delete item[name];
      return itemSize(item);
    };
    /** A booking's gsi4 entry (KEYS_ONLY): the table's keys and the index's. */
    const holdEntryOf = async (id: string) => {
      const item = (await plain.send(new GetItemCommand({ TableName: TABLE, Key: marshall(keys.booking(id)), ConsistentRead: true }))).Item;
      return item ? itemSize({ pk: item.pk!, sk: item.sk!, gsi4pk: item.gsi4pk!, gsi4sk: item.gsi4sk! }) : 0;
    };
    const idemKey = keys.idempotency(user.id, 'POST /bookings', keyedKey);
    const sizes = {
      event: await sizeOf(keys.event(event.id)),
      stock_shard: await sizeOf(keys.stock(event.id, create.result.stock_shard ?? 0)),
      booking_pending: await sizeOf(keys.booking(keyed.id)),
      hold_entry_gsi4: await holdEntryOf(keyed.id),
      booking_confirmed: await sizeOf(keys.booking(create.result.id)),
      booking_cancelled: await sizeOf(keys.booking(unpaidBooking.id)),
      tally: await sizeOf(keys.tally(event.id, user.id)),
      idempotency_claim: await sizeOf(idemKey, ['response', 'completed_at']),
      idempotency_completed: await sizeOf(idemKey),
    };
    const shards = event.stock_shards;

    // What AWS bills for exactly what the code writes, from the items' sizes: a
    // transactional write costs 2 units per KB for the item and (as DynamoDB Local
    // accounts it) 2 per KB for each index entry it rewrites; an index entry whose
    // key changes is a delete of the old entry and a put of the new one. No booking
    // writes the event item now: its counters are on the stock shard the booking
    // took from (no index), and a PENDING booking has a fourth index entry, its
    // live hold (gsi4, KEYS_ONLY), removed with its first change. A strongly
    // consistent read up to 4 KB: 1 unit, per item (a BatchGetItem of the shards too).
    const s = KB(sizes.stock_shard);
    const t = KB(sizes.tally);
    const bp = KB(sizes.booking_pending);
    const bc = KB(sizes.booking_confirmed);
    const bx = KB(sizes.booking_cancelled);
    const h = KB(sizes.hold_entry_gsi4);
    const shardWrite = 2 * s;
    const bookingPut = 2 * bp * 4 + 2 * h;
    const moved = (from: number, to: number) => 2 * to + 2 * to + 2 * (from + to) + 2 * (from + to) + 2 * h;
    const createWrites = shardWrite + 2 * t + bookingPut;
    // The floor: only what the design cannot do without. The booking, its index
    // entries and the counters of its shard; no tally for an uncapped event, no
    // Idempotency-Key, nothing for a paid booking's hold end; reads eventually
    // consistent (0.5 unit per 4 KB) of each item a step must see.
    const steps: Step[] = [
      {
        step: 'POST /bookings (authorizer + create)',
        measured: create.used,
        expected: { read: 2, write: createWrites },
        floor: { read: 1, write: shardWrite + bookingPut, why: 'a stock shard, booking + 4 index entries; reads: key, event' },
      },
      {
        step: 'POST /bookings with Idempotency-Key',
        measured: createKeyed.used,
        expected: { read: 2, write: createWrites + KB(sizes.idempotency_claim) + 2 * KB(sizes.idempotency_completed) },
        floor: { read: 1, write: shardWrite + bookingPut, why: 'the same (remembering the key is a feature, not a necessity)' },
      },
      {
        step: 'POST /bookings, event with max_per_user',
        measured: createCapped.used,
        expected: { read: 3, write: createWrites },
        floor: { read: 1.5, write: shardWrite + bookingPut + 2 * t, why: '+ the tally, read and written' },
      },
      {
        step: 'POST /bookings/{id}/payment (authorizer + pay)',
        measured: paid.used,
        expected: { read: 2, write: moved(bp, bc) + shardWrite },
        floor: { read: 1, write: moved(bp, bc) + shardWrite, why: 'booking + gsi1 entry, gsi2 and gsi3 entries moved (delete + put), gsi4 entry deleted, its shard' },
      },
      {
        step: 'hold timer ends, booking paid (expire Lambda, per hold)',
        measured: holdEndPaid.used,
        expected: { read: 1, write: 0 },
        floor: { read: 0, write: 0, why: 'nothing (the payment could take the hold out of its batch)' },
      },
      {
        step: 'hold timer ends, booking unpaid (expire Lambda, per hold)',
        measured: holdEndUnpaid.used,
        expected: { read: 1, write: moved(bp, bx) + shardWrite + 2 * t },
        floor: { read: 0.5, write: moved(bp, bx) + shardWrite, why: 'as a payment; the tally write is needed only with max_per_user' },
      },
      {
        step: `GET /events/{id}/stats (admin; ${shards} shards)`,
        measured: statsRead.used,
        expected: { read: 1 + shards, write: 0 },
        floor: { read: 0.5 * (1 + shards), write: 0, why: 'the event item and each of its shards (the admin key needs no read)' },
      },
    ];
    const disagree = steps.filter((x) => x.measured.read !== x.expected.read || x.measured.write !== x.expected.write);

    // DynamoDB Local's own accounting of transactions, checked: two Puts of the same
    // size in one TransactWriteItems should cost 2 x 2 units.
    const probe = await meter.measure(() =>
      raw.send(
        new TransactWriteItemsCommand({
          TransactItems: [0, 1].map((i) => ({ Put: { TableName: `${TABLE}-sweep`, Item: marshall({ pk: `PROBE#${i}`, sk: 'PROBE', pad: 'x'.repeat(500) }) } })),
        }),
      ),
    );

    const life = (paidShare: number) => {
      const m = (x: { read: number; write: number }, k: number) => ({ read: x.read * k, write: x.write * k });
      const parts = [
        m(steps[0]!.expected, 1),
        m(steps[3]!.expected, paidShare),
        m(steps[4]!.expected, paidShare),
        m(steps[5]!.expected, 1 - paidShare),
        m(steps[6]!.expected, STATS_READS_PER_BOOKING),
        // The sweeper reads a hold only once it is due and no timer ended it: none, in the normal course.
      ];
      const floorParts = [
        steps[0]!.floor,
        { read: steps[3]!.floor.read * paidShare, write: steps[3]!.floor.write * paidShare },
        { read: steps[5]!.floor.read * (1 - paidShare), write: steps[5]!.floor.write * (1 - paidShare) },
        { read: steps[6]!.floor.read * STATS_READS_PER_BOOKING, write: 0 },
      ];
      const sum = (xs: { read: number; write: number }[]) => xs.reduce((n, x) => ({ read: n.read + x.read, write: n.write + x.write }), { read: 0, write: 0 });
      return { measured: sum(parts), floor: sum(floorParts) };
    };
    const lives = { paid: life(1), expired: life(0), blended: life(PAID_SHARE) };

    // Step Functions: one execution per batch of holds, as many holds each as the
    // design's sale under the model measured (the last run of like-aws), or one
    // each (the worst case: a quiet service) when it never ran here.
    const measuredTimers = lastHoldTimers();
    const holdsPerExecution = measuredTimers && measuredTimers.holdsPerExecution > 0 ? measuredTimers.holdsPerExecution : 1;
    const holdsPerConsumerCall = measuredTimers && measuredTimers.consumerInvocations > 0 ? measuredTimers.holds / measuredTimers.consumerInvocations : 1;
    const timersSource = measuredTimers
      ? `${measuredTimers.holds} holds in ${measuredTimers.executions} executions and ${measuredTimers.consumerInvocations} stream-consumer invocations, in the flash sale "${measuredTimers.variant}" at ${measuredTimers.bookings_per_second} bookings/s (like-aws, ${measuredTimers.measured_at})`
      : 'no flash sale under the model measured here yet: one hold per execution, the worst case';

    // The AWS bill per million bookings.
    const coldStart = ctx.results['cold-start']?.figures as { functions?: { fn: string; warm_invocation_ms: number }[] } | undefined;
    const measuredMs = (fn: string) => coldStart?.functions?.find((f) => f.fn === fn)?.warm_invocation_ms;
    const ms = (fn: string) => Math.ceil(measuredMs(fn) ?? ESTIMATED_MS);
    const durationSource = coldStart ? 'warm invocations measured by the cold-start part (this run), rounded up to 1 ms' : `an estimate of ${ESTIMATED_MS} ms each (cold-start part not run)`;
    // [function, invocations per booking, billed ms per booking]. The expire Lambda
    // ends a batch in one invocation; its time is counted per hold, as if it ended
    // them one after the other (it ends 8 at once).
    const invocations: [string, number, number][] = [
      ['authorizer', 1 + PAID_SHARE + STATS_READS_PER_BOOKING, (1 + PAID_SHARE + STATS_READS_PER_BOOKING) * ms('authorizer')],
      ['createBooking', 1, ms('createBooking')],
      ['payBooking', PAID_SHARE, PAID_SHARE * ms('payBooking')],
      ['startHoldTimers', 1 / holdsPerConsumerCall, ms('startHoldTimers') / holdsPerConsumerCall],
      ['expireBooking', 1 / holdsPerExecution, ms('expireBooking')],
      ['eventStats', STATS_READS_PER_BOOKING, STATS_READS_PER_BOOKING * ms('eventStats')],
    ];
    const lambdaRequests = invocations.reduce((n, [, k]) => n + k, 0);
    const lambdaMs = invocations.reduce((n, [, , t]) => n + t, 0);
    const gbSeconds = (lambdaMs / 1000) * (PRICES.lambda.memoryMb / 1024);
    const httpRequests = 1 + PAID_SHARE + STATS_READS_PER_BOOKING;
    const [machine] = stateMachinesOf(service);
    const transitions = transitionsOf(machine?.definition);
    const executionsPerMillion = 1e6 / holdsPerExecution;
    const stepFunctionsPerMillion = (transitions * executionsPerMillion * PRICES.stepFunctions.perThousandTransitions) / 1000;
    const w = lives.blended.measured.write;
    const r = lives.blended.measured.read;
    const bill = [
      { item: 'DynamoDB writes', perMillion: w * PRICES.dynamodb.perMillionWriteUnits, arithmetic: `${round(w, 2)} WRU x $${PRICES.dynamodb.perMillionWriteUnits}` },
      { item: 'DynamoDB reads', perMillion: r * PRICES.dynamodb.perMillionReadUnits, arithmetic: `${round(r, 2)} RRU x $${PRICES.dynamodb.perMillionReadUnits}` },
      { item: 'Lambda requests', perMillion: lambdaRequests * PRICES.lambda.perMillionRequests, arithmetic: `${round(lambdaRequests, 3)} invocations x $${PRICES.lambda.perMillionRequests}` },
      {
        item: 'Lambda compute',
        perMillion: gbSeconds * 1e6 * PRICES.lambda.perGbSecond,
        arithmetic: `${round(lambdaMs, 1)} ms x 0.5 GB = ${round(gbSeconds, 4)} GB-s x 1e6 x $${PRICES.lambda.perGbSecond}`,
      },
      { item: 'HTTP API', perMillion: httpRequests * PRICES.httpApi.perMillionRequests, arithmetic: `${httpRequests} requests x $${PRICES.httpApi.perMillionRequests}` },
      {
        item: 'Step Functions (Standard)',
        perMillion: stepFunctionsPerMillion,
        arithmetic: `${transitions} transitions x ${fmt.n(executionsPerMillion, 0)} executions (1e6 / ${round(holdsPerExecution, 1)} holds each) / 1000 x $${PRICES.stepFunctions.perThousandTransitions}`,
      },
    ];
    const total = bill.reduce((n, x) => n + x.perMillion, 0);

    console.log(
      table(
        'DynamoDB capacity per step: measured (DynamoDB Local, ReturnConsumedCapacity TOTAL), AWS rules on the item sizes, and the floor of the table design',
        ['step', 'measured RRU', 'measured WRU', 'calls (units reported)', 'AWS RRU', 'AWS WRU', 'floor RRU', 'floor WRU', 'floor: what must be read and written'],
        steps.map((x) => [
          x.step,
          String(x.measured.read),
          String(x.measured.write),
          x.measured.calls.join(', '),
          String(x.expected.read),
          String(x.expected.write),
          String(x.floor.read),
          String(x.floor.write),
          x.floor.why,
        ]),
      ),
    );
    console.log(
      `  item sizes (bytes): ${Object.entries(sizes).map(([k, v]) => `${k} ${v}`).join(', ')}; the sweeper: ${sweep.used.read} RRU per sweep with ${SWEEP_HOLDS} live holds none due (${sweep.used.calls.length} queries), ${fmt.usd((sweep.used.read * sweepsPerMonth * PRICES.dynamodb.perMillionReadUnits) / 1e6, 4)} a month, whatever the bookings`,
    );
    console.log(
      `  a refusal (409, sold out, 10 shards, no copy of the event): ${refusal.used.read} RRU, ${refusal.used.write} WRU (${refusal.used.calls.join(', ')}); Step Functions: ${timersSource}`,
    );
    console.log(
      `  DynamoDB Local agrees with the AWS rules on ${steps.length - disagree.length} of ${steps.length} steps${disagree.length ? ` (not on: ${disagree.map((x) => x.step).join('; ')})` : ''}; its probe of two 0.5 KB Puts in one transaction reports ${probe.used.write} units (AWS: 4). The bill below uses the AWS rules.`,
    );
    console.log(
      table(
        `One booking's life (stats reads per booking: ${STATS_READS_PER_BOOKING}, of an event of ${shards} shards; the sweeper reads no hold that a timer ended)`,
        ['life', 'RRU', 'WRU', 'floor RRU', 'floor WRU', 'WRU / floor'],
        Object.entries(lives).map(([name, l]) => [
          name === 'blended' ? `blended (${PAID_SHARE * 100}% paid)` : name,
          l.measured.read.toFixed(2),
          l.measured.write.toFixed(2),
          l.floor.read.toFixed(2),
          l.floor.write.toFixed(2),
          fmt.x(l.measured.write / l.floor.write),
        ]),
      ),
    );
    console.log(
      table(
        `AWS cost per million bookings (blended life; ${PRICES.source}; Lambda durations: ${durationSource})`,
        ['item', 'per million bookings', 'arithmetic'],
        [...bill.map((x) => [x.item, fmt.usd(x.perMillion, 2), x.arithmetic]), ['total', fmt.usd(total, 2), `${fmt.usd(total / 1e6, 6)} per booking`]],
      ),
    );

    return {
      figures: {
        prices: PRICES,
        assumptions: {
          paid_share: PAID_SHARE,
          stats_reads_per_booking: STATS_READS_PER_BOOKING,
          lambda_durations: durationSource,
          stock_shards_of_the_event: shards,
          hold_timers: timersSource,
        },
        item_sizes_bytes: sizes,
        steps: steps.map((x) => ({ step: x.step, measured: { read: x.measured.read, write: x.measured.write, calls: x.measured.calls }, aws_rules: x.expected, floor: x.floor })),
        dynamodb_local_disagrees_on: disagree.map((x) => x.step),
        dynamodb_local_probe_two_puts_in_one_transaction_wru: probe.used.write,
        sweeper_rru_per_sweep: sweep.used.read,
        sweeper_usd_per_month: round((sweep.used.read * sweepsPerMonth * PRICES.dynamodb.perMillionReadUnits) / 1e6, 4),
        refusal_sold_out_10_shards: refusal.used,
        hold_timers: measuredTimers ?? null,
        holds_per_execution: holdsPerExecution,
        step_functions_executions_per_million: round(executionsPerMillion, 0),
        lives,
        lambda: { invocations: Object.fromEntries(invocations.map(([fn, k, t]) => [fn, { per_booking: round(k, 4), ms_per_booking: round(t, 2) }])), requests: lambdaRequests, ms_per_booking: lambdaMs, gb_seconds: gbSeconds },
        http_api_requests: httpRequests,
        step_functions_transitions: transitions,
        per_million_bookings: Object.fromEntries(bill.map((x) => [x.item, round(x.perMillion, 2)])),
        per_million_total: round(total, 2),
      },
      checks: [],
      targets: [
        target('cost: Step Functions per million bookings', round(stepFunctionsPerMillion, 2), 'USD', '<=', STEP_FUNCTIONS_TARGET_USD),
        target('cost: total per million bookings', round(total, 2), 'USD', '<=', TOTAL_TARGET_USD),
      ],
      notes: [
        'Capacity units do not depend on the machine; the Lambda durations do (and DynamoDB Local answers faster than DynamoDB across a network).',
      ],
    };
  } finally {
    raw.destroy();
    plain.destroy();
  }
});

/** State transitions of one execution on its happy path: every state entered from StartAt to End. */
function transitionsOf(definition: Record<string, unknown> | undefined): number {
  if (!definition) return 0;
  const states = definition.States as Record<string, { Next?: string; End?: boolean }>;
  let name = definition.StartAt as string | undefined;
  let count = 0;
  while (name && states[name] && count < 100) {
    count++;
    name = states[name]!.End ? undefined : states[name]!.Next;
  }
  return count;
}

import { DescribeExecutionCommand, type ExecutionListItem, ListExecutionsCommand, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { randomUUID } from 'node:crypto';
import { startIsolatedStack, type IsolatedStack } from '../../localstack/isolated-stack';
import { inBatches } from '../support/batches';
import { notAProblem } from '../support/expectations';
import { uniqueEmail } from '../support/fixtures';
import { AWS_LOCAL, EXPIRE_FUNCTION, lambdaInvoker, SWEEP_FUNCTION } from '../support/lambdas';
import { logSoFar } from '../support/log';
import { brief, describeResponse, loopbackUrl, okBody, type RawResponse, sendJson } from '../support/raw-http';
import { statsFromBookings } from '../support/recount';
import { clearOfScheduledSweep, settled, sleep, STACK_START_TIMEOUT, untilExpiry } from '../support/time';
import { UNDER_THE_MODEL } from '../support/under-the-model';

/**
 * Faults: DynamoDB Local killed in the middle of a booking storm and started
 * again on the same data; the Step Functions endpoint down when a booking is
 * made (the booking does not need it: its timer is started from the table's
 * stream); the expire Lambda delivered twice and late; the stack restarted while
 * a hold runs. Through all of it, no booking is lost, none exists without its
 * 201, nothing is oversold, the counters equal a recount, and no hold outlives
 * its expiry.
 *
 * Two file-backed stacks, started together: `storm` keeps the default 900 s hold,
 * so that every booking of the storm is still PENDING when its tickets are
 * counted; `hold` has HOLD_SECONDS=3, so that holds run out during the tests.
 */

const HOLD_SECONDS = 3;
/** Every request carries a deadline: a request that hangs fails the test instead of stalling it. */
const REQUEST_TIMEOUT_MS = 30_000;

let storm: IsolatedStack;
let hold: IsolatedStack;

beforeAll(async () => {
  [storm, hold] = await Promise.all([
    startIsolatedStack('chaos-faults-storm', { fileBacked: true, likeAws: UNDER_THE_MODEL }),
    startIsolatedStack('chaos-faults-hold', { fileBacked: true, holdSeconds: HOLD_SECONDS, likeAws: UNDER_THE_MODEL }),
  ]);
}, STACK_START_TIMEOUT);

afterAll(async () => {
  await Promise.all([storm?.stop(), hold?.stop()]);
});

/** A client bound to one stack, every request with a deadline. */
function clientOf(stack: IsolatedStack) {
  const base = loopbackUrl(stack);
  const call = (method: string, path: string, options: { key?: string; json?: unknown; headers?: Record<string, string> } = {}) =>
    sendJson(base, method, path, { ...options, timeoutMs: REQUEST_TIMEOUT_MS });
  return {
    call,
    admin: stack.adminApiKey,
    async user(name = 'Chaos user'): Promise<{ id: string; key: string }> {
      const body = await okBody(call('POST', '/users', { json: { name, email: uniqueEmail('chaos') } }), 201, 'POST /users');
      return { id: body.id, key: body.api_key };
    },
    event: (fields: Record<string, unknown>) =>
      okBody(call('POST', '/events', { key: stack.adminApiKey, json: { name: 'Chaos', date_time: '2027-07-01T20:00:00Z', ticket_price: 7, ...fields } }), 201, 'POST /events'),
    book: (key: string, eventId: string, quantity: number) => okBody(call('POST', '/bookings', { key, json: { event_id: eventId, quantity } }), 201, 'POST /bookings'),
    booking: (key: string, id: string) => okBody(call('GET', `/bookings/${id}`, { key }), 200, `GET /bookings/${id}`),
    stats: (eventId: string) => okBody(call('GET', `/events/${eventId}/stats`, { key: stack.adminApiKey }), 200, 'GET stats'),
    /** Every booking of the event, as the admin lists them. */
    async eventBookings(eventId: string): Promise<any[]> {
      const items: any[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 1000; page++) {
        const query: string = `/bookings?event_id=${eventId}&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const body = await okBody(call('GET', query, { key: stack.adminApiKey }), 200, query);
        items.push(...body.items);
        cursor = body.next_cursor;
        if (cursor === null) return items;
      }
      throw new Error('the listing did not end');
    },
  };
}

const problemCode = (r: RawResponse) => String(r.body?.type ?? '').replace(/^.*\/problems\//, '');

/** What a 5xx must not say: no stack, no addresses, no names of what failed inside. */
const INTERNALS = /ECONNREFUSED|ECONNRESET|127\.0\.0\.1|localhost|DynamoDB|dynamodb|TransactionCanceled|\bat [\w.<>]+ \(|node:|\.js:\d+|stack/;

/** Why a response that is not a final answer is not a clean 5xx problem, or undefined. */
function notACleanFault(r: RawResponse): string | undefined {
  if (r.status === 0) return `no response (${r.error}) within ${REQUEST_TIMEOUT_MS} ms`;
  if (r.status !== 500 && r.status !== 503) return `a ${r.status}, not a 500 or 503`;
  const why = notAProblem(r);
  if (why) return why;
  if (r.status === 503 && !/^\d+$/.test(String(r.headers['retry-after'] ?? ''))) return 'a 503 without Retry-After';
  if (INTERNALS.test(r.text)) return `internals in the body: ${brief(r.text, 200)}`;
  return undefined;
}

// ---------------------------------------------------------------------------

describe('DynamoDB Local killed in the middle of a booking storm, then started again', () => {
  const REQUESTS = 300;
  const USERS = 30;
  const TICKETS = 250;
  const RETRY_DEADLINE_MS = 150_000;

  interface Attempt {
    user: { id: string; key: string };
    idempotencyKey: string;
    body: { event_id: string; quantity: number };
    responses: RawResponse[];
  }

  let client: ReturnType<typeof clientOf>;
  let event: any;
  let attempts: Attempt[];
  let outage: { stoppedAt: number; startedAt: number };
  let finalAt: number;

  /** 201, or 409 insufficient-tickets: an answer that retrying would not change. */
  const isFinal = (r: RawResponse) => r.status === 201 || (r.status === 409 && problemCode(r) === 'insufficient-tickets');
  const last = (a: Attempt) => a.responses[a.responses.length - 1]!;
  const send = (a: Attempt) => client.call('POST', '/bookings', { key: a.user.key, json: a.body, headers: { 'idempotency-key': a.idempotencyKey } });

  beforeAll(async () => {
    client = clientOf(storm);
    event = await client.event({ total_tickets: TICKETS, max_per_booking: 10 });
    const users = await inBatches(Array.from({ length: USERS }, (_, i) => i), 10, (i) => client.user(`storm-${i}`));
    attempts = Array.from({ length: REQUESTS }, (_, i) => ({
      user: users[i % USERS]!,
      idempotencyKey: `storm-${i}-${randomUUID()}`,
      body: { event_id: event.id, quantity: 1 },
      responses: [],
    }));

    const started = Date.now();
    // The outage lands in the middle of the storm: 100 ms after the first booking
    // succeeded, when the other requests are at every stage of their way, some
    // inside the booking transaction (at 100 ms after the start, on a small
    // machine, all of them would still be in the authorizer).
    let firstBooked: () => void = () => undefined;
    const someBooked = new Promise<void>((resolve) => (firstBooked = resolve));
    const burst = Promise.all(
      attempts.map(async (a) => {
        const response = await send(a);
        a.responses.push(response);
        if (response.status === 201) firstBooked();
      }),
    );
    await Promise.race([someBooked, sleep(10_000)]);
    await sleep(100);
    await storm.faults.stopDynamoDb();
    const stoppedAt = Date.now();
    await sleep(1_500);
    await storm.faults.startDynamoDb();
    outage = { stoppedAt, startedAt: Date.now() };
    await burst;

    // Retry, with the same key and body, every request that has no final answer yet.
    while (Date.now() - started < RETRY_DEADLINE_MS) {
      const open = attempts.filter((a) => !isFinal(last(a)) && (last(a).status >= 500 || last(a).status === 0 || last(a).status === 401 || problemCode(last(a)) === 'idempotency-in-progress'));
      if (open.length === 0) break;
      await sleep(500);
      await inBatches(open, 20, async (a) => a.responses.push(await send(a)));
    }
    finalAt = Date.now();
    const first = new Map<string, number>();
    for (const a of attempts) {
      const r = a.responses[0]!;
      const kind = r.status === 201 ? '201' : `${r.status} ${problemCode(r) || brief(r.text, 40)}`;
      first.set(kind, (first.get(kind) ?? 0) + 1);
    }
    console.log(
      `storm: outage ${outage.startedAt - outage.stoppedAt} ms from ${outage.stoppedAt - started} ms; first answers ${JSON.stringify(Object.fromEntries(first))}; ` +
        `${attempts.reduce((n, a) => n + a.responses.length, 0)} requests in ${finalAt - started} ms`,
    );
  }, RETRY_DEADLINE_MS + 60_000);

  it('gives every request a final answer, 201 or 409 insufficient-tickets, when retried with the same Idempotency-Key and body', () => {
    const unfinished = attempts.filter((a) => !isFinal(last(a)));
    expect(unfinished.map((a) => `${a.idempotencyKey}: ${describeResponse(last(a))}`)).toEqual([]);
  });

  it('answered every request that did not succeed during the outage with a clean 5xx problem: 500 or 503, no internals, never a hang', () => {
    const unclean = attempts
      .flatMap((a) => a.responses.filter((r) => !isFinal(r) && problemCode(r) !== 'idempotency-in-progress').map((r) => ({ a, r, why: notACleanFault(r) })))
      .filter(({ why }) => why !== undefined);
    const kinds = new Map<string, number>();
    for (const { r, why } of unclean) kinds.set(`${why} (${brief(r.text, 120)})`, (kinds.get(`${why} (${brief(r.text, 120)})`) ?? 0) + 1);
    expect({
      outageMs: outage.startedAt - outage.stoppedAt,
      unclean: [...kinds].map(([kind, n]) => `${n} × ${kind}`),
    }).toEqual({ outageMs: expect.any(Number), unclean: [] });
  });

  it('answers every retry of a booked request with the same booking (an idempotent replay)', () => {
    const split = attempts.filter((a) => new Set(a.responses.filter((r) => r.status === 201).map((r) => r.body.id)).size > 1);
    expect(split.map((a) => a.idempotencyKey)).toEqual([]);
    const wrongOwner = attempts.filter((a) => a.responses.some((r) => r.status === 201 && (r.body.user_id !== a.user.id || r.body.event_id !== event.id)));
    expect(wrongOwner.map((a) => a.idempotencyKey)).toEqual([]);
  });

  it('lost no booking: every booking that got a 201 exists, as its owner reads it', async () => {
    const booked = attempts.filter((a) => last(a).status === 201);
    const missing: string[] = [];
    await inBatches(booked, 20, async (a) => {
      const r = await client.call('GET', `/bookings/${last(a).body.id}`, { key: a.user.key });
      if (r.status !== 200 || r.body.status !== 'PENDING' || r.body.quantity !== 1 || r.body.user_id !== a.user.id) missing.push(`${last(a).body.id}: ${describeResponse(r)}`);
    });
    expect(booked.length).toBeGreaterThan(0);
    expect(missing).toEqual([]);
  });

  it('told no lie: no 201, even one sent during the outage, names a booking that does not exist, and no booking exists without a 201', async () => {
    const promised = new Set(attempts.flatMap((a) => a.responses.filter((r) => r.status === 201).map((r) => r.body.id as string)));
    const stored = new Set((await client.eventBookings(event.id)).map((b) => b.id as string));
    expect({ promisedButMissing: [...promised].filter((id) => !stored.has(id)), storedWithout201: [...stored].filter((id) => !promised.has(id)) }).toEqual({
      promisedButMissing: [],
      storedWithout201: [],
    });
  });

  it('never oversold: exactly as many bookings as tickets, every other request refused insufficient-tickets', () => {
    // Nothing is released during this test (900 s holds, no cancellation), so the
    // final answers split exactly: one 201 per ticket, a 409 for every other request.
    const booked = new Set(attempts.filter((a) => last(a).status === 201).map((a) => last(a).body.id)).size;
    const refused = attempts.filter((a) => problemCode(last(a)) === 'insufficient-tickets').length;
    expect({ booked, refused }).toEqual({ booked: TICKETS, refused: REQUESTS - TICKETS });
  });

  it('kept the counters equal to a recount of the bookings, and sold + held + available == total', async () => {
    const stats = await client.stats(event.id);
    const items = await client.eventBookings(event.id);
    expect(stats).toEqual(statsFromBookings(event, items));
    expect(stats.tickets_sold + stats.tickets_held + stats.tickets_available).toBe(stats.total_tickets);
    expect(stats.tickets_available).toBeGreaterThanOrEqual(0);
  });

  it('wrote no key to the log, through all the errors of the outage', async () => {
    const log = await logSoFar(storm);
    expect(log).toMatch(/ECONNREFUSED/); // the outage was logged
    const keys = [storm.adminApiKey, ...new Set(attempts.map((a) => a.user.key))];
    expect(keys.filter((key) => log.includes(key)).length).toBe(0);
  });

  it('recovered: after the outage a new booking works at once', async () => {
    const user = await client.user('after-outage');
    const other = await client.event({ total_tickets: 5 });
    expect((await client.call('POST', '/bookings', { key: user.key, json: { event_id: other.id, quantity: 2 } })).status).toBe(201);
    expect(finalAt).toBeGreaterThan(outage.startedAt);
  });
});

// ---------------------------------------------------------------------------

describe('the hold under faults (HOLD_SECONDS=3)', () => {
  let client: ReturnType<typeof clientOf>;
  let sfn: SFNClient;
  let lambda: ReturnType<typeof lambdaInvoker>;

  beforeAll(() => {
    client = clientOf(hold);
    sfn = new SFNClient({ ...AWS_LOCAL, endpoint: hold.stepFunctionsEndpoint });
    lambda = lambdaInvoker(hold);
  });

  afterAll(() => {
    sfn?.destroy();
    lambda?.destroy();
  });

  /** The executions of the booking-hold state machine whose input's booking_ids include the booking, as listed now. */
  async function timersOf(bookingId: string): Promise<ExecutionListItem[]> {
    const { executions = [] } = await sfn.send(new ListExecutionsCommand({ stateMachineArn: hold.holdStateMachineArn, maxResults: 1000 }));
    const timing = await Promise.all(
      executions.map(async (e) => {
        const described = await sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn }));
        return (JSON.parse(described.input!) as { booking_ids?: string[] }).booking_ids?.includes(bookingId) ?? false;
      }),
    );
    return executions.filter((_, i) => timing[i]);
  }
  /** The booking's timer, once the stream has delivered it (about 1.25 s after the booking); fails after `deadlineMs`. */
  async function timerOf(bookingId: string, deadlineMs = 5_000): Promise<ExecutionListItem & { executionArn: string }> {
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      const [timer] = await timersOf(bookingId);
      if (timer) return timer as ExecutionListItem & { executionArn: string };
      if (Date.now() > deadline) throw new Error(`No execution of the booking-hold state machine times ${bookingId} after ${deadlineMs} ms`);
      await sleep(100);
    }
  }
  /** The booking as its owner reads it once it has left PENDING, or 15 s after its expires_at. */
  const ended = (key: string, booking: { id: string; expires_at: string }) => settled(() => client.booking(key, booking.id), booking, 15_000);

  it(
    'books while the Step Functions endpoint is down (201: the request never calls it), and the hold still ends on time once it is back, timed by the consumer retrying',
    async () => {
      // Nothing but the late timer may end these holds: no scheduled sweep within the test.
      await clearOfScheduledSweep(30_000);
      const event = await client.event({ total_tickets: 10 });
      const user = await client.user();
      const request = { key: user.key, json: { event_id: event.id, quantity: 2 }, headers: { 'idempotency-key': `sfn-down-${randomUUID()}` } };

      await hold.faults.stopStepFunctions();
      let down: RawResponse[];
      let restartedAt: number;
      try {
        down = [await client.call('POST', '/bookings', request), await client.call('POST', '/bookings', { key: user.key, json: { event_id: event.id, quantity: 1 } })];
        // Down until both holds have run out: the stream delivers them meanwhile, and no timer can start.
        await untilExpiry(down.map((r) => r.body).reduce((a, b) => (a.expires_at > b.expires_at ? a : b)), 500);
      } finally {
        restartedAt = Date.now();
        await hold.faults.startStepFunctions();
      }
      const bookings = down.map((r) => r.body);
      const whileDown = await Promise.all(bookings.map((b) => client.booking(user.key, b.id)));
      const replay = await client.call('POST', '/bookings', request);
      const final = await Promise.all(bookings.map((b) => ended(user.key, b)));
      // The executions of the endpoint that went down are lost with it: a timer listed now was started once it was back.
      const timers = await Promise.all(bookings.map((b) => timerOf(b.id)));

      expect(down.map((r) => r.status)).toEqual([201, 201]);
      expect(whileDown.map((b) => b.status)).toEqual(['PENDING', 'PENDING']);
      // The same request again is the same booking, not a second hold.
      expect({ status: replay.status, id: replay.body.id }).toEqual({ status: 201, id: bookings[0].id });
      expect(final.map((b) => ({ status: b.status, cancel_reason: b.cancel_reason }))).toEqual(
        bookings.map(() => ({ status: 'CANCELLED', cancel_reason: 'PAYMENT_TIMEOUT' })),
      );
      // Ended within seconds of Step Functions coming back, by timers the consumer started late.
      const sinceBack = (b: { cancelled_at: string }) => Date.parse(b.cancelled_at) - restartedAt;
      expect(final.map((b) => (sinceBack(b) >= 0 && sinceBack(b) < 15_000 ? 'within 15 s' : `${sinceBack(b)} ms after`))).toEqual(['within 15 s', 'within 15 s']);
      expect(timers.map((t) => t.name)).toEqual(bookings.map(() => expect.stringMatching(/^holds-/)));
      const stats = await client.stats(event.id);
      expect(stats).toEqual(statsFromBookings(event, await client.eventBookings(event.id)));
      expect(stats).toMatchObject({ tickets_held: 0, tickets_available: 10, bookings_pending: 0, bookings_cancelled: 2 });
    },
    120_000,
  );

  it(
    'expires a booking once when the expire Lambda is delivered twice, concurrently, well after expiry: the second changes nothing',
    async () => {
      await clearOfScheduledSweep((HOLD_SECONDS + 6) * 1_000);
      const event = await client.event({ total_tickets: 8 });
      const user = await client.user();
      const booking = await client.book(user.key, event.id, 2);
      // Its timer (the execution of its batch) would expire it at expires_at: stop it, so that only the two deliveries below can.
      const timer = await timerOf(booking.id);
      await sfn.send(new StopExecutionCommand({ executionArn: timer.executionArn }));
      await untilExpiry(booking, 2_000);
      expect(await client.booking(user.key, booking.id)).toMatchObject({ status: 'PENDING' });
      const before = await client.stats(event.id);

      const batch = { booking_ids: [booking.id], expires_at: booking.expires_at };
      const deliveries = await Promise.all([lambda.invoke(EXPIRE_FUNCTION, batch), lambda.invoke(EXPIRE_FUNCTION, batch)]);
      const afterTwo = await client.stats(event.id);
      const third = await lambda.invoke(EXPIRE_FUNCTION, batch);

      expect(deliveries.map((d) => d.error)).toEqual([undefined, undefined]);
      expect(deliveries.map((d) => d.result).sort((a, b) => b.expired - a.expired)).toEqual([
        { holds: 1, expired: 1, already_final: 0, not_found: 0 },
        { holds: 1, expired: 0, already_final: 1, not_found: 0 },
      ]);
      expect(third).toEqual({ error: undefined, result: { holds: 1, expired: 0, already_final: 1, not_found: 0 } });
      expect(await client.booking(user.key, booking.id)).toMatchObject({ status: 'CANCELLED', cancel_reason: 'PAYMENT_TIMEOUT' });
      // Released exactly once.
      expect(afterTwo).toEqual({
        ...before,
        tickets_held: before.tickets_held - 2,
        tickets_available: before.tickets_available + 2,
        bookings_pending: before.bookings_pending - 1,
        bookings_cancelled: before.bookings_cancelled + 1,
      });
      expect(await client.stats(event.id)).toEqual(afterTwo);
    },
    90_000,
  );

  it(
    'ends a hold whose timer was lost when the stack restarted: the sweeper cancels it (PAYMENT_TIMEOUT) and its tickets come back',
    async () => {
      // Nothing but the sweeper invoked below may end this hold: no scheduled sweep within the test.
      await clearOfScheduledSweep((HOLD_SECONDS + 6) * 1_000);
      const event = await client.event({ total_tickets: 6 });
      const user = await client.user();
      const booking = await client.book(user.key, event.id, 3);
      expect(await client.stats(event.id)).toMatchObject({ tickets_held: 3, tickets_available: 3 });
      const timer = await timerOf(booking.id);

      // The Step Functions endpoint restarts mid-hold: its executions are lost, as when `npm start` restarts.
      // The stream delivered the booking once, its timer started: nothing starts it again.
      await hold.faults.stopStepFunctions();
      await hold.faults.startStepFunctions();
      await expect(sfn.send(new DescribeExecutionCommand({ executionArn: timer.executionArn }))).rejects.toMatchObject({ name: 'ExecutionDoesNotExist' });

      await untilExpiry(booking, 1_500);
      const beforeSweep = await client.booking(user.key, booking.id);
      const swept = await lambda.invoke(SWEEP_FUNCTION, {});

      expect(beforeSweep.status).toBe('PENDING');
      expect(swept.error).toBeUndefined();
      expect(swept.result.expired).toBeGreaterThanOrEqual(1);
      expect(await client.booking(user.key, booking.id)).toMatchObject({ status: 'CANCELLED', cancel_reason: 'PAYMENT_TIMEOUT' });
      expect(await client.stats(event.id)).toMatchObject({ tickets_held: 0, tickets_available: 6, bookings_pending: 0, bookings_cancelled: 1 });
    },
    90_000,
  );
});

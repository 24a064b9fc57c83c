import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  type ExecutionListItem,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SFNClient,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { startIsolatedStack, type IsolatedStack } from '../../localstack/isolated-stack';
import { BATCH_SPAN_MS, batchId } from '../../lib/usecases/hold-timers';
import { expectProblem } from '../support/expectations';
import { AWS_LOCAL, EXPIRE_FUNCTION, lambdaInvoker, SWEEP_FUNCTION } from '../support/lambdas';
import { logEntries, logSoFar } from '../support/log';
import { statsFromBookings } from '../support/recount';
import { CLEAR_OF_SWEEP_TIMEOUT_MS, clearOfScheduledSweep, settled as settledBooking, sleep, STACK_START_TIMEOUT, untilExpiry } from '../support/time';
import { type ApiResponse, type StackClient, stackClient } from './client';
import { UNDER_THE_MODEL } from '../support/under-the-model';

/**
 * The hold (API.md, Bookings): a booking still PENDING at `expires_at` becomes
 * CANCELLED with PAYMENT_TIMEOUT and its tickets go back on sale, within seconds.
 * Its timer is started from the table's stream, not by the booking's request: an
 * execution of the booking-hold state machine whose input's `booking_ids` include
 * the booking (README, "How holds are timed"). This file runs its own stack with
 * HOLD_SECONDS=2, so that holds run out during the tests; its output goes to
 * .data/hold-stack.log.
 */

const HOLD_SECONDS = 2;
const HOLD_STATE_MACHINE_NAME = 'ticket-booking-dev-booking-hold';

/** "Within seconds": how long after expires_at a hold may take to end before a test gives up on it. */
const EXPIRY_DEADLINE_MS = 10_000;
/**
 * How long a new booking may wait for its timer: the stream's mapping gathers
 * records for up to a second (batchWindow) and the local reader polls four times a
 * second, so a timer starts about 1.25 s after its booking; the rest is slack.
 */
const TIMER_DEADLINE_MS = 5_000;

let stack: IsolatedStack;
let client: StackClient;
let sfn: SFNClient;
let lambda: ReturnType<typeof lambdaInvoker>;

beforeAll(async () => {
  stack = await startIsolatedStack('hold-stack', { holdSeconds: HOLD_SECONDS, likeAws: UNDER_THE_MODEL });
  client = stackClient(stack);
  sfn = new SFNClient({ ...AWS_LOCAL, endpoint: stack.stepFunctionsEndpoint });
  lambda = lambdaInvoker(stack);
}, STACK_START_TIMEOUT);

afterAll(async () => {
  sfn?.destroy();
  lambda?.destroy();
  await stack?.stop();
});

interface Booking {
  id: string;
  status: string;
  quantity: number;
  amount: number;
  created_at: string;
  expires_at: string;
  confirmed_at: string | null;
  cancelled_at: string | null;
  cancel_reason: string | null;
  payment_id: string | null;
}

/** A new user and event, and a PENDING booking of `quantity` of its tickets. */
async function pendingBooking(eventFields: Record<string, unknown> = {}, quantity = 1) {
  const event = await client.createEvent(eventFields);
  const user = await client.createUser();
  const booking: Booking = await client.createBooking(user.key, event.id, quantity);
  return { event, user, booking };
}

const pay = (key: string, bookingId: string, token = 'tok_visa') => client.postPayment(key, bookingId, { payment_token: token });

/** Polls GET /bookings/{id} until the booking has left PENDING, or EXPIRY_DEADLINE_MS after expires_at; returns what it saw last. */
const settled = (key: string, booking: Pick<Booking, 'id' | 'expires_at'>, on: StackClient = client): Promise<Booking> =>
  settledBooking(() => on.getBooking(key, booking.id), booking, EXPIRY_DEADLINE_MS);

/** What each execution of the booking-hold state machine times, by ARN: its input's booking_ids (an input never changes). */
const timedBy = new Map<string, string[]>();

/** Every execution of the booking-hold state machine whose input's booking_ids include the booking, as listed now. */
async function timersOf(bookingId: string): Promise<ExecutionListItem[]> {
  const all: ExecutionListItem[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn: stack.holdStateMachineArn, nextToken, maxResults: 1000 }));
    all.push(...(page.executions ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  await Promise.all(
    all
      .filter((e) => !timedBy.has(e.executionArn!))
      .map(async (e) => {
        const described = await sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn }));
        timedBy.set(e.executionArn!, (JSON.parse(described.input!) as { booking_ids?: string[] }).booking_ids ?? []);
      }),
  );
  return all.filter((e) => timedBy.get(e.executionArn!)!.includes(bookingId));
}

/**
 * The booking's timer: polls until an execution's input includes the booking (the
 * stream delivers a new booking in about 1.25 s), and fails after TIMER_DEADLINE_MS.
 */
async function timerOf(bookingId: string): Promise<ExecutionListItem & { executionArn: string; name: string }> {
  const deadline = Date.now() + TIMER_DEADLINE_MS;
  for (;;) {
    const [timer] = await timersOf(bookingId);
    if (timer) return timer as ExecutionListItem & { executionArn: string; name: string };
    if (Date.now() > deadline) throw new Error(`No execution of the booking-hold state machine times ${bookingId} after ${TIMER_DEADLINE_MS} ms`);
    await sleep(100);
  }
}

/** The execution's input: the batch of holds it times, and when it fires. */
async function inputOf(executionArn: string): Promise<{ booking_ids: string[]; expires_at: string }> {
  return JSON.parse((await sfn.send(new DescribeExecutionCommand({ executionArn }))).input!);
}

/** Polls DescribeExecution until the execution is no longer RUNNING (or 15 s). */
async function finishedExecution(executionArn: string) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (described.status !== 'RUNNING' || Date.now() > deadline) return described;
    await sleep(200);
  }
}

const invoke = (functionName: string, payload: unknown) => lambda.invoke(functionName, payload);

/** The statistics the bookings imply, recounted from the admin's listing of the event. */
const recount = async (event: { id: string; total_tickets: number }) => statsFromBookings(event, await client.eventBookings(event.id));

describe('the hold: an unpaid booking', () => {
  it('sets expires_at to created_at plus HOLD_SECONDS', async () => {
    const { booking } = await pendingBooking();

    expect(Date.parse(booking.expires_at) - Date.parse(booking.created_at)).toBe(HOLD_SECONDS * 1000);
  });

  it('becomes CANCELLED with cancel_reason PAYMENT_TIMEOUT within seconds after expires_at', async () => {
    const { user, booking } = await pendingBooking();

    const ended = await settled(user.key, booking);

    expect(ended).toEqual({
      ...booking,
      status: 'CANCELLED',
      cancelled_at: expect.any(String),
      cancel_reason: 'PAYMENT_TIMEOUT',
    });
    expect(Date.parse(ended.cancelled_at!) - Date.parse(booking.expires_at)).toBeLessThan(EXPIRY_DEADLINE_MS);
  });

  it('is never ended before expires_at: cancelled_at is at or after it', async () => {
    const { user, booking } = await pendingBooking();

    const ended = await settled(user.key, booking);

    expect(ended.status).toBe('CANCELLED');
    expect(Date.parse(ended.cancelled_at!)).toBeGreaterThanOrEqual(Date.parse(booking.expires_at));
  });

  it("puts its tickets back on sale: the event's available_tickets is back to the total", async () => {
    const { event, user, booking } = await pendingBooking({ total_tickets: 10 }, 4);
    const whileHeld = await client.availableTickets(event.id);

    await settled(user.key, booking);

    expect({ whileHeld, after: await client.availableTickets(event.id) }).toEqual({ whileHeld: 6, after: 10 });
  });

  it('lets another user book the released tickets of a sold-out event', async () => {
    const { event, user, booking } = await pendingBooking({ total_tickets: 3 }, 3);
    const other = await client.createUser();
    const whileHeld = await client.postBooking(other.key, { event_id: event.id, quantity: 3 });
    await settled(user.key, booking);

    const response = await client.postBooking(other.key, { event_id: event.id, quantity: 3 });

    expectProblem(whileHeld, 409, 'insufficient-tickets');
    expect(response.status).toBe(201);
  });

  it("gives the user's max_per_user allowance back", async () => {
    const { event, user, booking } = await pendingBooking({ total_tickets: 10, max_per_user: 2 }, 2);
    await settled(user.key, booking);

    const response = await client.postBooking(user.key, { event_id: event.id, quantity: 2 });

    expect(response.status).toBe(201);
  });

  it('shows in the statistics: bookings_cancelled 1, tickets_held and bookings_pending back to 0', async () => {
    const { event, user, booking } = await pendingBooking({ total_tickets: 10, ticket_price: 7.5 }, 4);
    await settled(user.key, booking);

    const stats = await client.eventStats(event.id);

    expect(stats).toEqual({
      event_id: event.id,
      total_tickets: 10,
      tickets_sold: 0,
      tickets_held: 0,
      tickets_available: 10,
      revenue: 0,
      bookings_confirmed: 0,
      bookings_pending: 0,
      bookings_cancelled: 1,
      waitlist_waiting: 0,
      waitlist_tickets: 0,
    });
  });

  it('can no longer be cancelled by its owner once expired: 409 invalid-booking-status', async () => {
    const { user, booking } = await pendingBooking();
    await settled(user.key, booking);

    const response = await client.api('POST', `/bookings/${booking.id}/cancel`, { key: user.key });

    expectProblem(response, 409, 'invalid-booking-status');
  });
});

describe('the hold: payment', () => {
  it('keeps a paid booking CONFIRMED after its expires_at has passed', async () => {
    const { user, booking } = await pendingBooking();
    const paid = await pay(user.key, booking.id);
    // Past the expiry (at expires_at) and the state machine's retry 2 s later.
    await untilExpiry(booking, 4_000);

    const later = await client.getBooking(user.key, booking.id);

    expect(paid.status).toBe(200);
    expect(later).toEqual(paid.body);
  });

  it('keeps the tickets of a paid booking sold and its revenue after expires_at', async () => {
    const { event, user, booking } = await pendingBooking({ total_tickets: 10, ticket_price: 19.99 }, 3);
    await pay(user.key, booking.id);
    await untilExpiry(booking, 4_000);

    const stats = await client.eventStats(event.id);

    expect(stats).toMatchObject({ tickets_sold: 3, tickets_held: 0, tickets_available: 7, revenue: 59.97, bookings_confirmed: 1, bookings_cancelled: 0 });
  });

  it('answers 409 to a payment sent at expires_at (hold-expired or invalid-booking-status)', async () => {
    const { user, booking } = await pendingBooking();
    await untilExpiry(booking);

    const response = await pay(user.key, booking.id);

    expect(response.status).toBe(409);
    expect(response.body.type).toMatch(/\/problems\/(hold-expired|invalid-booking-status)$/);
  });

  it('charges nothing for a payment sent at expires_at: revenue stays 0 and the booking ends PAYMENT_TIMEOUT', async () => {
    const { event, user, booking } = await pendingBooking({ ticket_price: 10 }, 2);
    await untilExpiry(booking);
    await pay(user.key, booking.id);

    const ended = await settled(user.key, booking);

    expect(ended).toMatchObject({ status: 'CANCELLED', cancel_reason: 'PAYMENT_TIMEOUT', payment_id: null, confirmed_at: null });
    expect(await client.eventStats(event.id)).toMatchObject({ revenue: 0, tickets_sold: 0, bookings_confirmed: 0 });
  });

  it('answers 409 invalid-booking-status to a payment after the expiry was processed, and charges nothing', async () => {
    const { event, user, booking } = await pendingBooking({ ticket_price: 10 });
    await settled(user.key, booking);

    const response = await pay(user.key, booking.id);

    expectProblem(response, 409, 'invalid-booking-status');
    expect(await client.eventStats(event.id)).toMatchObject({ revenue: 0, tickets_sold: 0 });
  });

  it('answers 409 hold-expired to a payment after expires_at whose expiry has not been processed yet, and charges nothing', async () => {
    await clearOfScheduledSweep(8_000);
    const { event, user, booking } = await pendingBooking({ ticket_price: 10 });
    // Nothing ends this hold: its timer (the execution of its batch) is stopped, and no scheduled sweep is due.
    await sfn.send(new StopExecutionCommand({ executionArn: (await timerOf(booking.id)).executionArn }));
    await untilExpiry(booking, 500);

    const response = await pay(user.key, booking.id);

    expectProblem(response, 409, 'hold-expired');
    expect(await client.getBooking(user.key, booking.id)).toEqual(booking);
    expect(await client.eventStats(event.id)).toMatchObject({ revenue: 0, tickets_sold: 0, tickets_held: 1 });
  }, CLEAR_OF_SWEEP_TIMEOUT_MS);

  it('leaves a booking PENDING after a declined payment', async () => {
    const { user, booking } = await pendingBooking();

    const declined = await pay(user.key, booking.id, 'tok_declined');

    expectProblem(declined, 402, 'payment-declined');
    expect(await client.getBooking(user.key, booking.id)).toEqual(booking);
  });

  it('still expires a booking whose payment was declined', async () => {
    const { event, user, booking } = await pendingBooking({ total_tickets: 5 }, 2);
    await pay(user.key, booking.id, 'tok_declined');

    const ended = await settled(user.key, booking);

    expect(ended).toMatchObject({ status: 'CANCELLED', cancel_reason: 'PAYMENT_TIMEOUT' });
    expect(await client.eventStats(event.id)).toMatchObject({ tickets_held: 0, tickets_available: 5, revenue: 0 });
  });
});

describe('the booking-hold state machine, through the AWS SDK', () => {
  it('lists the booking-hold state machine (ListStateMachines)', async () => {
    const listed = await sfn.send(new ListStateMachinesCommand({}));

    expect(listed.stateMachines).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: HOLD_STATE_MACHINE_NAME, stateMachineArn: stack.holdStateMachineArn, type: 'STANDARD' })]),
    );
  });

  it('describes the machine of serverless.yml: Wait until $.expires_at, then the expireBooking Lambda (DescribeStateMachine)', async () => {
    const described = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: stack.holdStateMachineArn }));
    const definition = JSON.parse(described.definition!);

    expect(definition.States[definition.StartAt]).toMatchObject({ Type: 'Wait', TimestampPath: '$.expires_at' });
    expect(definition.States[definition.States[definition.StartAt].Next]).toMatchObject({
      Type: 'Task',
      Resource: expect.stringMatching(new RegExp(`:function:${EXPIRE_FUNCTION}$`)),
    });
  });

  it('times a new booking with one execution, started from the stream and named after its batch: holds-<second of expiry>-<hash of its ids> (ListExecutions)', async () => {
    const { booking } = await pendingBooking();

    const timer = await timerOf(booking.id);
    const { booking_ids } = await inputOf(timer.executionArn);

    // Named after the second of the batch's earliest hold, within its span before this one's.
    const own = Math.floor(Date.parse(booking.expires_at) / 1000) * 1000;
    const names = Array.from({ length: BATCH_SPAN_MS / 1000 + 1 }, (_, k) => batchId(own - k * 1000, booking_ids));
    expect(names).toContain(timer.name);
    expect(timer).toMatchObject({ stateMachineArn: stack.holdStateMachineArn });
    expect(timer.name).toMatch(/^holds-\d{8}T\d{6}Z-[0-9a-f]{32}$/);
    expect((await timersOf(booking.id)).map((e) => e.name)).toEqual([timer.name]);
  });

  it("runs the booking's timer from before its expires_at until after it, with its batch as input: booking_ids and their latest expires_at (DescribeExecution)", async () => {
    const { booking } = await pendingBooking();
    const timer = await timerOf(booking.id);

    const described = await finishedExecution(timer.executionArn);

    const input = JSON.parse(described.input!);
    expect(input).toEqual({ booking_ids: expect.arrayContaining([booking.id]), expires_at: expect.any(String) });
    expect(input.booking_ids).toEqual([...input.booking_ids].sort());
    // The batch fires at the latest expiry of its holds, all within its span: never before the booking's own.
    expect(Date.parse(input.expires_at) - Date.parse(booking.expires_at)).toBeGreaterThanOrEqual(0);
    expect(Date.parse(input.expires_at) - Date.parse(booking.expires_at)).toBeLessThan(BATCH_SPAN_MS);
    expect(described.startDate!.getTime()).toBeLessThan(Date.parse(booking.expires_at));
    expect(described.stopDate!.getTime()).toBeGreaterThanOrEqual(Date.parse(input.expires_at));
  });

  it('shows the execution SUCCEEDED after expires_at, its output counting the holds of its batch, the booking among those it expired', async () => {
    const { user, booking } = await pendingBooking();
    const timer = await timerOf(booking.id);

    const described = await finishedExecution(timer.executionArn);

    const { booking_ids } = JSON.parse(described.input!);
    const output = JSON.parse(described.output!);
    expect(described.status).toBe('SUCCEEDED');
    expect(output).toEqual({ holds: booking_ids.length, expired: expect.any(Number), already_final: expect.any(Number), not_found: 0 });
    expect(output.expired + output.already_final).toBe(booking_ids.length);
    expect(output.expired).toBeGreaterThanOrEqual(1);
    expect(await client.getBooking(user.key, booking.id)).toMatchObject({ status: 'CANCELLED', cancel_reason: 'PAYMENT_TIMEOUT' });
  });

  it('ends the execution of a paid booking without touching it: SUCCEEDED, the booking counted already-final and still CONFIRMED', async () => {
    const { user, booking } = await pendingBooking();
    const paid = await pay(user.key, booking.id);
    const timer = await timerOf(booking.id);

    const described = await finishedExecution(timer.executionArn);

    const output = JSON.parse(described.output!);
    expect(described.status).toBe('SUCCEEDED');
    expect(output.already_final).toBeGreaterThanOrEqual(1);
    expect(paid.body.status).toBe('CONFIRMED');
    expect(await client.getBooking(user.key, booking.id)).toEqual(paid.body);
  });

  it("aborts a booking's timer on StopExecution: ABORTED", async () => {
    const { booking } = await pendingBooking();
    const { executionArn } = await timerOf(booking.id);

    await sfn.send(new StopExecutionCommand({ executionArn }));

    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(described.status).toBe('ABORTED');
    expect(described.stopDate).toBeInstanceOf(Date);
  });

  it('ends a booking whose timer was stopped through the sweeper Lambda: CANCELLED, PAYMENT_TIMEOUT, tickets released', async () => {
    await clearOfScheduledSweep(8_000);
    const { event, user, booking } = await pendingBooking({ total_tickets: 6 }, 2);
    await sfn.send(new StopExecutionCommand({ executionArn: (await timerOf(booking.id)).executionArn }));
    await untilExpiry(booking, 1_000);
    const beforeSweep = await client.getBooking(user.key, booking.id);

    const swept = await invoke(SWEEP_FUNCTION, {});

    expect(beforeSweep.status).toBe('PENDING');
    expect(swept.error).toBeUndefined();
    expect(swept.result.expired).toBeGreaterThanOrEqual(1);
    expect(await client.getBooking(user.key, booking.id)).toMatchObject({ status: 'CANCELLED', cancel_reason: 'PAYMENT_TIMEOUT' });
    expect(await client.eventStats(event.id)).toMatchObject({ tickets_held: 0, tickets_available: 6, bookings_pending: 0, bookings_cancelled: 1 });
  }, CLEAR_OF_SWEEP_TIMEOUT_MS);

  it('leaves an unexpired booking alone when the sweeper runs', async () => {
    const { user, booking } = await pendingBooking();

    const swept = await invoke(SWEEP_FUNCTION, {});

    expect(swept.error).toBeUndefined();
    expect(await client.getBooking(user.key, booking.id)).toEqual(booking);
  });

  it('makes invoking the expire Lambda twice for an already-expired booking harmless: already-final, counters unchanged', async () => {
    const { event, user, booking } = await pendingBooking({ total_tickets: 8 }, 3);
    const ended = await settled(user.key, booking);
    const statsBefore = await client.eventStats(event.id);

    const first = await invoke(EXPIRE_FUNCTION, { booking_ids: [booking.id], expires_at: booking.expires_at });
    const second = await invoke(EXPIRE_FUNCTION, { booking_ids: [booking.id], expires_at: booking.expires_at });

    expect([first, second]).toEqual([
      { error: undefined, result: { holds: 1, expired: 0, already_final: 1, not_found: 0 } },
      { error: undefined, result: { holds: 1, expired: 0, already_final: 1, not_found: 0 } },
    ]);
    expect(await client.getBooking(user.key, booking.id)).toEqual(ended);
    expect(await client.eventStats(event.id)).toEqual(statsBefore);
  });

  it('refuses to expire a booking before its expires_at: the expire Lambda fails and the booking stays PENDING', async () => {
    const { event, user, booking } = await pendingBooking({ total_tickets: 8 }, 3);

    const early = await invoke(EXPIRE_FUNCTION, { booking_ids: [booking.id], expires_at: booking.expires_at });

    expect(early.error).toBeDefined();
    expect(await client.getBooking(user.key, booking.id)).toEqual(booking);
    expect(await client.eventStats(event.id)).toMatchObject({ tickets_held: 3, bookings_pending: 1, bookings_cancelled: 0 });
  });
});

describe('the race at the boundary: ~100 payments sent within ±300 ms of expires_at', () => {
  const BOOKINGS = 100;
  const USERS = 8;
  const SPREAD_MS = 300;

  interface Attempt {
    booking: Booking;
    key: string;
    /** When the payment was sent, relative to expires_at (ms; negative = before). */
    sentAfterExpiry: number;
    response: ApiResponse;
  }

  let event: { id: string; total_tickets: number };
  let attempts: Attempt[];
  let final: Map<string, Booking>;

  beforeAll(async () => {
    event = await client.createEvent({ total_tickets: 200, ticket_price: 12.34, max_per_booking: 10 });
    const users = await Promise.all(Array.from({ length: USERS }, () => client.createUser()));
    const inFlight: Promise<Attempt>[] = [];
    for (let i = 0; i < BOOKINGS; i++) {
      const key = users[i % USERS]!.key;
      const booking: Booking = await client.createBooking(key, event.id, 1);
      // Offsets spread evenly over [-300, +300] ms around this booking's expires_at.
      const offset = -SPREAD_MS + (2 * SPREAD_MS * i) / (BOOKINGS - 1);
      const at = Date.parse(booking.expires_at) + offset;
      inFlight.push(
        new Promise<Attempt>((resolve, reject) => {
          setTimeout(() => {
            const sentAfterExpiry = Date.now() - Date.parse(booking.expires_at);
            pay(key, booking.id).then((response) => resolve({ booking, key, sentAfterExpiry, response }), reject);
          }, Math.max(0, at - Date.now()));
        }),
      );
    }
    attempts = await Promise.all(inFlight);
    // Every hold has run out; wait (with a deadline) until every booking has left PENDING.
    const deadline = Date.now() + EXPIRY_DEADLINE_MS;
    let items: Booking[] = await client.eventBookings(event.id);
    while (items.some((b) => b.status === 'PENDING') && Date.now() < deadline) {
      await sleep(500);
      items = await client.eventBookings(event.id);
    }
    final = new Map(items.map((b) => [b.id, b]));
  }, 120_000);

  it('exercised both outcomes: some payments won and some expiries won', () => {
    const statuses = new Set(attempts.map((a) => a.response.status));

    expect(statuses).toContain(200);
    expect(statuses).toContain(409);
  });

  it('answers every payment 200 or 409, never a 5xx', () => {
    const unexpected = attempts.filter((a) => a.response.status !== 200 && a.response.status !== 409);

    expect(unexpected.map((a) => ({ id: a.booking.id, status: a.response.status, body: a.response.body }))).toEqual([]);
  });

  it('leaves every booking in exactly one final state that agrees with its payment response', () => {
    const disagreements = attempts
      .map((a) => ({ id: a.booking.id, payment: a.response.status, booking: final.get(a.booking.id) }))
      .filter(({ payment, booking }) => {
        if (booking?.status === 'CONFIRMED') return payment !== 200;
        if (booking?.status === 'CANCELLED') return payment !== 409 || booking.cancel_reason !== 'PAYMENT_TIMEOUT';
        return true; // still PENDING, or missing from the listing
      })
      .map(({ id, payment, booking }) => ({ id, payment, status: booking?.status, cancel_reason: booking?.cancel_reason }));

    expect(final.size).toBe(BOOKINGS);
    expect(disagreements).toEqual([]);
  });

  it('answers each successful payment with the booking as it stays: CONFIRMED before its expires_at', () => {
    const paid = attempts.filter((a) => a.response.status === 200);

    for (const a of paid) {
      expect(a.response.body).toEqual(final.get(a.booking.id));
      expect(Date.parse(a.response.body.confirmed_at)).toBeLessThan(Date.parse(a.booking.expires_at));
    }
    expect(paid.length).toBeGreaterThan(0);
  });

  it('answers each refused payment with 409 hold-expired or invalid-booking-status', () => {
    const refused = attempts.filter((a) => a.response.status === 409);

    const types = new Set(refused.map((a) => String(a.response.body.type).replace(/^.*\/problems\//, '')));

    expect(refused.length).toBeGreaterThan(0);
    expect([...types].filter((t) => t !== 'hold-expired' && t !== 'invalid-booking-status')).toEqual([]);
  });

  it('refuses every payment sent at or after expires_at', () => {
    const late = attempts.filter((a) => a.sentAfterExpiry >= 0);

    expect(late.length).toBeGreaterThan(0);
    expect(late.filter((a) => a.response.status !== 409).map((a) => ({ id: a.booking.id, sentAfterExpiry: a.sentAfterExpiry, status: a.response.status }))).toEqual([]);
  });

  it('keeps the statistics equal to a recount of the bookings: sold = CONFIRMED, revenue = their amounts, nothing held', async () => {
    const stats = await client.eventStats(event.id);
    const expected = await recount(event);

    expect(stats).toEqual(expected);
    expect(expected).toMatchObject({ tickets_held: 0, bookings_pending: 0 });
    expect(stats.tickets_sold + stats.tickets_held + stats.tickets_available).toBe(stats.total_tickets);
  });
});

describe('a slow payment gateway (1 s per charge)', () => {
  /**
   * A stack of its own whose simulated gateway takes 1 s per charge and refund, so
   * that a charge can straddle expires_at. The simulated gateway's only record of
   * charges and refunds is its log ("payment charged" with the booking as
   * reference, "payment refunded" with the payment id), read here from the
   * stack's log file.
   */
  const GATEWAY_LATENCY_MS = 1_000;
  let slow: IsolatedStack;
  let slowClient: StackClient;

  beforeAll(async () => {
    slow = await startIsolatedStack('slow-gateway-stack', { holdSeconds: HOLD_SECONDS, paymentLatencyMs: GATEWAY_LATENCY_MS, likeAws: UNDER_THE_MODEL });
    slowClient = stackClient(slow);
  }, STACK_START_TIMEOUT);

  afterAll(async () => {
    await slow?.stop();
  });

  interface GatewayEntry {
    message: string;
    reference?: string;
    payment_id?: string;
  }

  /**
   * The gateway's record of a booking's payments: its charge and the refunds of that
   * charge, with every line the stack logged so far (a refund is logged before the
   * payment's response is sent).
   */
  async function gatewayRecordOf(bookingId: string): Promise<{ charge: GatewayEntry | undefined; refunds: GatewayEntry[] }> {
    const entries = logEntries(await logSoFar(slow)) as unknown as GatewayEntry[];
    const charge = entries.find((e) => e.message === 'payment charged' && e.reference === bookingId);
    const refunds = entries.filter((e) => e.message === 'payment refunded' && charge !== undefined && e.payment_id === charge.payment_id);
    return { charge, refunds };
  }

  /** A booking whose payment is sent 500 ms before expires_at, so that its 1 s charge ends after it. */
  async function paymentStraddlingExpiry() {
    const event = await slowClient.createEvent({ total_tickets: 5, ticket_price: 10 });
    const user = await slowClient.createUser();
    const booking: Booking = await slowClient.createBooking(user.key, event.id, 2);
    await untilExpiry(booking, -GATEWAY_LATENCY_MS / 2);
    const response = await slowClient.postPayment(user.key, booking.id, { payment_token: 'tok_visa' });
    return { event, user, booking, response };
  }

  it('answers 409 to a payment whose hold runs out during the charge, and the booking ends PAYMENT_TIMEOUT with revenue 0', async () => {
    const { event, user, booking, response } = await paymentStraddlingExpiry();

    const ended = await settled(user.key, booking, slowClient);

    expect(response.status).toBe(409);
    expect(response.body.type).toMatch(/\/problems\/(hold-expired|invalid-booking-status)$/);
    expect(ended).toMatchObject({ status: 'CANCELLED', cancel_reason: 'PAYMENT_TIMEOUT', payment_id: null });
    expect(await slowClient.eventStats(event.id)).toMatchObject({ revenue: 0, tickets_sold: 0, tickets_held: 0, tickets_available: 5 });
  });

  it('refunds the charge of a payment whose hold ran out during the charge', async () => {
    const { booking } = await paymentStraddlingExpiry();

    const { charge, refunds } = await gatewayRecordOf(booking.id);

    expect(charge).toMatchObject({ payment_id: expect.any(String) });
    expect(refunds).toHaveLength(1);
  });

  it('confirms a booking once when two payments race through the gateway: one CONFIRMED booking, revenue counted once', async () => {
    const event = await slowClient.createEvent({ total_tickets: 5, ticket_price: 10 });
    const user = await slowClient.createUser();
    const booking: Booking = await slowClient.createBooking(user.key, event.id, 2);

    const responses = await Promise.all([
      slowClient.postPayment(user.key, booking.id, { payment_token: 'tok_visa' }),
      slowClient.postPayment(user.key, booking.id, { payment_token: 'tok_visa' }),
    ]);

    const final: Booking = await slowClient.getBooking(user.key, booking.id);
    expect(final.status).toBe('CONFIRMED');
    for (const response of responses) {
      if (response.status === 200) expect(response.body).toEqual(final);
      else expectProblem(response, 409, 'invalid-booking-status');
    }
    expect(responses.map((r) => r.status)).toContain(200);
    expect(await slowClient.eventStats(event.id)).toMatchObject({ revenue: 20, tickets_sold: 2, bookings_confirmed: 1 });
  });

  it('never refunds the charge of a booking that two racing payments confirmed', async () => {
    const event = await slowClient.createEvent({ total_tickets: 5, ticket_price: 10 });
    const user = await slowClient.createUser();
    const booking: Booking = await slowClient.createBooking(user.key, event.id, 2);
    await Promise.all([
      slowClient.postPayment(user.key, booking.id, { payment_token: 'tok_visa' }),
      slowClient.postPayment(user.key, booking.id, { payment_token: 'tok_visa' }),
    ]);
    const { payment_id } = await slowClient.getBooking(user.key, booking.id);

    const { charge, refunds } = await gatewayRecordOf(booking.id);

    // The charge is in the log that has no refund of it.
    expect(charge).toMatchObject({ payment_id });
    expect(payment_id).toEqual(expect.any(String));
    expect(refunds).toEqual([]);
  });
});

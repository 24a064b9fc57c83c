import { simulatedGateway } from '../../lib/adapters/simulated-gateway';
import type { Booking } from '../../lib/domain/booking';
import {
  AppError,
  BookingStatusError,
  HoldExpiredError,
  PaymentDeclinedError,
  PaymentGatewayError,
  PerUserLimitError,
} from '../../lib/domain/errors';
import type { EventWithStock as Event } from '../../lib/domain/event';
import type { PaymentGateway } from '../../lib/ports';
import type { Clock } from '../../lib/domain/time';
import { bookingStore } from '../../lib/store/bookings';
import { eventStore } from '../../lib/store/events';
import { recentEvents } from '../../lib/store/recent-events';
import { type BookingDeps, cancelBooking, createBooking } from '../../lib/usecases/bookings';
import { getEvent } from '../../lib/usecases/events';
import { expireHold, type ExpiryResult, payBooking, sweepExpiredHolds } from '../../lib/usecases/holds';
import { inBatches } from '../support/batches';
import { storedEvent } from '../support/events';
import { type RecordingGateway, recordingGateway } from '../support/recording-gateway';
import * as recount from '../support/recount';
import { conflictingTable, testTable } from '../support/table';
import { ONE_EVENT_CONCURRENCY } from '../support/under-the-model';
import { waitlistStore } from '../../lib/store/waitlist';

/*
 * The payment and hold-expiry use cases against a real DynamoDB Local (no mock of
 * DynamoDB or of the SDK). Time is controlled by giving the use cases a clock the
 * test sets. One test double, and only this: the payment gateway is the real
 * simulated gateway wrapped in a recorder that counts its charges and refunds.
 * (The hold timers start from the table's stream, exercised end to end.)
 * One test also injects a fault into the SDK client's middleware (a TransactionConflict,
 * as DynamoDB answers under contention: conflictingTable in tests/support/table.ts);
 * every request that is sent still goes to DynamoDB Local.
 */

const table = testTable();
afterAll(() => table.close());

const stores = { events: eventStore(table), bookings: bookingStore(table) };
const owner = (booking: Booking) => ({ role: 'user', user_id: booking.user_id }) as const;
const HOLD_SECONDS = 60;

/** A clock the test sets: every use case given `clock` sees `now`. */
function settableClock(start: Date = new Date()): { clock: Clock; set(at: Date): void } {
  let now = start;
  return { clock: () => now, set: (at) => void (now = at) };
}
const at = (iso: string, offsetMs = 0) => new Date(Date.parse(iso) + offsetMs);

type PayDeps = BookingDeps & { gateway: RecordingGateway };
function depsWith(clock: Clock, fields: Partial<PayDeps> = {}): PayDeps {
  return { events: recentEvents(stores.events), bookings: stores.bookings, stock: stores.events.stock, waitlist: waitlistStore(table), holdSeconds: HOLD_SECONDS, clock, gateway: recordingGateway(), ...fields };
}

const newEvent = (fields: Record<string, unknown> = {}): Promise<Event> => storedEvent(stores.events, { name: 'Hold test', ...fields });

const expectCountersMatchRecount = (eventId: string, users: string[] = []) => recount.expectCountersMatchRecount(table, eventId, users);

const countersOf = (e: Event) => ({
  available_tickets: e.available_tickets,
  tickets_held: e.tickets_held,
  tickets_sold: e.tickets_sold,
  revenue_cents: e.revenue_cents,
  bookings_pending: e.bookings_pending,
  bookings_confirmed: e.bookings_confirmed,
  bookings_cancelled: e.bookings_cancelled,
});

/** A fresh event and one PENDING booking of `quantity` tickets, made now by the test's clock. */
async function pendingBooking(deps: PayDeps, quantity = 3, eventFields: Record<string, unknown> = {}) {
  const event = await newEvent(eventFields);
  const booking = await createBooking(deps, { user_id: `holder-${event.id}`, event_id: event.id, quantity });
  return { event, booking };
}

describe('paying a booking', () => {
  it('confirms it, moving its tickets from held to sold and its amount into revenue', async () => {
    const time = settableClock();
    const deps = depsWith(time.clock);
    const { event, booking } = await pendingBooking(deps, 3);
    time.set(at(booking.expires_at, -1000));

    const paid = await payBooking(deps, booking.id, owner(booking), 'tok_visa');

    expect(paid.status).toBe('CONFIRMED');
    const after = await expectCountersMatchRecount(event.id);
    expect(countersOf(after)).toMatchObject({ available_tickets: 7, tickets_held: 0, tickets_sold: 3, revenue_cents: 3750, bookings_confirmed: 1 });
  });

  it("stores the confirmation: CONFIRMED, confirmed_at at the payment's time, and the charge's payment_id", async () => {
    const time = settableClock();
    const deps = depsWith(time.clock);
    const { booking } = await pendingBooking(deps);
    const paidAt = at(booking.expires_at, -1000);
    time.set(paidAt);

    await payBooking(deps, booking.id, owner(booking), 'tok_visa');

    expect(await stores.bookings.get(booking.id)).toMatchObject({
      status: 'CONFIRMED',
      confirmed_at: paidAt.toISOString(),
      payment_id: deps.gateway.charges[0]?.payment_id,
    });
  });

  it('charges the booking once, for its amount', async () => {
    const time = settableClock();
    const charged: number[] = [];
    const inner = simulatedGateway({ latencyMs: 0 });
    const deps = depsWith(time.clock, {
      gateway: recordingGateway({
        charge: (request) => {
          charged.push(request.amount_cents);
          return inner.charge(request);
        },
        refund: inner.refund,
      }),
    });
    const { booking } = await pendingBooking(deps, 3);

    await payBooking(deps, booking.id, owner(booking), 'tok_visa');

    expect(charged).toEqual([3750]);
  });

  it('after the hold expired is refused with HoldExpiredError, and nothing is charged', async () => {
    const time = settableClock();
    const deps = depsWith(time.clock);
    const { booking } = await pendingBooking(deps);
    time.set(at(booking.expires_at, 1));

    const paying = payBooking(deps, booking.id, owner(booking), 'tok_visa');

    await expect(paying).rejects.toBeInstanceOf(HoldExpiredError);
    expect(deps.gateway.charges).toEqual([]);
  });

  it('at exactly expires_at is refused with HoldExpiredError, and nothing is charged', async () => {
    const time = settableClock();
    const deps = depsWith(time.clock);
    const { booking } = await pendingBooking(deps);
    time.set(at(booking.expires_at));

    const paying = payBooking(deps, booking.id, owner(booking), 'tok_visa');

    await expect(paying).rejects.toBeInstanceOf(HoldExpiredError);
    expect(deps.gateway.charges).toEqual([]);
  });

  it('after the hold expired leaves the booking PENDING until the expiry ends it', async () => {
    const time = settableClock();
    const deps = depsWith(time.clock);
    const { booking } = await pendingBooking(deps);
    time.set(at(booking.expires_at, 1));

    await payBooking(deps, booking.id, owner(booking), 'tok_visa').catch(() => undefined);

    expect((await stores.bookings.get(booking.id))?.status).toBe('PENDING');
  });

  it('declined leaves the booking PENDING and the counters unchanged', async () => {
    const time = settableClock();
    const deps = depsWith(time.clock);
    const { event, booking } = await pendingBooking(deps);
    const before = countersOf(await getEvent(stores.events, event.id));

    await expect(payBooking(deps, booking.id, owner(booking), 'tok_declined')).rejects.toBeInstanceOf(PaymentDeclinedError);

    expect((await stores.bookings.get(booking.id))?.status).toBe('PENDING');
    expect(countersOf(await expectCountersMatchRecount(event.id))).toEqual(before);
  });

  it('declined may be paid again with another token before the hold expires', async () => {
    const time = settableClock();
    const deps = depsWith(time.clock);
    const { booking } = await pendingBooking(deps);
    await payBooking(deps, booking.id, owner(booking), 'tok_declined').catch(() => undefined);

    const paid = await payBooking(deps, booking.id, owner(booking), 'tok_visa');

    expect(paid.status).toBe('CONFIRMED');
  });

  it('failing at the gateway (tok_error) is a PaymentGatewayError and leaves the booking as it was', async () => {
    const time = settableClock();
    const deps = depsWith(time.clock);
    const { booking } = await pendingBooking(deps);

    await expect(payBooking(deps, booking.id, owner(booking), 'tok_error')).rejects.toBeInstanceOf(PaymentGatewayError);

    expect(await stores.bookings.get(booking.id)).toEqual(booking);
  });

  it('of a CONFIRMED booking is refused with BookingStatusError and charges nothing more', async () => {
    const time = settableClock();
    const deps = depsWith(time.clock);
    const { booking } = await pendingBooking(deps);
    await payBooking(deps, booking.id, owner(booking), 'tok_visa');

    await expect(payBooking(deps, booking.id, owner(booking), 'tok_visa')).rejects.toBeInstanceOf(BookingStatusError);

    expect(deps.gateway.charges).toHaveLength(1);
  });

  it('whose charge outlasts the hold is refused with a 409 and the charge is refunded', async () => {
    // The clock reads just before expires_at when the payment starts; the charge
    // takes it past expires_at, so the hold has run out by the time of the confirmation.
    const time = settableClock();
    const inner = simulatedGateway({ latencyMs: 0 });
    let expiresAt = '';
    const slowCharge: PaymentGateway = {
      async charge(request) {
        const result = await inner.charge(request);
        time.set(at(expiresAt, 1));
        return result;
      },
      refund: inner.refund,
    };
    const deps = depsWith(time.clock, { gateway: recordingGateway(slowCharge) });
    const { booking } = await pendingBooking(deps);
    expiresAt = booking.expires_at;
    time.set(at(expiresAt, -1));

    const outcome = await payBooking(deps, booking.id, owner(booking), 'tok_visa').catch((error: unknown) => error);

    expect(outcome).toBeInstanceOf(HoldExpiredError);
    expect(deps.gateway.refunds).toEqual(deps.gateway.charges.map((c) => c.payment_id));
  });
});

describe('a payment whose confirmation meets a TransactionConflict while the expiry wins', () => {
  let booking: Booking;
  let gateway: RecordingGateway;
  let outcome: unknown;

  beforeAll(async () => {
    const time = settableClock();
    ({ booking } = await pendingBooking(depsWith(time.clock)));
    const expiry = depsWith(() => at(booking.expires_at, 1));
    const conflicted = conflictingTable(1, () => expireHold(expiry, booking.id));
    const payment = depsWith(() => at(booking.expires_at, -1), { bookings: bookingStore(conflicted), events: recentEvents(eventStore(conflicted)) });
    gateway = payment.gateway;

    outcome = await payBooking(payment, booking.id, owner(booking), 'tok_visa').catch((error: unknown) => error);
    conflicted.close();
  });

  it('is refused with a 409 (BookingStatusError)', () => {
    expect(outcome).toBeInstanceOf(BookingStatusError);
  });

  it('leaves the booking CANCELLED by the expiry', async () => {
    expect((await stores.bookings.get(booking.id))?.cancel_reason).toBe('PAYMENT_TIMEOUT');
  });

  it('refunds the charge it made before the conflict', () => {
    expect({ charged: gateway.charges.map((c) => c.payment_id), refunded: gateway.refunds }).toEqual({
      charged: [expect.any(String)],
      refunded: gateway.charges.map((c) => c.payment_id),
    });
  });
});

describe('expiring a hold', () => {
  it('cancels the booking with PAYMENT_TIMEOUT at the time of the expiry', async () => {
    const time = settableClock();
    const deps = depsWith(time.clock);
    const { booking } = await pendingBooking(deps);
    const expiredAt = at(booking.expires_at, 500);
    time.set(expiredAt);

    const result = await expireHold(deps, booking.id);

    expect(result).toBe('expired');
    expect(await stores.bookings.get(booking.id)).toMatchObject({
      status: 'CANCELLED',
      cancel_reason: 'PAYMENT_TIMEOUT',
      cancelled_at: expiredAt.toISOString(),
    });
  });

  it('puts its tickets back on sale (counters equal a recount)', async () => {
    const time = settableClock();
    const deps = depsWith(time.clock);
    const { event, booking } = await pendingBooking(deps, 4);
    time.set(at(booking.expires_at));

    await expireHold(deps, booking.id);

    const after = await expectCountersMatchRecount(event.id);
    expect(countersOf(after)).toEqual({
      available_tickets: 10,
      tickets_held: 0,
      tickets_sold: 0,
      revenue_cents: 0,
      bookings_pending: 0,
      bookings_confirmed: 0,
      bookings_cancelled: 1,
    });
  });

  it("gives the user's max_per_user allowance back", async () => {
    const time = settableClock();
    const deps = depsWith(time.clock);
    const { event, booking } = await pendingBooking(deps, 2, { max_per_user: 2 });
    await expect(createBooking(deps, { user_id: booking.user_id, event_id: event.id, quantity: 1 })).rejects.toBeInstanceOf(PerUserLimitError);
    time.set(at(booking.expires_at));

    await expireHold(deps, booking.id);

    await expect(createBooking(deps, { user_id: booking.user_id, event_id: event.id, quantity: 2 })).resolves.toMatchObject({ status: 'PENDING' });
  });

  it("of a paid booking is 'already-final' and changes nothing", async () => {
    const time = settableClock();
    const deps = depsWith(time.clock);
    const { event, booking } = await pendingBooking(deps);
    await payBooking(deps, booking.id, owner(booking), 'tok_visa');
    const paid = await stores.bookings.get(booking.id);
    const before = countersOf(await getEvent(stores.events, event.id));
    time.set(at(booking.expires_at, 1));

    const result = await expireHold(deps, booking.id);

    expect(result).toBe('already-final');
    expect(await stores.bookings.get(booking.id)).toEqual(paid);
    expect(countersOf(await getEvent(stores.events, event.id))).toEqual(before);
  });

  it("of a booking the user cancelled is 'already-final'", async () => {
    const time = settableClock();
    const deps = depsWith(time.clock);
    const { booking } = await pendingBooking(deps);
    await cancelBooking(deps, booking.id, owner(booking));
    time.set(at(booking.expires_at, 1));

    expect(await expireHold(deps, booking.id)).toBe('already-final');
  });

  it("run twice is 'already-final' the second time, and releases the tickets once", async () => {
    const time = settableClock();
    const deps = depsWith(time.clock);
    const { event, booking } = await pendingBooking(deps, 3);
    time.set(at(booking.expires_at, 1));
    await expireHold(deps, booking.id);

    const second = await expireHold(deps, booking.id);

    expect(second).toBe('already-final');
    expect(await expectCountersMatchRecount(event.id)).toMatchObject({ available_tickets: 10, bookings_cancelled: 1 });
  });

  it("before expires_at is 'not-yet-due' and leaves the booking PENDING", async () => {
    const time = settableClock();
    const deps = depsWith(time.clock);
    const { booking } = await pendingBooking(deps);
    time.set(at(booking.expires_at, -1));

    const result = await expireHold(deps, booking.id);

    expect(result).toBe('not-yet-due');
    expect(await stores.bookings.get(booking.id)).toEqual(booking);
  });

  it("of an unknown booking is 'not-found'", async () => {
    const deps = depsWith(() => new Date());

    expect(await expireHold(deps, 'no-such-booking')).toBe('not-found');
  });
});

describe('sweeping expired holds', () => {
  // The sweeper reads every PENDING booking of the table, other test files' too.
  // These bookings are made in 2001 and swept in 2001, so that only they are due.
  const base = new Date('2001-02-03T04:05:06.000Z');
  const time = settableClock(base);
  let event: Event;
  let expired: Booking[];
  let unexpired: Booking;
  let paid: Booking;
  let result: { found: number; expired: number };

  beforeAll(async () => {
    event = await newEvent({ total_tickets: 20 });
    const short = depsWith(time.clock, { holdSeconds: 60 });
    const long = depsWith(time.clock, { holdSeconds: 600 });
    const book = (deps: PayDeps, user: string) => createBooking(deps, { user_id: user, event_id: event.id, quantity: 2 });
    expired = [await book(short, 'sweep-a'), await book(short, 'sweep-b'), await book(short, 'sweep-c')];
    unexpired = await book(long, 'sweep-d');
    paid = await book(short, 'sweep-e');
    await payBooking(short, paid.id, owner(paid), 'tok_visa');
    time.set(at(base.toISOString(), 120_000));

    result = await sweepExpiredHolds(depsWith(time.clock));
  });

  it('cancels every expired PENDING booking with PAYMENT_TIMEOUT', async () => {
    const after = await Promise.all(expired.map((b) => stores.bookings.get(b.id)));

    expect(after.map((b) => [b?.status, b?.cancel_reason])).toEqual(expired.map(() => ['CANCELLED', 'PAYMENT_TIMEOUT']));
  });

  it('leaves a booking whose hold is still running PENDING', async () => {
    expect((await stores.bookings.get(unexpired.id))?.status).toBe('PENDING');
  });

  it('leaves a paid booking CONFIRMED', async () => {
    expect((await stores.bookings.get(paid.id))?.status).toBe('CONFIRMED');
  });

  it('finds and expires exactly the expired PENDING bookings', () => {
    expect(result).toEqual({ found: expired.length, expired: expired.length });
  });

  it('puts the expired tickets back on sale (counters equal a recount)', async () => {
    expect(await expectCountersMatchRecount(event.id)).toMatchObject({ available_tickets: 16, tickets_held: 2, tickets_sold: 2 });
  });
});

/*
 * THE RACE. For each of 100 bookings a payment and an expiry are fired at the same
 * instant, each legitimate by its own clock: the payment 1..5 ms before expires_at
 * (at expires_at it would already be refused), the expiry 0..5 ms after it. They
 * race through DynamoDB's conditional transactions, and exactly one must win.
 */
describe.each([
  ['an instant charge', 0],
  ['a slow charge (20 ms), so that the expiry lands between charge and confirmation', 20],
])('a payment and an expiry racing for each of 100 bookings, with %s', (_, latencyMs) => {
  type Race = { booking: Booking; payment: PromiseSettledResult<Booking>; expiry: PromiseSettledResult<ExpiryResult>; final: Booking };
  const gateway = recordingGateway(simulatedGateway({ latencyMs }));
  let event: Event;
  let races: Race[];
  const jitter = (max: number) => Math.floor(Math.random() * (max + 1));

  beforeAll(async () => {
    event = await newEvent({ total_tickets: 300, max_per_booking: 3 });
    const createdAt = new Date();
    const booker = depsWith(() => createdAt);
    const bookings = await inBatches(Array.from({ length: 100 }, (_, i) => i), ONE_EVENT_CONCURRENCY, (i) =>
      createBooking(booker, { user_id: `racer-${latencyMs}-${i}`, event_id: event.id, quantity: 1 + (i % 3) }),
    );

    // Two writers per race (payment and expiry), every one of them on the event item too.
    const settled = await inBatches(bookings, ONE_EVENT_CONCURRENCY / 2, (booking) => {
        const payAt = at(booking.expires_at, -1 - jitter(4));
        const expireAt = at(booking.expires_at, jitter(5));
        return Promise.allSettled([
          payBooking(depsWith(() => payAt, { gateway }), booking.id, owner(booking), 'tok_visa'),
          expireHold(depsWith(() => expireAt), booking.id),
        ]);
      });

    const finals = await Promise.all(bookings.map((b) => stores.bookings.get(b.id)));
    races = bookings.map((booking, i) => ({ booking, payment: settled[i]![0], expiry: settled[i]![1], final: finals[i]! }));
  }, 120_000);

  const confirmed = () => races.filter((r) => r.final.status === 'CONFIRMED');
  const cancelled = () => races.filter((r) => r.final.status === 'CANCELLED');
  const describeFailure = (r: PromiseSettledResult<unknown>) => (r.status === 'rejected' ? String(r.reason) : r.value);

  it('ends every booking in exactly one final state, won by exactly one of payment and expiry', () => {
    const outcomes = races.map((r) => ({
      status: r.final.status,
      paid: r.payment.status === 'fulfilled',
      expired: r.expiry.status === 'fulfilled' && r.expiry.value === 'expired',
    }));

    expect(outcomes.filter((o) => !(o.status === 'CONFIRMED' && o.paid && !o.expired) && !(o.status === 'CANCELLED' && !o.paid && o.expired))).toEqual(
      [],
    );
  });

  it("gives every CONFIRMED booking the payment_id of its successful payment, and its expiry 'already-final'", () => {
    const wrong = confirmed().filter(
      (r) =>
        !(r.payment.status === 'fulfilled' && r.payment.value.payment_id === r.final.payment_id && r.final.payment_id) ||
        !(r.expiry.status === 'fulfilled' && r.expiry.value === 'already-final'),
    );

    expect(wrong.map((r) => ({ id: r.booking.id, payment: describeFailure(r.payment), expiry: describeFailure(r.expiry) }))).toEqual([]);
  });

  it('never refunds the charge of a CONFIRMED booking', () => {
    const refunded = new Set(gateway.refunds);

    expect(confirmed().filter((r) => refunded.has(r.final.payment_id ?? ''))).toEqual([]);
  });

  it('cancels every other booking for PAYMENT_TIMEOUT, its payment refused with a 409 (HoldExpiredError or BookingStatusError)', () => {
    const wrong = cancelled().filter(
      (r) =>
        r.final.cancel_reason !== 'PAYMENT_TIMEOUT' ||
        r.payment.status !== 'rejected' ||
        !(r.payment.reason instanceof HoldExpiredError || r.payment.reason instanceof BookingStatusError) ||
        (r.payment.reason as AppError).kind !== 'conflict',
    );

    expect(wrong.map((r) => ({ id: r.booking.id, reason: r.final.cancel_reason, payment: describeFailure(r.payment) }))).toEqual([]);
  });

  it('refunds every charge made for a booking that ended CANCELLED', () => {
    const refunded = new Set(gateway.refunds);
    const cancelledIds = new Set(cancelled().map((r) => r.booking.id));

    const kept = gateway.charges.filter((c) => cancelledIds.has(c.reference) && !refunded.has(c.payment_id));

    expect(kept).toEqual([]);
  });

  it('is a real race: some payment was charged and then lost to the expiry', () => {
    expect(gateway.refunds.length).toBeGreaterThan(0);
  });

  it('keeps every counter equal to a recount of the bookings', async () => {
    const after = await expectCountersMatchRecount(event.id);

    expect(after).toMatchObject({ bookings_pending: 0, tickets_held: 0 });
  });
});

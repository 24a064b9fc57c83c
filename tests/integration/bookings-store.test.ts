import type { Booking } from '../../lib/domain/booking';
import { AppError, BookingStatusError, InsufficientTicketsError, NotFoundError, PerUserLimitError, ServiceUnavailableError } from '../../lib/domain/errors';
import type { EventWithStock as Event } from '../../lib/domain/event';
import { idempotently, requestFingerprint } from '../../lib/http/idempotency';
import { bookingStore } from '../../lib/store/bookings';
import type { Table } from '../../lib/store/client';
import { eventStore } from '../../lib/store/events';
import { idempotencyStore } from '../../lib/store/idempotency';
import { recentEvents } from '../../lib/store/recent-events';
import { type BookingDeps, cancelBooking, createBooking, listBookings } from '../../lib/usecases/bookings';
import { deleteEvent, getEvent, updateEvent } from '../../lib/usecases/events';
import { inBatches } from '../support/batches';
import { storedEvent } from '../support/events';
import * as recount from '../support/recount';
import { conflictingTable, testTable } from '../support/table';
import { ONE_EVENT_CONCURRENCY } from '../support/under-the-model';
import { waitlistStore } from '../../lib/store/waitlist';

const table = testTable();
afterAll(() => table.close());

function depsFor(t: Table): BookingDeps {
  return {
    events: recentEvents(eventStore(t)),
    bookings: bookingStore(t),
    stock: eventStore(t).stock,
    waitlist: waitlistStore(t),
    holdSeconds: 900,
    clock: () => new Date(),
  };
}
const deps = depsFor(table);
const events = eventStore(table);
const admin = { role: 'admin' } as const;

const newEvent = (fields: Record<string, unknown> = {}): Promise<Event> => storedEvent(events, { name: 'Flash sale', total_tickets: 300, ...fields });

const bookingsOf = (eventId: string) => recount.bookingsOf(table, eventId);
const expectCountersMatchRecount = (eventId: string, users: string[] = []) => recount.expectCountersMatchRecount(table, eventId, users);

type Attempt = { ok: true; booking: Booking } | { ok: false; error: unknown; quantity: number };

async function attempt(userId: string, eventId: string, quantity: number, d = deps): Promise<Attempt> {
  try {
    return { ok: true, booking: await createBooking(d, { user_id: userId, event_id: eventId, quantity }) };
  } catch (error) {
    return { ok: false, error, quantity };
  }
}

describe(`a flash sale: 1,000 attempts from 50 users for 300 tickets, ${ONE_EVENT_CONCURRENCY} at a time`, () => {
  let event: Event;
  let results: Attempt[];

  beforeAll(async () => {
    event = await newEvent({ total_tickets: 300 });
    results = await inBatches(Array.from({ length: 1000 }, (_, i) => i), ONE_EVENT_CONCURRENCY, (i) => attempt(`flash-user-${i % 50}`, event.id, 1));
  }, 120_000);

  it('holds exactly 300 tickets', () => {
    expect(results.filter((r) => r.ok)).toHaveLength(300);
  });

  it('refuses every other attempt with insufficient-tickets, none with a server error', () => {
    const refusals = results.filter((r): r is Extract<Attempt, { ok: false }> => !r.ok);
    expect(refusals).toHaveLength(700);
    expect(refusals.filter((r) => !(r.error instanceof InsufficientTicketsError)).map((r) => String(r.error))).toEqual([]);
  });

  it('refuses nobody while tickets remained', () => {
    const seen = results.flatMap((r) => (!r.ok && r.error instanceof InsufficientTicketsError ? [r.error.available] : []));
    expect(seen.every((available) => available === 0)).toBe(true);
  });

  it('leaves no booking without its tickets, and counters equal to a recount', async () => {
    const after = await expectCountersMatchRecount(event.id);
    expect(after).toMatchObject({ available_tickets: 0, tickets_held: 300, bookings_pending: 300 });
    expect((await bookingsOf(event.id)).length).toBe(300);
  });
});

describe('mixed quantities under contention', () => {
  it('never sells more than the total, and refuses only what could not fit at that moment', async () => {
    const event = await newEvent({ total_tickets: 100, max_per_booking: 4 });

    const results = await inBatches(Array.from({ length: 300 }, (_, i) => i), ONE_EVENT_CONCURRENCY, (i) => attempt(`mixed-${i % 20}`, event.id, 1 + (i % 4)));

    const refusals = results.filter((r): r is Extract<Attempt, { ok: false }> => !r.ok);
    for (const r of refusals) {
      expect(r.error).toBeInstanceOf(InsufficientTicketsError);
      expect((r.error as InsufficientTicketsError).available).toBeLessThan(r.quantity);
    }
    const after = await expectCountersMatchRecount(event.id);
    expect(after.tickets_held).toBe(results.reduce((n, r) => n + (r.ok ? r.booking.quantity : 0), 0));
    expect(after.available_tickets).toBeLessThan(4);
  }, 60_000);
});

describe('max_per_user', () => {
  it('lets 20 concurrent requests from one user take no more than the cap', async () => {
    const event = await newEvent({ total_tickets: 100, max_per_user: 5 });

    const results = await Promise.all(Array.from({ length: 20 }, () => attempt('capped-user', event.id, 1)));

    expect(results.filter((r) => r.ok)).toHaveLength(5);
    expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.error instanceof PerUserLimitError)).toBe(true);
    await expectCountersMatchRecount(event.id);
  });

  it('gives the allowance back when a booking is cancelled', async () => {
    const event = await newEvent({ total_tickets: 100, max_per_user: 2 });
    const first = await createBooking(deps, { user_id: 'returning-user', event_id: event.id, quantity: 2 });
    await expect(createBooking(deps, { user_id: 'returning-user', event_id: event.id, quantity: 1 })).rejects.toBeInstanceOf(PerUserLimitError);

    await cancelBooking(deps, first.id, admin);

    await expect(createBooking(deps, { user_id: 'returning-user', event_id: event.id, quantity: 2 })).resolves.toMatchObject({ quantity: 2 });
  });
});

describe('cancelling', () => {
  it('releases the tickets of a booking exactly once, however many cancels race', async () => {
    const event = await newEvent({ total_tickets: 50 });
    const bookings = await Promise.all(Array.from({ length: 25 }, (_, i) => createBooking(deps, { user_id: `c-${i}`, event_id: event.id, quantity: 2 })));

    const outcomes = await Promise.allSettled(bookings.flatMap((b) => [1, 2, 3].map(() => cancelBooking(deps, b.id, admin))));

    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(25);
    const rejected = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(rejected).toHaveLength(50);
    expect(rejected.every((o) => o.reason instanceof BookingStatusError)).toBe(true);
    const after = await expectCountersMatchRecount(event.id);
    expect(after).toMatchObject({ available_tickets: 50, tickets_held: 0, bookings_cancelled: 25, bookings_pending: 0 });
  });

  it('puts cancelled tickets back on sale while a sale is running', async () => {
    const event = await newEvent({ total_tickets: 40 });
    const early = await Promise.all(Array.from({ length: 20 }, (_, i) => createBooking(deps, { user_id: `early-${i}`, event_id: event.id, quantity: 1 })));

    // Late buyers who are told "sold out" try again a little later, as people do.
    const persistentBuyer = async (userId: string) => {
      for (let tries = 0; tries < 20; tries++) {
        const result = await attempt(userId, event.id, 1);
        if (result.ok || !(result.error instanceof InsufficientTicketsError)) return result;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      return undefined;
    };
    await Promise.all([
      ...early.slice(0, 10).map((b) => cancelBooking(deps, b.id, admin)),
      ...Array.from({ length: 60 }, (_, i) => persistentBuyer(`late-${i}`)),
    ]);

    const after = await expectCountersMatchRecount(event.id);
    expect(after.tickets_held).toBeLessThanOrEqual(40);
    expect(after.available_tickets).toBe(0);
  });
});

describe('bookings planned on the copy of the event a function keeps', () => {
  /** A copy that never ages on its own, and the real store's reads counted. */
  function keptCopy() {
    const reads: string[] = [];
    const counted = { terms: (id: string) => (reads.push(id), events.terms(id)) };
    const d: BookingDeps = { ...deps, events: recentEvents(counted, { maxAgeMs: 3_600_000, maxEvents: 100 }) };
    return { d, reads };
  }

  it('reads the event once for a run of bookings', async () => {
    const event = await newEvent({ total_tickets: 10 });
    const { d, reads } = keptCopy();
    for (let i = 0; i < 5; i++) await createBooking(d, { user_id: `run-${i}`, event_id: event.id, quantity: 1 });
    expect(reads).toEqual([event.id]);
    expect(await expectCountersMatchRecount(event.id)).toMatchObject({ tickets_held: 5, available_tickets: 5 });
  });

  it('sells at the price a PATCH set after the copy was taken, never at the old one', async () => {
    const event = await newEvent({ ticket_price: '10.00' });
    const { d } = keptCopy();
    await createBooking(d, { user_id: 'price-1', event_id: event.id, quantity: 1 });
    await updateEvent(events, event.id, { ticket_price: 2500 }, new Date());

    const booking = await createBooking(d, { user_id: 'price-2', event_id: event.id, quantity: 2 });

    expect(booking).toMatchObject({ unit_price_cents: 2500, amount_cents: 5000 });
  });

  it('sells tickets that came back after the copy saw the event sold out', async () => {
    const event = await newEvent({ total_tickets: 2 });
    const { d, reads } = keptCopy();
    const first = await createBooking(d, { user_id: 'out-1', event_id: event.id, quantity: 1 });
    await createBooking(d, { user_id: 'out-2', event_id: event.id, quantity: 1 });
    // The transaction's refusal hands back the sold-out event, which the copy keeps.
    await expect(createBooking(d, { user_id: 'out-3', event_id: event.id, quantity: 1 })).rejects.toMatchObject({ available: 0 });
    await cancelBooking(deps, first.id, admin);

    // The copy holds the event's terms only: the tickets are the shards'. The
    // refusal read the event item once more, after the shards (to know they were
    // all of its shards); the booking of the ticket that came back reads nothing.
    await expect(createBooking(d, { user_id: 'out-4', event_id: event.id, quantity: 1 })).resolves.toMatchObject({ quantity: 1 });
    expect(reads.length).toBe(2);
    // Sold out again: the refusal comes from a fresh read as well.
    await expect(createBooking(d, { user_id: 'out-5', event_id: event.id, quantity: 1 })).rejects.toBeInstanceOf(InsufficientTicketsError);
    expect(await expectCountersMatchRecount(event.id)).toMatchObject({ tickets_held: 2, available_tickets: 0 });
  });

  it('allows a quantity a PATCH has just allowed, although the copy predates it', async () => {
    const event = await newEvent({ max_per_booking: 2 });
    const { d } = keptCopy();
    await createBooking(d, { user_id: 'limit-1', event_id: event.id, quantity: 2 });
    await updateEvent(events, event.id, { max_per_booking: 6 }, new Date());

    await expect(createBooking(d, { user_id: 'limit-2', event_id: event.id, quantity: 6 })).resolves.toMatchObject({ quantity: 6 });
  });

  it('answers 404 for an event deleted after the copy was taken, and forgets it', async () => {
    const event = await newEvent();
    const { d, reads } = keptCopy();
    await d.events.get(event.id);
    await deleteEvent(events, event.id);

    await expect(createBooking(d, { user_id: 'gone', event_id: event.id, quantity: 1 })).rejects.toBeInstanceOf(NotFoundError);
    // The copy, the fresh read that found the event gone (its shards were), and this one.
    expect((await d.events.get(event.id)).fresh).toBe(true);
    expect(reads.length).toBe(3);
  });
});

describe('changing total_tickets during a sale', () => {
  it('keeps every ticket accounted for and never sells beyond the total', async () => {
    // Shards for the crowd: 40 buyers and 6 PATCHes at once on the default 2 would
    // meet each other on every attempt.
    const event = await newEvent({ total_tickets: 200, stock_shards: 8 });
    const totals = [250, 180, 300, 220, 260, 240];

    const [bookingResults, patchResults] = await Promise.all([
      inBatches(Array.from({ length: 400 }, (_, i) => i), ONE_EVENT_CONCURRENCY, (i) => attempt(`patch-race-${i % 40}`, event.id, 1)),
      Promise.allSettled(totals.map((total) => updateEvent(events, event.id, { total_tickets: total }, new Date()))),
    ]);

    // Any PATCH may be refused (a total below what is sold or held), and any booking once the tickets run out.
    const refusedPatches = patchResults.flatMap((p) => (p.status === 'rejected' ? [p.reason] : []));
    expect(refusedPatches.filter((reason) => !(reason instanceof AppError))).toEqual([]);
    const refusedBookings = bookingResults.flatMap((r) => (r.ok ? [] : [r.error]));
    expect(refusedBookings.filter((error) => !(error instanceof InsufficientTicketsError))).toEqual([]);
    const after = await expectCountersMatchRecount(event.id);
    expect(after.tickets_held).toBe(bookingResults.filter((r) => r.ok).length);
    expect(after.tickets_held).toBeLessThanOrEqual(after.total_tickets);
    expect(after.available_tickets).toBeGreaterThanOrEqual(0);
  }, 60_000);
});

describe('transaction conflicts', () => {
  it('are retried until the booking goes through', async () => {
    const event = await newEvent({ total_tickets: 10 });
    const flaky = conflictingTable(3);

    const booking = await createBooking(depsFor(flaky), { user_id: 'conflicted', event_id: event.id, quantity: 2 });

    expect(flaky.injected()).toBe(3);
    expect(booking.status).toBe('PENDING');
    expect((await getEvent(events, event.id)).available_tickets).toBe(8);
    flaky.client.destroy();
  });

  it('that never end become a 503 (ServiceUnavailableError), and nothing is held', async () => {
    const event = await newEvent({ total_tickets: 10 });
    const hopeless = conflictingTable(1000);

    await expect(createBooking(depsFor(hopeless), { user_id: 'unlucky', event_id: event.id, quantity: 2 })).rejects.toBeInstanceOf(
      ServiceUnavailableError,
    );

    expect(await expectCountersMatchRecount(event.id)).toMatchObject({ available_tickets: 10, tickets_held: 0 });
    hopeless.client.destroy();
  });
});

describe('Idempotency-Key', () => {
  const idempotency = idempotencyStore(table);

  function book(userId: string, key: string, body: { event_id: string; quantity: number }) {
    const scope = { user_id: userId, operation: 'POST /bookings', key };
    return idempotently(idempotency, scope, requestFingerprint('/bookings', body), 'req', async (complete) => {
      const respond = (b: Booking) => ({ status: 201, body: { id: b.id } });
      const booking = await createBooking(deps, { user_id: userId, ...body }, complete && ((b) => complete(respond(b))));
      return respond(booking);
    });
  }

  it('turns a retry storm with one key into one booking', async () => {
    const event = await newEvent({ total_tickets: 100 });
    const body = { event_id: event.id, quantity: 1 };

    const results = await Promise.allSettled(Array.from({ length: 30 }, () => book('storm-user', 'storm-key', body)));

    const ids = new Set(results.flatMap((r) => (r.status === 'fulfilled' ? [(r.value.body as { id: string }).id] : [])));
    expect(ids.size).toBe(1);
    const refusals = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as AppError).code] : []));
    expect(refusals.filter((code) => code !== 'idempotency-in-progress')).toEqual([]);
    const replay = await book('storm-user', 'storm-key', body);
    expect((replay.body as { id: string }).id).toBe([...ids][0]);
    expect(await expectCountersMatchRecount(event.id)).toMatchObject({ tickets_held: 1, bookings_pending: 1 });
  });

  it('refuses the same key with another body', async () => {
    const event = await newEvent({ total_tickets: 100 });
    await book('key-reuser', 'reused', { event_id: event.id, quantity: 1 });

    await expect(book('key-reuser', 'reused', { event_id: event.id, quantity: 2 })).rejects.toMatchObject({ code: 'idempotency-key-reused' });
  });

  it('replays a refusal as the same refusal', async () => {
    const event = await newEvent({ total_tickets: 1 });
    await createBooking(deps, { user_id: 'someone-else', event_id: event.id, quantity: 1 });
    const body = { event_id: event.id, quantity: 1 };
    await expect(book('late-buyer', 'late-key', body)).rejects.toBeInstanceOf(InsufficientTicketsError);

    const replay = await book('late-buyer', 'late-key', body);

    expect(replay.status).toBe(409);
    expect(replay.body).toMatchObject({ status: 409, type: expect.stringMatching(/insufficient-tickets$/) });
  });
});

describe('listing bookings', () => {
  it('shows a user their own bookings, newest first, across pages', async () => {
    const event = await newEvent({ total_tickets: 100 });
    for (let i = 0; i < 5; i++) await createBooking(deps, { user_id: 'lister', event_id: event.id, quantity: 1 });
    await createBooking(deps, { user_id: 'not-the-lister', event_id: event.id, quantity: 1 });

    const seen: Booking[] = [];
    let cursor: string | undefined;
    do {
      const page = await listBookings(deps.bookings, { role: 'user', user_id: 'lister' }, {}, { limit: 2, cursor });
      seen.push(...page.items);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);

    expect(seen).toHaveLength(5);
    expect(seen.every((b) => b.user_id === 'lister')).toBe(true);
    const created = seen.map((b) => b.created_at);
    expect(created).toEqual([...created].sort().reverse());
  });

  it("merges an event's status partitions for the admin, and filters by status", async () => {
    const event = await newEvent({ total_tickets: 100 });
    const made = [];
    for (let i = 0; i < 6; i++) made.push(await createBooking(deps, { user_id: `admin-view-${i}`, event_id: event.id, quantity: 1 }));
    await cancelBooking(deps, made[1]!.id, admin);
    await cancelBooking(deps, made[4]!.id, admin);

    const all = await listBookings(deps.bookings, admin, { event_id: event.id }, { limit: 100 });
    const cancelled = await listBookings(deps.bookings, admin, { event_id: event.id, status: 'CANCELLED' }, { limit: 100 });
    const firstPage = await listBookings(deps.bookings, admin, { event_id: event.id }, { limit: 4 });
    const secondPage = await listBookings(deps.bookings, admin, { event_id: event.id }, { limit: 4, cursor: firstPage.next_cursor! });

    expect(all.items.map((b) => b.id)).toEqual([...made].reverse().map((b) => b.id));
    expect(cancelled.items.map((b) => b.id).sort()).toEqual([made[1]!.id, made[4]!.id].sort());
    expect([...firstPage.items, ...secondPage.items].map((b) => b.id)).toEqual(all.items.map((b) => b.id));
    expect(secondPage.next_cursor).toBeNull();
  });
});

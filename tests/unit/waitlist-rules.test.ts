import { type Booking, planBooking, releaseDelta, toEventStats, ZERO_COUNTERS } from '../../lib/domain/booking';
import { EventStartedError, PerUserLimitError, ValidationError } from '../../lib/domain/errors';
import { CreateEventBody, type Event, type EventWithStock, newEvent } from '../../lib/domain/event';
import { type FreePool, freePool, type LineTake, takesForOffer } from '../../lib/domain/stock';
import { assertMayWait, type Candidate, chooseOffers, offerBooking, smallestWanted } from '../../lib/domain/waitlist';
import { toProblemResponse } from '../../lib/http/problem';
import { applyDelta } from '../support/counters';

const now = new Date('2026-06-01T12:00:00.000Z');
const event = (fields: Record<string, unknown> = {}): Event =>
  newEvent(
    CreateEventBody.parse({ name: 'Gig', date_time: '2026-07-01T20:00:00Z', total_tickets: 10, ticket_price: 12.5, ...fields }),
    'e1',
    new Date('2026-05-01T00:00:00Z'),
  );

/** A waiting entry: `id` is also its place unless `seq` says otherwise. */
const entry = (id: string, quantity: number, user = `user-${id}`, seq = Number(id.replace(/\D/g, ''))): Candidate => ({
  id,
  user_id: user,
  quantity,
  seq,
});
const ids = (entries: readonly Candidate[]) => entries.map((e) => e.id);
/** No user is capped. */
const uncapped = () => undefined;

/** What `run` throws; fails the test when it throws nothing. */
function thrownBy(run: () => void): unknown {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeDefined();
  return thrown;
}

/** What a thrown domain error becomes over HTTP: its status and problem code. */
function problemOf(run: () => void): { status: number; code: string } {
  const response = toProblemResponse(thrownBy(run), 'req-1');
  const body = JSON.parse(response.body) as { type: string };
  return { status: response.statusCode, code: body.type.split('/').at(-1)! };
}

describe('choosing who gets the tickets that came back', () => {
  it('offers them to the earliest entry that fits, then the next, in line order', () => {
    const line = [entry('e1', 2), entry('e2', 3), entry('e3', 1)];
    expect(ids(chooseOffers(line, 5, uncapped))).toEqual(['e1', 'e2']);
  });

  it('serves the line in seq order whatever order the entries are given in', () => {
    const line = [entry('e30', 2), entry('e10', 2), entry('e20', 2)];
    expect(ids(chooseOffers(line, 4, uncapped))).toEqual(['e10', 'e20']);
    expect(line.map((e) => e.seq)).toEqual([30, 10, 20]);
  });

  it('skips an entry that does not fit, so that a smaller one behind it is served', () => {
    const line = [entry('e1', 4), entry('e2', 2), entry('e3', 1)];
    expect(ids(chooseOffers(line, 3, uncapped))).toEqual(['e2', 'e3']);
  });

  it('serves the entry that does fit even when it comes last', () => {
    const line = [entry('e1', 5), entry('e2', 4), entry('e3', 3)];
    expect(ids(chooseOffers(line, 3, uncapped))).toEqual(['e3']);
  });

  it('offers nothing when nobody fits', () => {
    expect(chooseOffers([entry('e1', 4), entry('e2', 3)], 2, uncapped)).toEqual([]);
  });

  it('skips a user at max_per_user and serves the next entry that fits', () => {
    const line = [entry('e1', 2, 'full'), entry('e2', 2, 'free')];
    const room = (user: string) => (user === 'full' ? 0 : 4);
    expect(ids(chooseOffers(line, 2, room))).toEqual(['e2']);
  });

  it('skips a user whose room is smaller than their entry, though some room is left', () => {
    const line = [entry('e1', 3, 'ann'), entry('e2', 1, 'bob')];
    const room = (user: string) => (user === 'ann' ? 2 : undefined);
    expect(ids(chooseOffers(line, 3, room))).toEqual(['e2']);
  });

  it('does not serve two entries of one user past that user’s room', () => {
    const line = [entry('e1', 2, 'ann'), entry('e2', 2, 'ann'), entry('e3', 2, 'bob')];
    const room = (user: string) => (user === 'ann' ? 3 : undefined);
    expect(ids(chooseOffers(line, 6, room))).toEqual(['e1', 'e3']);
  });

  it('serves two entries of one user when the room holds both', () => {
    const line = [entry('e1', 2, 'ann'), entry('e2', 2, 'ann')];
    const room = (user: string) => (user === 'ann' ? 4 : undefined);
    expect(ids(chooseOffers(line, 4, room))).toEqual(['e1', 'e2']);
  });

  it('stops at the limit of offers, earliest first', () => {
    const line = [entry('e1', 1), entry('e2', 1), entry('e3', 1), entry('e4', 1)];
    expect(ids(chooseOffers(line, 10, uncapped, 2))).toEqual(['e1', 'e2']);
  });

  it('offers nothing when no ticket is free', () => {
    expect(chooseOffers([entry('e1', 1), entry('e2', 2)], 0, uncapped)).toEqual([]);
  });

  it('never offers more tickets than are free', () => {
    const line = Array.from({ length: 30 }, (_, i) => entry(`e${i + 1}`, (i % 4) + 1));
    for (const free of [1, 5, 7, 13, 40]) {
      const offered = chooseOffers(line, free, uncapped).reduce((n, e) => n + e.quantity, 0);
      expect(offered).toBeLessThanOrEqual(free);
      expect(offered).toBeGreaterThan(0);
    }
  });
});

describe('whether a user may join the line', () => {
  it('lets a user join for up to max_per_booking tickets', () => {
    expect(() => assertMayWait(event({ max_per_booking: 4 }), { quantity: 4, userTickets: 0 }, now)).not.toThrow();
  });

  it('refuses more than max_per_booking with a 422 validation problem on quantity', () => {
    const refuse = () => assertMayWait(event({ max_per_booking: 4 }), { quantity: 5, userTickets: 0 }, now);
    expect(refuse).toThrow(ValidationError);
    expect(problemOf(refuse)).toEqual({ status: 422, code: 'validation-failed' });
    expect((thrownBy(refuse) as ValidationError).fieldProblems).toEqual([{ path: 'quantity', message: 'must be at most 4 for this event' }]);
  });

  it('refuses once the event has started, at its very start too, with a 409', () => {
    const refuse = () => assertMayWait(event({ date_time: now.toISOString() }), { quantity: 1, userTickets: 0 }, now);
    expect(refuse).toThrow(EventStartedError);
    expect(problemOf(refuse)).toEqual({ status: 409, code: 'event-started' });
    const aSecondBefore = new Date(now.getTime() - 1000);
    expect(() => assertMayWait(event({ date_time: now.toISOString() }), { quantity: 1, userTickets: 0 }, aSecondBefore)).not.toThrow();
  });

  it('refuses a user whose tickets and the wanted ones would exceed max_per_user, with a 409', () => {
    const refuse = () => assertMayWait(event({ max_per_user: 4 }), { quantity: 2, userTickets: 3 }, now);
    expect(refuse).toThrow(PerUserLimitError);
    expect(problemOf(refuse)).toEqual({ status: 409, code: 'per-user-limit' });
    expect(() => assertMayWait(event({ max_per_user: 4 }), { quantity: 1, userTickets: 3 }, now)).not.toThrow();
  });

  it('does not limit a user when the event has no max_per_user', () => {
    expect(() => assertMayWait(event({ max_per_user: null }), { quantity: 10, userTickets: 500 }, now)).not.toThrow();
  });
});

describe('the booking an offer makes', () => {
  const offered = offerBooking(event(), entry('w7', 3, 'ann'), 'b-offer', now, 300);

  it('is PENDING for the entry’s user, at the event’s price', () => {
    expect(offered).toMatchObject({
      id: 'b-offer',
      event_id: 'e1',
      user_id: 'ann',
      quantity: 3,
      unit_price_cents: 1250,
      amount_cents: 3750,
      status: 'PENDING',
      created_at: '2026-06-01T12:00:00.000Z',
      confirmed_at: null,
      cancelled_at: null,
      cancel_reason: null,
    });
  });

  it('expires the offer seconds after it is made, not after the booking hold', () => {
    expect(offered.expires_at).toBe('2026-06-01T12:05:00.000Z');
    expect(offerBooking(event(), entry('w7', 3), 'b2', now, 900).expires_at).toBe('2026-06-01T12:15:00.000Z');
  });

  it('names the waiting entry it was offered to', () => {
    expect(offered.waitlist_entry_id).toBe('w7');
  });
});

describe('the smallest quantity a block of the line wants', () => {
  it('is the least quantity that some WAITING entry wants', () => {
    expect(smallestWanted({ sizes: { '4': 2, '2': 1, '10': 5 } })).toBe(2);
  });

  it('ignores quantities that nobody wants any more', () => {
    expect(smallestWanted({ sizes: { '1': 0, '3': 1, '2': -1 } })).toBe(3);
  });

  it('is undefined when nobody in the block waits', () => {
    expect(smallestWanted({ sizes: {} })).toBeUndefined();
    expect(smallestWanted({ sizes: { '5': 0 } })).toBeUndefined();
  });
});

describe('where an offer takes its tickets from', () => {
  /** Shards 0..n-1 with these line and sale tickets. */
  const pool = (...free: [line: number, sale: number][]) =>
    freePool(free.map(([line, sale], index) => ({ index, line_tickets: line, available_tickets: sale })));
  const byShard = (takes: LineTake[]) => [...takes].sort((a, b) => a.shard - b.shard);
  const freeOf = (rest: FreePool) => [...rest].sort(([a], [b]) => a - b).map(([, f]) => [f.line, f.sale]);

  it('sees a negative counter as nothing free', () => {
    expect(freeOf(pool([-1, 3], [2, -4]))).toEqual([
      [0, 3],
      [2, 0],
    ]);
  });

  it('takes the tickets released to the line before tickets on sale', () => {
    const taken = takesForOffer(pool([2, 5]), 3)!;
    expect(taken.takes).toEqual([{ shard: 0, fromLine: 2, fromSale: 1 }]);
    expect(freeOf(taken.rest)).toEqual([[0, 4]]);
  });

  it('takes line tickets on any shard before sale tickets on the fullest', () => {
    const taken = takesForOffer(pool([0, 9], [1, 0], [0, 2]), 2)!;
    expect(byShard(taken.takes)).toEqual([
      { shard: 0, fromLine: 0, fromSale: 1 },
      { shard: 1, fromLine: 1, fromSale: 0 },
    ]);
  });

  it('takes from the fullest shards first, so that an offer touches few', () => {
    const taken = takesForOffer(pool([1, 0], [4, 0], [2, 0]), 5)!;
    expect(taken.takes).toEqual([
      { shard: 1, fromLine: 4, fromSale: 0 },
      { shard: 2, fromLine: 1, fromSale: 0 },
    ]);
    expect(freeOf(taken.rest)).toEqual([
      [1, 0],
      [0, 0],
      [1, 0],
    ]);
  });

  it('is undefined when the pool holds fewer tickets than the offer wants', () => {
    expect(takesForOffer(pool([1, 1], [0, 1]), 4)).toBeUndefined();
    expect(takesForOffer(pool(), 1)).toBeUndefined();
  });

  it('leaves the pool it was given untouched', () => {
    const before = pool([3, 3]);
    takesForOffer(before, 5);
    expect(freeOf(before)).toEqual([[3, 3]]);
  });

  it('hands back the rest of the pool, so that a pass plans offer after offer without giving a ticket twice', () => {
    let free: FreePool = pool([2, 1], [0, 3]);
    const offers: LineTake[][] = [];
    for (const quantity of [2, 3, 1]) {
      const taken = takesForOffer(free, quantity)!;
      offers.push(taken.takes);
      free = taken.rest;
    }
    expect(freeOf(free)).toEqual([
      [0, 0],
      [0, 0],
    ]);
    expect(offers.flat().reduce((n, t) => n + t.fromLine + t.fromSale, 0)).toBe(6);
    expect(offers.flat().reduce((n, t) => n + t.fromLine, 0)).toBe(2);
    expect(takesForOffer(free, 1)).toBeUndefined();
  });
});

describe('releasing a booking’s tickets to the line or to the sale', () => {
  const booking = (status: Booking['status']): Booking => ({
    ...planBooking(event(), { id: 'b1', user_id: 'u1', quantity: 3, userTickets: 0 }, now, 900),
    status,
  });

  it('puts a PENDING booking’s tickets on sale by default', () => {
    expect(releaseDelta(booking('PENDING'))).toEqual({
      ...ZERO_COUNTERS,
      available_tickets: 3,
      tickets_held: -3,
      bookings_pending: -1,
      bookings_cancelled: 1,
    });
  });

  it('puts a PENDING booking’s tickets in the line’s hands, not on sale, while people wait', () => {
    expect(releaseDelta(booking('PENDING'), 'line')).toEqual({
      ...ZERO_COUNTERS,
      line_tickets: 3,
      tickets_held: -3,
      bookings_pending: -1,
      bookings_cancelled: 1,
    });
  });

  it('refunds a CONFIRMED booking either way, its tickets to the line when it is open', () => {
    expect(releaseDelta(booking('CONFIRMED'), 'line')).toEqual({
      ...ZERO_COUNTERS,
      line_tickets: 3,
      tickets_sold: -3,
      revenue_cents: -3750,
      bookings_confirmed: -1,
      bookings_cancelled: 1,
    });
    expect(releaseDelta(booking('CONFIRMED'), 'sale')).toMatchObject({ available_tickets: 3, line_tickets: 0 });
  });
});

describe('the statistics with a waiting list', () => {
  const base = (): EventWithStock => ({ ...event(), ...ZERO_COUNTERS, available_tickets: 10 });

  it('counts the tickets released to the line as held, so that the sum still makes the total', () => {
    const held = applyDelta(base(), { ...ZERO_COUNTERS, available_tickets: -10, tickets_held: 10, bookings_pending: 5 });
    const released = applyDelta(held, releaseDelta({ quantity: 3, status: 'PENDING', amount_cents: 3750 }, 'line'));
    const stats = toEventStats(released, { waiting: 2, tickets: 5 });
    expect(stats).toMatchObject({
      total_tickets: 10,
      tickets_sold: 0,
      tickets_held: 10,
      tickets_available: 0,
      bookings_pending: 4,
      bookings_cancelled: 1,
      waitlist_waiting: 2,
      waitlist_tickets: 5,
    });
    expect(stats.tickets_sold + stats.tickets_held + stats.tickets_available).toBe(stats.total_tickets);
  });

  it('shows an empty line as zeros when none is given', () => {
    expect(toEventStats(base())).toMatchObject({ tickets_held: 0, tickets_available: 10, waitlist_waiting: 0, waitlist_tickets: 0 });
  });
});

import type { Booking } from '../../lib/domain/booking';
import { AlreadyWaitingError, InsufficientTicketsError, PerUserLimitError, TicketsAvailableError } from '../../lib/domain/errors';
import type { WaitlistEntry } from '../../lib/domain/waitlist';
import { bookingStore } from '../../lib/store/bookings';
import { eventStore } from '../../lib/store/events';
import { recentEvents } from '../../lib/store/recent-events';
import { waitlistStore } from '../../lib/store/waitlist';
import { type BookingDeps, cancelBooking, createBooking } from '../../lib/usecases/bookings';
import { deleteEvent, eventStats, updateEvent } from '../../lib/usecases/events';
import { expireHold, payBooking } from '../../lib/usecases/holds';
import { getEntry, joinWaitlist, leaveWaitlist, offerTickets, sweepLines, type WaitlistDeps } from '../../lib/usecases/waitlist';
import { inBatches } from '../support/batches';
import { storedEvent } from '../support/events';
import * as recount from '../support/recount';
import { recordingGateway } from '../support/recording-gateway';
import { testTable } from '../support/table';
import { ONE_EVENT_CONCURRENCY } from '../support/under-the-model';

/*
 * The waiting list (lib/usecases/waitlist.ts, README "The waiting list") against
 * DynamoDB Local under the model of AWS: the release that hands tickets to the
 * line atomically, so that a storm of outside buyers right after a cancel gets
 * none of them; offers in line order, skipping who does not fit or is at the
 * cap; an offer that runs out passing on; concurrent offer steps; a burst of
 * releases; and a storm of cancels, outside bookings and leaving entries that
 * ends with the counters equal to a recount and no ticket given out of order.
 */

const table = testTable();
afterAll(() => table.close());

const events = eventStore(table);
const bookings = bookingStore(table);
const waitlist = waitlistStore(table);
const admin = { role: 'admin' } as const;
const user = (id: string) => ({ role: 'user', user_id: id }) as const;

let now = () => new Date();
const clock = () => now();
const bookingDeps: BookingDeps = { events: recentEvents(events), bookings, stock: events.stock, waitlist, holdSeconds: 900, clock };
const deps: WaitlistDeps = { events, bookings, stock: events.stock, waitlist, offerSeconds: 60, clock };

afterEach(() => {
  now = () => new Date();
});

const book = (userId: string, eventId: string, quantity: number) => createBooking(bookingDeps, { user_id: userId, event_id: eventId, quantity });
const join = async (userId: string, eventId: string, quantity: number) => (await joinWaitlist(deps, { user_id: userId, event_id: eventId, quantity })).entry;
const entry = async (id: string) => (await waitlist.get(id))!;

/** A sold-out event: `total` tickets, all held by one booking per ticket-block given. */
async function soldOut(total: number, holds: number[], fields: Record<string, unknown> = {}) {
  const event = await storedEvent(events, { total_tickets: total, max_per_booking: 100, ...fields });
  const held: Booking[] = [];
  for (const [i, quantity] of holds.entries()) held.push(await book(`holder-${event.id}-${i}`, event.id, quantity));
  return { event, held };
}

describe('joining the line', () => {
  it('refuses while the tickets are on sale, and a second entry of one user', async () => {
    const event = await storedEvent(events, { total_tickets: 3, max_per_booking: 5 });
    await expect(join('early', event.id, 2)).rejects.toBeInstanceOf(TicketsAvailableError);
    const first = await join('early', event.id, 4);
    expect(first).toMatchObject({ status: 'WAITING', quantity: 4 });
    await expect(join('early', event.id, 5)).rejects.toBeInstanceOf(AlreadyWaitingError);
    await expect(join('capped', (await storedEvent(events, { total_tickets: 1, max_per_user: 2 })).id, 3)).rejects.toBeInstanceOf(PerUserLimitError);
  });

  it('numbers the waiting entries 1, 2, 3, and closes the gap when one leaves', async () => {
    const { event } = await soldOut(2, [2]);
    const a = await join('pos-a', event.id, 1);
    const b = await join('pos-b', event.id, 1);
    const c = await join('pos-c', event.id, 1);
    expect((await getEntry(waitlist, c.id, admin)).position).toBe(3);
    await leaveWaitlist(deps, b.id, user('pos-b'));
    expect((await getEntry(waitlist, a.id, admin)).position).toBe(1);
    expect((await getEntry(waitlist, c.id, admin)).position).toBe(2);
    expect((await getEntry(waitlist, b.id, admin))).toMatchObject({ position: null, entry: { status: 'LEFT' } });
    expect(await eventStats(events, waitlist, event.id)).toMatchObject({ waitlist_waiting: 2, waitlist_tickets: 2 });
  });
});

describe('released tickets go to the line, atomically', () => {
  it(`keeps a cancelled booking's tickets from a storm of ${ONE_EVENT_CONCURRENCY} outside buyers, then offers them`, async () => {
    const { event, held } = await soldOut(2, [2]);
    const waiting = await join('patient', event.id, 2);

    await cancelBooking(bookingDeps, held[0]!.id, admin);
    const storm = await inBatches(
      Array.from({ length: ONE_EVENT_CONCURRENCY }, (_, i) => () => book(`outsider-${i}`, event.id, 1).then(() => 'booked', (e: unknown) => e)),
      ONE_EVENT_CONCURRENCY,
      (run) => run(),
    );
    expect(storm.filter((r) => !(r instanceof InsufficientTicketsError))).toEqual([]);
    expect(await eventStats(events, waitlist, event.id)).toMatchObject({ tickets_available: 0, tickets_held: 2 });

    expect(await offerTickets(deps, event.id)).toMatchObject({ offered: 1 });
    const offered = await entry(waiting.id);
    expect(offered).toMatchObject({ status: 'OFFERED', booking_id: expect.any(String) });
    const booking = (await bookings.get(offered.booking_id!))!;
    expect(booking).toMatchObject({ status: 'PENDING', user_id: 'patient', quantity: 2, waitlist_entry_id: waiting.id, expires_at: offered.offer_expires_at });
    await recount.expectCountersMatchRecount(table, event.id);
  });

  it('offers in order of joining, skipping who does not fit, and sells what fits nobody', async () => {
    const { event, held } = await soldOut(4, [2, 2]);
    const big = await join('big', event.id, 3);
    const small = await join('small', event.id, 1);
    const pair = await join('pair', event.id, 2);

    await cancelBooking(bookingDeps, held[0]!.id, admin);
    await offerTickets(deps, event.id);
    // 2 back: 'big' (3) does not fit, 'small' (1) does; the last ticket fits nobody.
    expect((await entry(big.id)).status).toBe('WAITING');
    expect((await entry(small.id)).status).toBe('OFFERED');
    expect((await entry(pair.id)).status).toBe('WAITING');
    expect(await eventStats(events, waitlist, event.id)).toMatchObject({ tickets_available: 1, waitlist_waiting: 2 });

    // 2 more back, with the 1 on sale: 3 free, and 'big' is first.
    await cancelBooking(bookingDeps, held[1]!.id, admin);
    await offerTickets(deps, event.id);
    expect((await entry(big.id)).status).toBe('OFFERED');
    expect((await entry(pair.id)).status).toBe('WAITING');
    expect(await eventStats(events, waitlist, event.id)).toMatchObject({ tickets_available: 0, tickets_held: 4 });
    await recount.expectCountersMatchRecount(table, event.id);
  });

  it('keeps the tickets on sale that fit an entry with the released ones from outside buyers', async () => {
    const event = await storedEvent(events, { total_tickets: 3, max_per_booking: 5 });
    const released = await book('part-a', event.id, 1);
    await book('part-x', event.id, 1);
    const waiting = await join('part-b', event.id, 2);

    await cancelBooking(bookingDeps, released.id, admin);
    await expect(book('part-outsider', event.id, 1)).rejects.toBeInstanceOf(InsufficientTicketsError);
    await offerTickets(deps, event.id);
    expect((await entry(waiting.id)).status).toBe('OFFERED');
    await recount.expectCountersMatchRecount(table, event.id);
  });

  it('skips a user at max_per_user and offers to the next', async () => {
    const { event, held } = await soldOut(4, [1, 2, 1], { max_per_user: 2 });
    const capped = await join(held[0]!.user_id, event.id, 1);
    const next = await join('after-capped', event.id, 1);
    // The cap falls to 1: the first in line holds 1 already, and may hold no more.
    await updateEvent(events, event.id, { max_per_user: 1 }, new Date(), waitlist);
    await cancelBooking(bookingDeps, held[2]!.id, admin);
    await offerTickets(deps, event.id);
    expect((await entry(capped.id)).status).toBe('WAITING');
    expect((await entry(next.id)).status).toBe('OFFERED');
    await recount.expectCountersMatchRecount(table, event.id);
  });

  it('gives the tickets of a raised total to the line first', async () => {
    const { event } = await soldOut(2, [2]);
    const waiting = await join('raise', event.id, 2);
    await updateEvent(events, event.id, { total_tickets: 5 }, new Date(), waitlist);
    expect(await eventStats(events, waitlist, event.id)).toMatchObject({ tickets_available: 0, tickets_held: 5 });
    await offerTickets(deps, event.id);
    expect((await entry(waiting.id)).status).toBe('OFFERED');
    // The third ticket fits nobody: on sale.
    expect(await eventStats(events, waitlist, event.id)).toMatchObject({ tickets_available: 1, tickets_held: 4 });
    await recount.expectCountersMatchRecount(table, event.id);
  });
});

describe('an offer is a hold', () => {
  it('paid, its entry is ACCEPTED; run out, its entry is EXPIRED and the tickets pass on', async () => {
    const { event, held } = await soldOut(2, [1, 1]);
    const first = await join('first-in-line', event.id, 1);
    const second = await join('second-in-line', event.id, 1);
    await cancelBooking(bookingDeps, held[0]!.id, admin);
    await cancelBooking(bookingDeps, held[1]!.id, admin);
    await offerTickets(deps, event.id);
    const a = await entry(first.id);
    const b = await entry(second.id);
    expect([a.status, b.status]).toEqual(['OFFERED', 'OFFERED']);

    await payBooking({ ...bookingDeps, gateway: recordingGateway() }, a.booking_id!, user('first-in-line'), 'tok_ok');
    expect((await entry(first.id)).status).toBe('ACCEPTED');

    const third = await join('third-in-line', event.id, 1);
    now = () => new Date(Date.parse(b.offer_expires_at!) + 1000);
    expect(await expireHold(bookingDeps, b.booking_id!)).toBe('expired');
    expect((await entry(second.id)).status).toBe('EXPIRED');
    expect(await eventStats(events, waitlist, event.id)).toMatchObject({ tickets_available: 0, tickets_held: 1 });
    await offerTickets(deps, event.id);
    expect((await entry(third.id)).status).toBe('OFFERED');
    // The user whose offer ran out may join again.
    await expect(join('second-in-line', event.id, 1)).resolves.toMatchObject({ status: 'WAITING' });
    await recount.expectCountersMatchRecount(table, event.id);
  });

  it('leaving an OFFERED entry cancels its booking and passes the tickets on', async () => {
    const { event, held } = await soldOut(1, [1]);
    const first = await join('leaver', event.id, 1);
    const second = await join('stayer', event.id, 1);
    await cancelBooking(bookingDeps, held[0]!.id, admin);
    await offerTickets(deps, event.id);
    const offered = await entry(first.id);
    await leaveWaitlist(deps, first.id, user('leaver'));
    expect(await entry(first.id)).toMatchObject({ status: 'LEFT' });
    expect(await bookings.get(offered.booking_id!)).toMatchObject({ status: 'CANCELLED', cancel_reason: 'USER_CANCELLED' });
    await offerTickets(deps, event.id);
    expect((await entry(second.id)).status).toBe('OFFERED');
    await recount.expectCountersMatchRecount(table, event.id);
  });

  it('deleting an event ends its waiting entries', async () => {
    const { event, held } = await soldOut(1, [1]);
    const waiting = await join('orphan', event.id, 1);
    await cancelBooking(bookingDeps, held[0]!.id, admin);
    // Not offered yet (no step ran): the event has no active booking.
    await deleteEvent(events, event.id, waitlist);
    expect((await entry(waiting.id)).status).toBe('LEFT');
  });
});

describe('whatever fails', () => {
  it('the sweeper makes the offers no stream record asked for, and lists only open lines', async () => {
    const { event, held } = await soldOut(1, [1]);
    const waiting = await join('swept', event.id, 1);
    await cancelBooking(bookingDeps, held[0]!.id, admin);
    expect(await waitlist.openLines()).toContain(event.id);

    const swept = await sweepLines(deps);
    expect(swept.offered).toBeGreaterThanOrEqual(1);
    expect((await entry(waiting.id)).status).toBe('OFFERED');

    // Nobody waits now: the next pass closes the line, and the sweeper no longer looks at it.
    await offerTickets(deps, event.id);
    expect(await waitlist.isOpen(event.id)).toBe(false);
    expect(await waitlist.openLines()).not.toContain(event.id);
  });

  it('puts tickets released to a line nobody waits in any more back on sale', async () => {
    const { event, held } = await soldOut(2, [2]);
    const waiting = await join('gone', event.id, 2);
    await cancelBooking(bookingDeps, held[0]!.id, admin);
    await leaveWaitlist(deps, waiting.id, user('gone'));
    expect(await offerTickets(deps, event.id)).toMatchObject({ offered: 0, returned: 2 });
    expect(await eventStats(events, waitlist, event.id)).toMatchObject({ tickets_available: 2, waitlist_waiting: 0 });
    await expect(book('buyer-after', event.id, 2)).resolves.toMatchObject({ status: 'PENDING' });
  });
});

describe('at scale', () => {
  it('makes every offer once when several offer steps run at once', async () => {
    const { event, held } = await soldOut(20, [20]);
    const line: WaitlistEntry[] = [];
    for (let i = 0; i < 25; i++) line.push(await join(`crowd-${i}`, event.id, 1));
    await cancelBooking(bookingDeps, held[0]!.id, admin);
    await Promise.all(Array.from({ length: 4 }, () => offerTickets(deps, event.id)));
    const statuses = await Promise.all(line.map(async (e) => (await entry(e.id)).status));
    expect(statuses).toEqual([...Array(20).fill('OFFERED'), ...Array(5).fill('WAITING')]);
    await recount.expectCountersMatchRecount(table, event.id);
  });

  it('absorbs a burst of releases in line order, in batches', async () => {
    const burst = 150;
    const { event, held } = await soldOut(burst, Array(burst / 10).fill(10), { stock_shards: 3 });
    const line: WaitlistEntry[] = [];
    for (let i = 0; i < burst + 10; i++) line.push(await join(`burst-${i}`, event.id, 1 + (i % 2)));
    await inBatches(held, ONE_EVENT_CONCURRENCY, (b) => cancelBooking(bookingDeps, b.id, admin));
    await offerTickets(deps, event.id);
    const statuses = await Promise.all(line.map(async (e) => ({ e, status: (await entry(e.id)).status })));
    // In order: the offered are a prefix of the line, the rest wait.
    const firstWaiting = statuses.findIndex((s) => s.status === 'WAITING');
    expect(statuses.slice(firstWaiting).every((s) => s.status === 'WAITING')).toBe(true);
    expect(statuses.slice(0, firstWaiting).reduce((n, s) => n + s.e.quantity, 0)).toBe(burst);
    await recount.expectCountersMatchRecount(table, event.id);
  });

  it('ends a storm of cancels, outside bookings and leaving entries with the counters equal to a recount', async () => {
    const { event, held } = await soldOut(30, Array(15).fill(2), { stock_shards: 3 });
    const line: WaitlistEntry[] = [];
    for (let i = 0; i < 20; i++) line.push(await join(`storm-${i}`, event.id, 1 + (i % 3)));
    const work: (() => Promise<unknown>)[] = [
      ...held.map((b) => () => cancelBooking(bookingDeps, b.id, admin)),
      ...Array.from({ length: 20 }, (_, i) => () => book(`outside-${i}`, event.id, 1).catch((e: unknown) => e)),
      ...line.filter((_, i) => i % 5 === 4).map((e) => () => leaveWaitlist(deps, e.id, admin).catch((error: unknown) => error)),
      ...Array.from({ length: 3 }, () => () => offerTickets(deps, event.id)),
    ].sort(() => Math.random() - 0.5);
    await inBatches(work, ONE_EVENT_CONCURRENCY, (run) => run());
    await offerTickets(deps, event.id);

    await recount.expectCountersMatchRecount(table, event.id);
    const final = await Promise.all(line.map((e) => entry(e.id)));
    // No ticket out of order: every entry still waiting wanted more than was free
    // when the line was last served, and nothing is left for the line.
    const stats = await eventStats(events, waitlist, event.id);
    expect(stats.tickets_sold + stats.tickets_held + stats.tickets_available).toBe(30);
    const shards = await events.stock.shards((await events.terms(event.id))!);
    expect(shards.reduce((n, s) => n + s.line_tickets, 0)).toBe(0);
    const stillWaiting = final.filter((e) => e.status === 'WAITING');
    for (const e of stillWaiting) expect(e.quantity).toBeGreaterThan(stats.tickets_available);
    // Nobody behind a waiting entry got an offer it would have fitted: when the
    // later entry was served, at least its quantity was free, so the earlier one,
    // still waiting and no larger, would have fitted first.
    const served = final.filter((e) => e.status === 'OFFERED' || e.status === 'ACCEPTED');
    const outOfOrder = served.flatMap((o) => stillWaiting.filter((w) => w.seq < o.seq && w.quantity <= o.quantity).map((w) => [w.id, o.id]));
    expect(outOfOrder).toEqual([]);
    expect(served.length).toBeGreaterThan(0);
    expect(stats.waitlist_waiting).toBe(stillWaiting.length);
  });
});

import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Booking } from '../../lib/domain/booking';
import { AppError, InsufficientTicketsError, NotFoundError } from '../../lib/domain/errors';
import { bookingStore } from '../../lib/store/bookings';
import { eventStore } from '../../lib/store/events';
import { keys } from '../../lib/store/keys';
import { CLOSED_VERSION } from '../../lib/store/stock';
import { recentEvents } from '../../lib/store/recent-events';
import { type BookingDeps, cancelBooking, createBooking } from '../../lib/usecases/bookings';
import { deleteEvent, getEvent, updateEvent } from '../../lib/usecases/events';
import { inBatches } from '../support/batches';
import { storedEvent } from '../support/events';
import * as recount from '../support/recount';
import { testTable } from '../support/table';
import { ONE_EVENT_CONCURRENCY } from '../support/under-the-model';
import { waitlistStore } from '../../lib/store/waitlist';

/*
 * The event's stock spread over shards (lib/domain/stock.ts, README "Never
 * overselling"), against DynamoDB Local under the model of AWS: the tail of a sale
 * whose last tickets sit on different shards, the number of shards and the total
 * changed while a storm buys, a PATCH of the terms that has not reached every
 * shard, and a delete. After each, the counters summed over the shards equal a
 * recount of the bookings.
 */

const table = testTable();
afterAll(() => table.close());

const events = eventStore(table);
const deps: BookingDeps = { events: recentEvents(events), bookings: bookingStore(table), stock: events.stock, waitlist: waitlistStore(table), holdSeconds: 900, clock: () => new Date() };
const admin = { role: 'admin' } as const;

type Attempt = { ok: true; booking: Booking } | { ok: false; error: unknown; quantity: number };
const attempt = (user: string, eventId: string, quantity: number, d: BookingDeps = deps): Promise<Attempt> =>
  createBooking(d, { user_id: user, event_id: eventId, quantity }).then(
    (booking) => ({ ok: true, booking }),
    (error: unknown) => ({ ok: false, error, quantity }),
  );

/** Every refusal was for want of tickets, and saw fewer than it asked for: nobody refused while tickets remained. */
function expectOnlyFairRefusals(results: Attempt[]) {
  const refusals = results.filter((r): r is Extract<Attempt, { ok: false }> => !r.ok);
  expect(refusals.filter((r) => !(r.error instanceof InsufficientTicketsError)).map((r) => String(r.error))).toEqual([]);
  expect(refusals.filter((r) => (r.error as InsufficientTicketsError).available >= r.quantity)).toEqual([]);
}

const shardsOf = async (eventId: string) => events.stock.shards((await events.terms(eventId))!);

describe('the tail of a sale, its last tickets on different shards', () => {
  it('sells every ticket, taking from several shards when no one shard has enough', async () => {
    const event = await storedEvent(events, { total_tickets: 3, stock_shards: 3 });
    expect((await shardsOf(event.id)).map((s) => s.available_tickets)).toEqual([1, 1, 1]);

    const two = await createBooking(deps, { user_id: 'tail-1', event_id: event.id, quantity: 2 });
    await expect(createBooking(deps, { user_id: 'tail-2', event_id: event.id, quantity: 2 })).rejects.toMatchObject({ available: 1, requested: 2 });
    await createBooking(deps, { user_id: 'tail-3', event_id: event.id, quantity: 1 });
    await expect(createBooking(deps, { user_id: 'tail-4', event_id: event.id, quantity: 1 })).rejects.toMatchObject({ available: 0 });

    expect(two.quantity).toBe(2);
    expect((await shardsOf(event.id)).map((s) => s.available_tickets)).toEqual([0, 0, 0]);
    expect(await recount.expectCountersMatchRecount(table, event.id)).toMatchObject({ tickets_held: 3, available_tickets: 0, bookings_pending: 2 });
  });

  it('gives a cancelled booking of several shards back whole, and sells it again', async () => {
    const event = await storedEvent(events, { total_tickets: 4, stock_shards: 4 });
    const four = await createBooking(deps, { user_id: 'whole-1', event_id: event.id, quantity: 4 });
    await cancelBooking(deps, four.id, admin);

    await expect(createBooking(deps, { user_id: 'whole-2', event_id: event.id, quantity: 4 })).resolves.toMatchObject({ quantity: 4 });
    expect(await recount.expectCountersMatchRecount(table, event.id)).toMatchObject({ tickets_held: 4, available_tickets: 0, bookings_cancelled: 1 });
  });

  // Five tickets a shard: the stock is scattered from the start, and every buyer
  // soon meets the others on the last few shards (each retry costs the local
  // emulator's latency, hence half the usual crowd).
  const crowd = ONE_EVENT_CONCURRENCY / 2;
  it(`sells exactly the stock to a storm of mixed quantities, ${crowd} at a time, refusing only what did not fit`, async () => {
    const event = await storedEvent(events, { total_tickets: 60, stock_shards: 12, max_per_booking: 3 });

    const results = await inBatches(Array.from({ length: 200 }, (_, i) => i), crowd, (i) => attempt(`mixed-${i % 30}`, event.id, 1 + (i % 3)));

    expectOnlyFairRefusals(results);
    const sold = results.reduce((n, r) => n + (r.ok ? r.booking.quantity : 0), 0);
    const after = await recount.expectCountersMatchRecount(table, event.id);
    expect(after.tickets_held).toBe(sold);
    // Demand far beyond the stock: what is left is less than the smallest request.
    expect(after.available_tickets).toBe(0);
  }, 60_000);
});

describe('changing the shards and the total while a storm buys', () => {
  it('never oversells, refuses nobody while tickets remain, and ends with the counters equal to a recount', async () => {
    const event = await storedEvent(events, { total_tickets: 400, stock_shards: 4 });
    const changes = [{ stock_shards: 10 }, { total_tickets: 450 }, { stock_shards: 2 }, { total_tickets: 380, stock_shards: 7 }, { stock_shards: 12 }];

    const [results, patches] = await Promise.all([
      inBatches(Array.from({ length: 600 }, (_, i) => i), ONE_EVENT_CONCURRENCY, (i) => attempt(`reshard-${i % 60}`, event.id, 1)),
      (async () => {
        const outcomes: PromiseSettledResult<unknown>[] = [];
        for (const change of changes) outcomes.push(...(await Promise.allSettled([updateEvent(events, event.id, change, new Date())])));
        return outcomes;
      })(),
    ]);

    // A PATCH may be refused (a total below what is held) but never fails otherwise.
    expect(patches.flatMap((p) => (p.status === 'rejected' && !(p.reason instanceof AppError) ? [String(p.reason)] : []))).toEqual([]);
    expect(patches.flatMap((p) => (p.status === 'rejected' && (p.reason as AppError).code !== 'tickets-committed' ? [String(p.reason)] : []))).toEqual([]);
    expectOnlyFairRefusals(results);
    const after = await recount.expectCountersMatchRecount(table, event.id);
    expect(after.tickets_held).toBe(results.filter((r) => r.ok).length);
    expect(after.tickets_held).toBeLessThanOrEqual(after.total_tickets);
    expect(after.stock_shards).toBe(12);
  }, 120_000);

  it('moves the stock off the shards no longer in use, keeping their counters in the sums', async () => {
    const event = await storedEvent(events, { total_tickets: 100, stock_shards: 10 });
    const held = await Promise.all(Array.from({ length: 20 }, (_, i) => createBooking(deps, { user_id: `shrink-${i}`, event_id: event.id, quantity: 1 })));

    const shrunk = await updateEvent(events, event.id, { stock_shards: 3 }, new Date());

    expect(shrunk).toMatchObject({ stock_shards: 3, stock_span: 10, available_tickets: 80, tickets_held: 20 });
    const shards = await shardsOf(event.id);
    expect(shards.filter((s) => s.index >= 3).map((s) => s.available_tickets)).toEqual([0, 0, 0, 0, 0, 0, 0]);
    const inUse = shards.filter((s) => s.index < 3).map((s) => s.available_tickets);
    expect(Math.max(...inUse) - Math.min(...inUse)).toBeLessThanOrEqual(Math.ceil(80 / 3 / 10) + 1);
    // A booking counted on a shard no longer in use still gives its tickets back.
    await cancelBooking(deps, held[0]!.id, admin);
    expect(await recount.expectCountersMatchRecount(table, event.id)).toMatchObject({ available_tickets: 81, tickets_held: 19 });
  });

  it('refuses nobody on a copy of the event older than the shards that now hold the stock', async () => {
    const event = await storedEvent(events, { total_tickets: 2, stock_shards: 1 });
    const stale: BookingDeps = { ...deps, events: recentEvents(events, { maxAgeMs: 3_600_000, maxEvents: 10 }) };
    await createBooking(stale, { user_id: 'copy-1', event_id: event.id, quantity: 2 });

    // Four tickets more, spread over shards the copy does not know of.
    await updateEvent(events, event.id, { stock_shards: 4, total_tickets: 6 }, new Date());
    expect((await shardsOf(event.id)).filter((s) => s.index > 0).reduce((n, s) => n + s.available_tickets, 0)).toBeGreaterThan(0);

    await expect(createBooking(stale, { user_id: 'copy-2', event_id: event.id, quantity: 4 })).resolves.toMatchObject({ quantity: 4 });
    expect(await recount.expectCountersMatchRecount(table, event.id)).toMatchObject({ tickets_held: 6, available_tickets: 0 });
  });

  it('spreads the stock over new shards when the number grows', async () => {
    const event = await storedEvent(events, { total_tickets: 90, stock_shards: 1 });

    const grown = await updateEvent(events, event.id, { stock_shards: 9 }, new Date());

    expect(grown).toMatchObject({ stock_shards: 9, available_tickets: 90 });
    const levels = (await shardsOf(event.id)).map((s) => s.available_tickets);
    expect(levels).toHaveLength(9);
    expect(Math.max(...levels) - Math.min(...levels)).toBeLessThanOrEqual(2);
  });
});

describe('a PATCH of the terms', () => {
  it('fences off bookings planned on the old price on every shard', async () => {
    const event = await storedEvent(events, { total_tickets: 50, stock_shards: 5, ticket_price: '10.00' });
    // A function's copy of the old terms, kept for an hour.
    const stale: BookingDeps = { ...deps, events: recentEvents(events, { maxAgeMs: 3_600_000, maxEvents: 10 }) };
    await createBooking(stale, { user_id: 'fence-0', event_id: event.id, quantity: 1 });

    await updateEvent(events, event.id, { ticket_price: 2000 }, new Date());

    const later = await Promise.all(Array.from({ length: 10 }, (_, i) => createBooking(stale, { user_id: `fence-${i + 1}`, event_id: event.id, quantity: 1 })));
    expect(later.map((b) => b.unit_price_cents)).toEqual(Array.from({ length: 10 }, () => 2000));
  });

  it('that reached the event item but not its shards is finished by the next booking', async () => {
    const event = await storedEvent(events, { total_tickets: 20, stock_shards: 4, ticket_price: '10.00' });
    // As if a PATCH had died after writing the event item: the shards still sell at version 1.
    await table.client.send(
      new UpdateCommand({
        TableName: table.name,
        Key: keys.event(event.id),
        UpdateExpression: 'SET version = :v, ticket_price_cents = :p',
        ExpressionAttributeValues: { ':v': 2, ':p': 3000 },
      }),
    );

    const booking = await createBooking({ ...deps, events: recentEvents(events) }, { user_id: 'rolled', event_id: event.id, quantity: 1 });

    expect(booking.unit_price_cents).toBe(3000);
    const shard = await table.client.send(new GetCommand({ TableName: table.name, Key: keys.stock(event.id, booking.stock_shard!), ConsistentRead: true }));
    expect(shard.Item?.version).toBe(2);
    await recount.expectCountersMatchRecount(table, event.id);
  });
});

describe('deleting a sharded event', () => {
  it('removes the event and every shard, after which a booking is a 404', async () => {
    const event = await storedEvent(events, { total_tickets: 50, stock_shards: 5 });

    await deleteEvent(events, event.id);

    await expect(getEvent(events, event.id)).rejects.toBeInstanceOf(NotFoundError);
    for (let i = 0; i < 5; i++) {
      const shard = await table.client.send(new GetCommand({ TableName: table.name, Key: keys.stock(event.id, i), ConsistentRead: true }));
      expect(shard.Item).toBeUndefined();
    }
    await expect(createBooking(deps, { user_id: 'after-delete', event_id: event.id, quantity: 1 })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('is refused while a booking counted on any shard is PENDING, and leaves every shard open', async () => {
    const event = await storedEvent(events, { total_tickets: 50, stock_shards: 5 });
    await createBooking(deps, { user_id: 'keeps-it', event_id: event.id, quantity: 1 });

    await expect(deleteEvent(events, event.id)).rejects.toMatchObject({ code: 'event-has-bookings' });

    expect((await shardsOf(event.id)).map((s) => s.version)).toEqual([1, 1, 1, 1, 1]);
    await expect(createBooking(deps, { user_id: 'still-open', event_id: event.id, quantity: 1 })).resolves.toMatchObject({ status: 'PENDING' });
  });

  it('opens again a shard left closed by a delete that did not go through, when the next delete is refused', async () => {
    const event = await storedEvent(events, { total_tickets: 20, stock_shards: 2 });
    await createBooking(deps, { user_id: 'before-close', event_id: event.id, quantity: 1 });
    // As if an earlier delete had closed shard 1 (its answer lost) and then given up.
    // (Under the model, a write to the shard the booking's transaction just wrote
    // may meet it still in flight: tried again, as the SDK would.)
    const close = () =>
      table.client.send(
        new UpdateCommand({
          TableName: table.name,
          Key: keys.stock(event.id, 1),
          UpdateExpression: 'SET version = :closed',
          ExpressionAttributeValues: { ':closed': CLOSED_VERSION },
        }),
      );
    await close().catch(async (error: unknown) => {
      if ((error as Error).name !== 'TransactionConflictException') throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
      return close();
    });

    await expect(deleteEvent(events, event.id)).rejects.toMatchObject({ code: 'event-has-bookings' });

    expect((await shardsOf(event.id)).map((s) => s.version)).toEqual([1, 1]);
    const all = await Promise.all(Array.from({ length: 19 }, (_, i) => createBooking(deps, { user_id: `reopened-${i}`, event_id: event.id, quantity: 1 })));
    expect(all).toHaveLength(19);
    await recount.expectCountersMatchRecount(table, event.id);
  });
});

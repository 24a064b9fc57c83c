import { randomUUID } from 'node:crypto';
import { EventHasBookingsError, NotFoundError } from '../domain/errors';
import { type CreateEventInput, type Event, type EventWithStock, newEvent, ticketDelta, type UpdateEventInput } from '../domain/event';
import { addTo, cutFrom, MAX_STOCK_SHARDS, rebalanceMoves, sumShards, type Take, takesFor } from '../domain/stock';
import type { EventStore } from '../store/events';
import type { Page, PageRequest } from '../store/pagination';
import { DEFAULT_RETRY, RETRY, withRetry } from '../store/retry';

/** Evening out the stock after a PATCH is done on its own budget: it helps the next sale, the PATCH has landed. */
const REBALANCE_RETRY = { ...DEFAULT_RETRY, budgetMs: 2000 };

/** Besides the event item, one transaction holds at most this many shards. */
const SHARDS_PER_TRANSACTION = MAX_STOCK_SHARDS - 1;

/** The fields a booking is planned on: changing one moves the event to a new version. */
const TERMS = ['ticket_price', 'max_per_booking', 'max_per_user', 'date_time'] as const;

/** Creates an event: validates its date against `now`, stores it with every ticket available. */
export async function createEvent(store: EventStore, input: CreateEventInput, now: Date): Promise<EventWithStock> {
  const event = newEvent(input, randomUUID(), now);
  await withRetry(async () => {
    await store.put(event);
    return true;
  });
  return getEvent(store, event.id);
}

export async function getEvent(store: EventStore, id: string): Promise<EventWithStock> {
  const event = await store.get(id);
  if (!event) throw new NotFoundError('event', id);
  return event;
}

export function listEvents(store: EventStore, page: PageRequest): Promise<Page<EventWithStock>> {
  return store.list(page);
}

/**
 * Applies a partial update.
 * 1. Read the event and every shard of its stock; 404 if absent.
 * 2. If total_tickets changes, work out where the difference goes: added evenly
 *    over the shards, or taken from the fullest (409 if the new total is below
 *    the tickets already sold or held).
 * 3. Growing to more shards: create the new ones first, empty, so that no booking
 *    is ever sent to a shard that does not exist.
 * 4. One transaction: the event item (conditioned on the version, total and
 *    shards read) with the stock the new total adds or takes away (each shard
 *    conditioned on still holding it). A booking or another PATCH landing in
 *    between makes it plan again from 1 (bounded: 503 with Retry-After).
 * 5. Settle: every shard takes the event's new version (a booking planned on the
 *    old terms then fails on every shard and plans again), and the stock is
 *    spread evenly over the shards in use (drained from shards no longer in use).
 */
export async function updateEvent(store: EventStore, id: string, changes: UpdateEventInput, now: Date): Promise<EventWithStock> {
  const updated = await withRetry(async () => {
    const current = await store.terms(id);
    if (!current) throw new NotFoundError('event', id);
    const shards = await store.stock.shards(current);
    const stockShards = changes.stock_shards ?? current.stock_shards;
    let restock: Take[] = [];
    if (changes.total_tickets !== undefined) {
      const delta = ticketDelta({ total_tickets: current.total_tickets, available_tickets: sumShards(shards).available_tickets }, changes.total_tickets);
      if (delta > 0) restock = addTo(Math.min(current.stock_shards, stockShards), delta, SHARDS_PER_TRANSACTION);
      if (delta < 0) {
        const cut = cutFrom(shards, -delta, SHARDS_PER_TRANSACTION);
        if (!cut) {
          // Spread too thin for one transaction: gather some of it, then plan again.
          const gather = takesFor(shards, -delta, SHARDS_PER_TRANSACTION);
          if (gather && 'consolidate' in gather) await store.stock.move(id, gather.consolidate);
          return RETRY;
        }
        restock = cut.map((take) => ({ shard: take.shard, quantity: -take.quantity }));
      }
    }
    if (stockShards > current.stock_span) {
      const added = Array.from({ length: stockShards - current.stock_span }, (_, i) => ({ index: current.stock_span + i, available: 0 }));
      await store.stock.create(id, added, current.version);
    }
    const termsChange = TERMS.some((field) => changes[field] !== undefined);
    const outcome = await store.update(
      id,
      changes,
      {
        expected: current,
        version: termsChange ? current.version + 1 : current.version,
        stockShards,
        stockSpan: Math.max(current.stock_span, stockShards),
        restock,
      },
      now,
    );
    if (outcome === RETRY) return RETRY;
    switch (outcome.kind) {
      case 'updated':
        return outcome.event;
      case 'missing':
        throw new NotFoundError('event', id);
      case 'event-changed':
      case 'stock-changed':
        return RETRY;
    }
  });
  await settle(store, updated);
  return getEvent(store, id);
}

/**
 * Brings every shard to the event's version, then evens out the stock over the
 * shards in use. Neither is needed for correctness (a booking that meets a shard
 * behind the event rolls it forward itself; a refusal reads every shard), so the
 * spreading stops when its budget runs out, and the next PATCH finishes it.
 */
async function settle(store: EventStore, event: Event): Promise<void> {
  const shards = await store.stock.shards(event);
  await Promise.all(shards.filter((s) => s.version < event.version).map((s) => withRetry(async () => {
    await store.stock.rollForward(event.id, s.index, event.version);
    return true;
  })));
  try {
    await withRetry(async () => {
      const now = await store.stock.shards(event);
      for (const move of rebalanceMoves(now, event.stock_shards)) {
        const moved = await store.stock.move(event.id, move);
        if (moved !== 'moved') return RETRY;
      }
      return true;
    }, REBALANCE_RETRY);
  } catch {
    // Busy shards: the stock stays as it is, every ticket of it on sale.
  }
}

/**
 * Deletes an event that has no PENDING or CONFIRMED booking.
 * 1. Read it: 404 if it does not exist.
 * 2. Delete it once its shards, closed to bookings, count none active (409 if
 *    they do); a booking landing meanwhile makes it try again.
 * An event that existed at 1 and is gone at 2 was deleted, by this request (a
 * Delete applied whose answer was lost and which the SDK sent again) or by another
 * at the same moment: either way the outcome asked for holds, so it is a 204.
 */
export async function deleteEvent(store: EventStore, id: string): Promise<void> {
  const event = await store.terms(id);
  if (!event) throw new NotFoundError('event', id);
  const outcome = await withRetry(() => store.remove(event));
  if (outcome.kind === 'has-bookings') throw new EventHasBookingsError(outcome.active);
}

import { randomUUID } from 'node:crypto';
import { EventHasBookingsError, NotFoundError } from '../domain/errors';
import { type CreateEventInput, type Event, type EventWithStock, newEvent, ticketDelta, type UpdateEventInput } from '../domain/event';
import { addTo, cutFrom, MAX_STOCK_SHARDS, rebalanceMoves, sumShards, type Take, takesFor } from '../domain/stock';
import type { EventStore } from '../store/events';
import type { Page, PageRequest } from '../store/pagination';
import { isTransient } from '../faults';
import type { WaitlistStore } from '../store/waitlist';
import { toEventStats } from '../domain/booking';
import { RETRY, withRetry } from '../store/retry';

/**
 * Evening out the stock after a PATCH stops after this long: it helps the sale,
 * but the PATCH has landed, and the request must end well inside the function's
 * timeout (lib/store/retry.ts).
 */
const REBALANCE_MS = 2000;

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
 * 2. If total_tickets changes, work out where the difference goes: added to the
 *    emptiest shard, or taken from the fullest (409 if the new total is below
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
export async function updateEvent(
  store: EventStore,
  id: string,
  changes: UpdateEventInput,
  now: Date,
  lines?: Pick<WaitlistStore, 'isOpen'>,
): Promise<EventWithStock> {
  const updated = await withRetry(async () => {
    const current = await store.terms(id);
    if (!current) throw new NotFoundError('event', id);
    const shards = await store.stock.shards(current);
    const stockShards = changes.stock_shards ?? current.stock_shards;
    let restock: Take[] = [];
    if (changes.total_tickets !== undefined) {
      const delta = ticketDelta({ total_tickets: current.total_tickets, available_tickets: sumShards(shards).available_tickets }, changes.total_tickets);
      if (delta > 0) restock = addTo(shards, Math.min(current.stock_shards, stockShards), delta);
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
    // A raised total is tickets coming back like any release: the line's first, if people wait.
    const restockTo = restock.some((t) => t.quantity > 0) && lines && (await lines.isOpen(id)) ? 'line' : 'sale';
    const outcome = await store.update(
      id,
      changes,
      {
        expected: current,
        version: termsChange ? current.version + 1 : current.version,
        stockShards,
        stockSpan: Math.max(current.stock_span, stockShards),
        restock,
        restockTo,
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
  await settle(store, updated, changes.stock_shards !== undefined);
  return getEvent(store, id);
}

/**
 * Brings every shard to the event's version, then, when the number of shards
 * changed (or a reshard left stock on shards no longer in use), evens out the
 * stock over the shards in use. A change of the total needs no spreading: it is
 * added evenly and taken from the fullest. Neither step is needed for
 * correctness (a booking that meets a shard behind the event rolls it forward
 * itself; a refusal reads every shard), and moving stock during a sale competes
 * with the buyers for the shards, so the spreading stops when its budget runs
 * out, and the next PATCH of `stock_shards` finishes it.
 */
async function settle(store: EventStore, event: Event, resharded: boolean): Promise<void> {
  const shards = await store.stock.shards(event);
  await Promise.all(shards.filter((s) => s.version < event.version).map((s) => withRetry(async () => {
    await store.stock.rollForward(event.id, s.index, event.version);
    return true;
  })));
  const stranded = shards.some((s) => s.index >= event.stock_shards && s.available_tickets > 0);
  if (!resharded && !stranded) return;
  const deadline = Date.now() + REBALANCE_MS;
  try {
    while (Date.now() < deadline) {
      const moves = rebalanceMoves(await store.stock.shards(event), event.stock_shards);
      if (moves.length === 0) return;
      for (const move of moves) {
        if (Date.now() >= deadline) return;
        // A buyer took from the shard meanwhile, or held it: plan the moves again.
        if ((await store.stock.move(event.id, move)) !== 'moved') break;
      }
    }
  } catch (error) {
    // A fault of the table: the stock stays where it is, every ticket of it on sale.
    if (!isTransient(error)) throw error;
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
export async function deleteEvent(store: EventStore, id: string, lines?: Pick<WaitlistStore, 'endLine'>, now = new Date()): Promise<void> {
  const event = await store.terms(id);
  if (!event) throw new NotFoundError('event', id);
  const outcome = await withRetry(() => store.remove(event));
  if (outcome.kind === 'has-bookings') throw new EventHasBookingsError(outcome.active);
  // Its waiting entries end with it (an OFFERED one has a PENDING booking, so there is none).
  await lines?.endLine(id, now);
}

/** The statistics: the event's shards summed, and its line's block counts summed. */
export async function eventStats(store: EventStore, lines: Pick<WaitlistStore, 'blocks'>, id: string) {
  const [event, blocks] = await Promise.all([getEvent(store, id), lines.blocks(id)]);
  const line = blocks.reduce((sum, b) => ({ waiting: sum.waiting + Math.max(0, b.waiting), tickets: sum.tickets + Math.max(0, b.tickets) }), { waiting: 0, tickets: 0 });
  return toEventStats(event, line);
}

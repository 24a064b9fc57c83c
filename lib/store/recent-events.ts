import type { Event } from '../domain/event';
import type { Shard } from '../domain/stock';
import type { EventStore } from './events';

/** An event as read, and whether it was read from the table just now. */
export interface EventRead {
  event: Event | undefined;
  fresh: boolean;
}

/**
 * The events a booking function has read lately, kept in the process for a moment
 * so that a run of bookings of one event does not read the event item before
 * every transaction.
 *
 * Why a copy that may be out of date is safe here: the booking transaction
 * (lib/store/bookings.ts) re-checks everything the copy is used for. It requires
 * the event's `version` to be the copy's on every shard it writes, so a booking is
 * never priced or limited by a PATCH it has not seen, and each shard checks its
 * own tickets. A stale copy can only make the transaction fail, and the failure
 * says the version moved (then `forget` drops the copy). What a stale copy must
 * never do is refuse a buyer on its own: that is the caller's rule
 * (lib/usecases/bookings.ts), which reads `fresh` before refusing on the terms,
 * and every shard before refusing for want of tickets.
 */
export interface RecentEvents {
  /** The event from the copy kept in this process when it is recent enough, else from the table. */
  get(id: string): Promise<EventRead>;
  /** The event read from the table now (strongly consistent), kept for the next `get`. */
  fresh(id: string): Promise<Event | undefined>;
  /** Drops the copy (the event changed or is gone). */
  forget(id: string): void;
  /**
   * The event's shards as this process last read them all, if that was a moment
   * ago: where the tickets were. A hint for which shard to try, never a ground
   * for a refusal.
   */
  stockOf(id: string): Shard[] | undefined;
  /** Keeps the shards as a read of every shard just found them. */
  sawStock(id: string, shards: Shard[]): void;
}

export interface RecentEventsOptions {
  /** How long a copy is used; 0 reads the table every time. */
  maxAgeMs: number;
  /** How many events are kept at most; the oldest copy goes first. */
  maxEvents: number;
  now?: () => number;
}

/**
 * A copy read up to five seconds ago: a warm function selling one event reads the
 * event item once every five seconds instead of before every booking, even when
 * it sells only a few a second. Correctness does not depend on the age (the
 * transaction checks the version, a refusal is re-read); the age only bounds how
 * often a stale copy costs a failed transaction or an extra read.
 */
export const RECENT: RecentEventsOptions = { maxAgeMs: 5000, maxEvents: 1000 };

/** No copy: every booking reads its event (what a function sees when it has not read it lately). */
export const NO_COPY: RecentEventsOptions = { maxAgeMs: 0, maxEvents: 0 };

export function recentEvents(store: Pick<EventStore, 'terms'>, options: RecentEventsOptions = RECENT): RecentEvents {
  const now = options.now ?? (() => performance.now());
  // A Map iterates in insertion order: re-inserting on every store keeps the
  // oldest copy first, which is the one to drop when full.
  const kept = new Map<string, { event: Event; at: number }>();
  const stock = new Map<string, { shards: Shard[]; at: number }>();

  const keep = (event: Event) => {
    if (options.maxAgeMs <= 0) return;
    kept.delete(event.id);
    kept.set(event.id, { event, at: now() });
    while (kept.size > options.maxEvents) kept.delete(kept.keys().next().value!);
  };

  const fresh = async (id: string) => {
    const event = await store.terms(id);
    if (event) keep(event);
    else kept.delete(id);
    return event;
  };

  // Reads in flight for `get`, by event: concurrent bookings of an event that is
  // not kept (a cold process in a crowd, or the copy just aged out) share one
  // read. A read joined after it started may miss a write made in between, so
  // it is not `fresh` for the one who joined (a refusal then reads again).
  const reading = new Map<string, Promise<Event | undefined>>();

  return {
    async get(id) {
      const copy = kept.get(id);
      if (copy && now() - copy.at < options.maxAgeMs) return { event: copy.event, fresh: false };
      const joined = reading.get(id);
      if (joined) return { event: await joined, fresh: false };
      const read = fresh(id).finally(() => reading.delete(id));
      reading.set(id, read);
      return { event: await read, fresh: true };
    },
    fresh,
    forget(id) {
      kept.delete(id);
    },
    stockOf(id) {
      const copy = stock.get(id);
      return copy && now() - copy.at < options.maxAgeMs ? copy.shards : undefined;
    },
    sawStock(id, shards) {
      if (options.maxAgeMs <= 0) return;
      stock.delete(id);
      stock.set(id, { shards, at: now() });
      while (stock.size > options.maxEvents) stock.delete(stock.keys().next().value!);
    },
  };
}

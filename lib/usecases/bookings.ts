import { randomUUID } from 'node:crypto';
import { type Booking, cancelBooking as cancelled, type CounterDelta, planBooking, releaseDelta } from '../domain/booking';
import type { Caller } from '../domain/caller';
import {
  AppError,
  IdempotencyInProgressError,
  InsufficientTicketsError,
  NotFoundError,
  PerUserLimitError,
} from '../domain/errors';
import type { Clock } from '../domain/time';
import type { BookingFilter, BookingStore } from '../store/bookings';
import type { StockStore } from '../store/stock';
import { accountsFor, MAX_STOCK_SHARDS, type Move, pickShard, sumShards, type Take, takesFor } from '../domain/stock';
import type { Event } from '../domain/event';
import type { RecentEvents } from '../store/recent-events';
import type { IdempotencyCompletion } from '../ports';
import type { WaitlistStore } from '../store/waitlist';
import type { Page, PageRequest } from '../store/pagination';
import { RETRY, withRetry } from '../store/retry';

/**
 * A booking's reads of the stock end this long after its retry budget
 * (lib/store/retry.ts): the time of one more attempt, inside the function's 10 s
 * timeout, so that a read slowed by a crowd becomes a 503, not a timeout.
 */
const READ_GRACE_MS = 1000;

/** Reads of every shard before a refusal gives up on seeing them still (a PATCH moving stock): then it is retried. */
const FULL_READS = 3;

/** How many times one attempt tries again at once on what a failed transaction taught it. */
const NEWS_PER_ATTEMPT = 4;

/** One transaction holds the tally, the booking and the key record besides the shards it takes from. */
const MAX_TAKES = MAX_STOCK_SHARDS - 3;

export interface BookingDeps {
  /** The event store behind a short per-process copy (lib/store/recent-events.ts). */
  events: RecentEvents;
  bookings: BookingStore;
  stock: StockStore;
  /** Whether released tickets go to the event's waiting list, and the entries offers end. */
  waitlist: WaitlistStore;
  holdSeconds: number;
  clock: Clock;
  /** Where a use case reports what went wrong without failing the request. */
  log?: (message: string, data: Record<string, unknown>) => void;
}

/**
 * Books `quantity` tickets of an event for a user, holding them until the booking
 * expires.
 * 1. Plan the booking (`plan` below) on the event as recently read: price it, or
 *    refuse it (404, 422, 409), but refuse only on a fresh read.
 * 2. Run the booking transaction (lib/store/bookings.ts), which re-checks all of
 *    it atomically, on a shard of the event's stock (`holdTickets` below). A
 *    failed condition becomes its problem; a PATCH that landed in between (or a
 *    copy older than it) means plan again on a fresh read; a transaction conflict
 *    or throttle is retried with backoff on another shard, under the same booking
 *    id, so an attempt applied but unanswered is found, not repeated.
 * The request ends there. The hold's timer is started from the table's stream
 * (lib/usecases/hold-timers.ts): the new booking is the outbox entry, so no hold
 * is left without a timer whatever happens to this function after its
 * transaction, and the booking pays nothing for the timer.
 * `complete` adds the Idempotency-Key record's completion to the transaction.
 */
export async function createBooking(
  deps: BookingDeps,
  request: { user_id: string; event_id: string; quantity: number },
  complete?: (booking: Booking) => IdempotencyCompletion,
): Promise<Booking> {
  return (await holdTickets(deps, request, complete)).booking;
}

function holdTickets(
  deps: BookingDeps,
  request: { user_id: string; event_id: string; quantity: number },
  complete?: (booking: Booking) => IdempotencyCompletion,
): Promise<{ booking: Booking; completion: IdempotencyCompletion | undefined }> {
  // One id for every attempt of this request: an attempt whose answer was lost
  // may have been applied, and the next one then finds its booking instead of
  // making a second.
  const id = randomUUID();
  // Shards that cancelled or throttled this request's transaction: tried last.
  const busy = new Set<number>();
  return withRetry(async (budgetEnds) => {
    // Reads of the stock are abandoned after this (a 503), well inside the function's timeout.
    const deadline = budgetEnds + READ_GRACE_MS;
    const { event, booking } = await plan(deps, { ...request, id }, deps.clock());
    const completion = complete?.(booking);
    let from = await firstTry(deps, event, booking.quantity, busy, deadline);
    // A shard short of tickets, behind the event, or busy with another buyer's
    // transaction while others are not, is news rather than a lost race: try
    // again at once with what was learnt, a few times, before backing off, but
    // not past the request's retry budget (then it is a 503, never a function
    // timed out).
    for (let news = 0; news < NEWS_PER_ATTEMPT && Date.now() < budgetEnds; news++) {
      const outcome = await deps.bookings.create(booking, { eventVersion: event.version, maxPerUser: event.max_per_user, takes: from }, completion);
      switch (outcome.kind) {
        case 'created':
          return { booking: { ...booking, stock_shard: from[0]!.shard }, completion };
        case 'created-before': {
          const stored = await deps.bookings.get(id);
          if (!stored) throw new Error(`Booking ${id} was written by this request but cannot be read`);
          return { booking: stored, completion };
        }
        case 'contended': {
          // Another buyer's transaction holds that shard: go to another at once
          // while one is left that has not been busy for this request; back off
          // only when every shard has been.
          for (const shard of outcome.shards) busy.add(shard);
          const free = from.length === 1 && outcome.shards.length > 0 && busy.size < event.stock_shards;
          if (free) {
            from = [{ shard: pickShard(event.stock_shards, busy), quantity: booking.quantity }];
            continue;
          }
          busy.clear();
          return RETRY;
        }
        case 'event-changed':
          deps.events.forget(request.event_id);
          return RETRY;
        case 'shard-missing':
        case 'shard-behind': {
          // The event as the table has it now: gone (404), or changed by a PATCH
          // that has not reached this shard yet, which this request then finishes.
          const fresh = await deps.events.fresh(request.event_id);
          if (!fresh) throw new NotFoundError('event', request.event_id);
          if (fresh.version !== event.version) return RETRY;
          if (outcome.kind === 'shard-behind') await deps.stock.rollForward(fresh.id, outcome.shard, fresh.version);
          else if (outcome.shard < fresh.stock_span) await deps.stock.create(fresh.id, [{ index: outcome.shard, available: 0 }], fresh.version);
          continue;
        }
        case 'shard-short': {
          // Not a refusal yet: only a read of every shard can say the tickets are gone.
          const found = await takesFromEveryShard(deps, event, booking.quantity, busy, deadline);
          if ('unsure' in found) return RETRY;
          if ('consolidate' in found) {
            await deps.stock.move(event.id, found.consolidate);
            return RETRY;
          }
          from = found.takes;
          continue;
        }
        case 'per-user-limit':
          throw new PerUserLimitError(event.max_per_user ?? 0, outcome.held, request.quantity);
        case 'idempotency-lost':
          throw new IdempotencyInProgressError();
      }
    }
    return RETRY;
  });
}

/**
 * Where a booking tries first. With no recent read of the shards: a shard at
 * random. With one (this process read every shard a moment ago): a shard that had
 * the tickets, at random among those; and when none had them, every shard is read
 * again first, so that a sold-out event refuses with a read, not a transaction
 * that would fail (and, on AWS, hold its shard from the buyers who can succeed).
 */
async function firstTry(deps: BookingDeps, event: Event, quantity: number, busy: ReadonlySet<number>, deadline: number): Promise<Take[]> {
  const seen = deps.events.stockOf(event.id);
  if (!seen) return [{ shard: pickShard(event.stock_shards, busy), quantity }];
  const hinted = takesFor(
    seen.filter((s) => s.index < event.stock_shards),
    quantity,
    MAX_TAKES,
    busy,
  );
  if (hinted && 'takes' in hinted && hinted.takes.length === 1) return hinted.takes;
  const found = await takesFromEveryShard(deps, event, quantity, busy, deadline);
  return 'takes' in found ? found.takes : [{ shard: pickShard(event.stock_shards, busy), quantity }];
}

/**
 * Reads every shard of the event (strongly consistent) and says where `quantity`
 * tickets are. The refusal for want of tickets is given here and only here: when
 * the shards, read just now, hold fewer together.
 *
 * Before refusing, the read must be known to have seen every ticket: the copy
 * of the event may be a moment old (a PATCH may have added shards, and moved
 * stock onto them), and the shards are read one by one, not as one snapshot (a
 * move between two of them may fall in between). So the event item is read
 * after the shards, and the refusal stands only if the shards were all of its
 * shards and account for its total (`accountsFor`); otherwise they are read again.
 */
async function takesFromEveryShard(
  deps: BookingDeps,
  event: Event,
  quantity: number,
  busy: ReadonlySet<number>,
  deadline: number,
): Promise<{ takes: Take[] } | { consolidate: Move } | { unsure: true }> {
  let terms = event;
  for (let read = 0; read < FULL_READS; read++) {
    const shards = await deps.stock.shards(terms, deadline);
    deps.events.sawStock(event.id, shards);
    const found = takesFor(shards, quantity, MAX_TAKES, busy);
    if (found) return found;
    const now = await deps.events.fresh(event.id);
    if (!now) throw new NotFoundError('event', event.id);
    if (now.stock_span === terms.stock_span && accountsFor(shards, now)) {
      throw new InsufficientTicketsError(sumShards(shards).available_tickets, quantity);
    }
    terms = now;
  }
  return { unsure: true };
}

/**
 * The booking planned on the event as this process last read it (planBooking: the
 * price, and the refusals already certain: 404, 422 over max_per_booking, 409
 * started, per-user limit; the tickets are the shards' to refuse).
 *
 * A copy kept from a moment ago spares the read of the event item before each
 * transaction, and the transaction's `version` condition makes a booking planned
 * on an outdated copy fail rather than sell at an old price. But a refusal must
 * not rest on an outdated copy: a PATCH can raise a limit or move the date. So
 * when the copy says no, the event is read again, strongly consistent, and only
 * that read can refuse.
 */
async function plan(
  deps: BookingDeps,
  request: { id: string; user_id: string; event_id: string; quantity: number },
  now: Date,
): Promise<{ event: Event; booking: Booking }> {
  const planOn = async (event: Event | undefined) => {
    if (!event) throw new NotFoundError('event', request.event_id);
    // The tally is always read from the table: it is the user's, not the event's.
    const userTickets = event.max_per_user === null ? 0 : await deps.bookings.userTickets(event.id, request.user_id);
    const booking = planBooking(event, { id: request.id, user_id: request.user_id, quantity: request.quantity, userTickets }, now, deps.holdSeconds);
    return { event, booking };
  };
  const recent = await deps.events.get(request.event_id);
  if (recent.fresh) return planOn(recent.event);
  try {
    return await planOn(recent.event);
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
  }
  return planOn(await deps.events.fresh(request.event_id));
}

/** A booking as its owner or the admin sees it; 404 for anyone else, as if it did not exist. */
export async function getBooking(bookings: BookingStore, id: string, caller: Caller): Promise<Booking> {
  const booking = await bookings.get(id);
  const visible = booking && (caller.role === 'admin' || (caller.role === 'user' && booking.user_id === caller.user_id));
  if (!visible) throw new NotFoundError('booking', id);
  return booking;
}

/**
 * Cancels a PENDING or CONFIRMED booking and puts its tickets back on sale.
 * 1. Read it (404 unless the owner or the admin asks).
 * 2. 409 if it is already CANCELLED.
 * 3. One transaction: the booking to CANCELLED *if its status is still the one we
 *    read*, the event's counters and the user's tally moved back. If the status
 *    changed meanwhile (a payment, another cancel), read again and decide again:
 *    of two concurrent cancels one releases the tickets, the other gets 409.
 */
export function cancelBooking(deps: BookingDeps, id: string, caller: Caller): Promise<Booking> {
  const changeId = randomUUID();
  return withRetry(async () => {
    const booking = await getBooking(deps.bookings, id, caller);
    // Cancelled by this request on an attempt whose answer was lost: done, not a 409.
    if (booking.status === 'CANCELLED' && booking.change_id === changeId) return booking;
    const now = deps.clock();
    const next = cancelled(booking, 'USER_CANCELLED', now);
    const outcome = await deps.bookings.transition(booking, next, {
      changeId,
      ...(await releaseChange(deps, booking)),
      tallyDelta: -booking.quantity,
      // A cancelled offer's entry has run its course: the tickets go to the next in line.
      entry: booking.status === 'PENDING' ? { to: 'EXPIRED', now } : undefined,
    });
    if (outcome === RETRY || outcome.kind === 'status-changed') return RETRY;
    return outcome.booking;
  });
}

/**
 * How a booking's release moves its shard: its tickets back on sale, or, while
 * the event's waiting list is open (lib/usecases/waitlist.ts tells why this
 * read, before the release's own transaction, is enough), to the line, with the
 * shard's tickets still on sale gathered for the line too.
 */
export async function releaseChange(
  deps: Pick<BookingDeps, 'waitlist' | 'stock'>,
  booking: Booking,
): Promise<{ delta: CounterDelta; gather: number | undefined }> {
  if (!(await deps.waitlist.isOpen(booking.event_id))) return { delta: releaseDelta(booking, 'sale'), gather: undefined };
  const shard = await deps.stock.shard(booking.event_id, booking.stock_shard ?? 0);
  return { delta: releaseDelta(booking, 'line'), gather: Math.max(0, shard?.available_tickets ?? 0) };
}

/** A user sees their own bookings (optionally filtered); the admin sees all, filtered by event and status. */
export function listBookings(
  bookings: BookingStore,
  caller: Caller,
  filter: Omit<BookingFilter, 'user_id'>,
  page: PageRequest,
): Promise<Page<Booking>> {
  const scope: BookingFilter = caller.role === 'user' ? { ...filter, user_id: caller.user_id } : filter;
  return bookings.list(scope, page);
}

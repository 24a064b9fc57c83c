import { randomUUID } from 'node:crypto';
import { cancelBooking as cancelled } from '../domain/booking';
import { releaseChange } from './bookings';
import type { Caller } from '../domain/caller';
import { AlreadyWaitingError, NotFoundError, TicketsAvailableError } from '../domain/errors';
import type { Event } from '../domain/event';
import { accountsFor, type FreePool, freePool, sumShards, takesForOffer } from '../domain/stock';
import {
  assertMayLeave,
  assertMayWait,
  blockOf,
  type Candidate,
  chooseOffers,
  offerBooking,
  smallestWanted,
  type WaitlistEntry,
} from '../domain/waitlist';
import type { Clock } from '../domain/time';
import type { BookingStore } from '../store/bookings';
import type { Page, PageRequest } from '../store/pagination';
import { RETRY, withRetry } from '../store/retry';
import type { StockStore } from '../store/stock';
import type { Offer, WaitlistFilter, WaitlistStore } from '../store/waitlist';

/*
 * THE WAITING LIST: why tickets that come back reach the people in line, and
 * nobody else, however concurrent the requests.
 *
 * Each stock shard has, beside the tickets on sale (`available_tickets`, the only
 * ones a booking's transaction may take), the tickets released to the line
 * (`line_tickets`), which no booking can take. Every release (a cancel, an
 * expiry, an offer that ran out, a raised total) first reads whether the event's
 * line is open (someone waits), and then, in its own transaction, puts the
 * tickets on sale or in the line's hands:
 *
 *   cancel B (q=2), line open    shard 4: held -2, line_tickets +2   (one transaction
 *                                BOOKING#B: CANCELLED                 with the booking)
 *   outside buyer, any moment    takes available_tickets only: cannot get them
 *
 * So between a release and its offer there is no moment when an outside buyer,
 * or anyone behind the entry that fits, could book the released tickets: the
 * release itself put them out of a booking's reach, atomically.
 *
 * The offer step (`offerTickets`) then gives them out in line order. It runs on
 * the table's stream (a shard holding line tickets, a new entry), within a
 * second, and from the sweeper every minute, so an offer is made whatever
 * fails: a consumer that dies is delivered the records again, and the sweeper
 * looks at every open line. It reads the line's block counts (one small item
 * per LINE_BLOCK places), the shards, and only the blocks where an entry could
 * fit, and chooses in order (`chooseOffers`: the earliest WAITING entry that
 * fits, skipping one that does not and one whose user is at max_per_user). Each
 * batch of offers is one transaction:
 *
 *   entry E: WAITING -> OFFERED     IF status = WAITING
 *   BOOKING#<new>: PENDING, for E's user, expiring after WAITLIST_OFFER_SECONDS
 *   tally of E's user += q          IF within max_per_user
 *   shard k: line_tickets -= a, available -= b, held += a + b
 *                                   IF line_tickets >= a AND available >= b
 *                                   AND version = <the event's>
 *   line block: waiting -= 1, tickets -= q
 *
 * Two steps racing for one event both plan from the head of the line; the
 * second's conditions fail on what the first took, and it plans again from a
 * fresh read: no entry gets two offers and no ticket is given twice. Tickets no
 * waiting entry fits (the line read to its end) go back on sale. When the line
 * is empty it closes, on condition that nobody took a place since it was read;
 * a join opens it again before its entry is written.
 *
 * An offer is a booking like any other: its hold is timed from the stream,
 * swept when due, paid or cancelled through /bookings. Its end ends the entry
 * in the same transaction (ACCEPTED, EXPIRED, LEFT), and its tickets, released
 * to the still open line, go to the next entry that fits.
 *
 * One race is left to chance, and it is fair: a release that reads the line
 * closed an instant before someone's first join puts its tickets on sale. The
 * new entry's INSERT on the stream starts an offer step, which offers it the
 * tickets on sale that fit; a buyer who got there first bought them.
 */

/** Offers made in one transaction: four items each at most, beside the shards they take from. */
const OFFERS_PER_TRANSACTION = 10;

/** Offers planned on one read of the line and the stock, then made a transaction at a time. */
const OFFERS_PER_PASS = 200;

/** What DynamoDB takes in one TransactWriteItems. */
const MAX_TRANSACTION_ITEMS = 100;

/** How long one offer step keeps offering before it leaves the rest to the next (the stream and the sweeper). */
const STEP_BUDGET_MS = 20_000;

export interface WaitlistDeps {
  events: { terms(id: string): Promise<Event | undefined> };
  bookings: BookingStore;
  stock: StockStore;
  waitlist: WaitlistStore;
  offerSeconds: number;
  clock: Clock;
  log?: (message: string, data: Record<string, unknown>) => void;
}

export interface EntryWithPosition {
  entry: WaitlistEntry;
  position: number | null;
}

/**
 * Puts a user in the event's line for `quantity` tickets.
 * 1. The event as it is now (404), the same refusals as a booking (422, 409
 *    started, 409 per-user limit), 409 `already-waiting` for a second entry.
 * 2. 409 `tickets-available` when the shards hold that many on sale right now:
 *    book them instead.
 * 3. A place in line (the line opens: releases go to it from now on), then one
 *    transaction: the entry, the user's one-entry guard, its block's counts.
 */
export async function joinWaitlist(deps: WaitlistDeps, request: { user_id: string; event_id: string; quantity: number }): Promise<EntryWithPosition> {
  const id = randomUUID();
  const event = await deps.events.terms(request.event_id);
  if (!event) throw new NotFoundError('event', request.event_id);
  const userTickets = event.max_per_user === null ? 0 : await deps.bookings.userTickets(event.id, request.user_id);
  assertMayWait(event, { quantity: request.quantity, userTickets }, deps.clock());
  const active = await deps.waitlist.activeEntryOf(event.id, request.user_id);
  if (active) throw new AlreadyWaitingError(active);
  const available = sumShards(await deps.stock.shards(event)).available_tickets;
  if (available >= request.quantity) throw new TicketsAvailableError(available, request.quantity);

  const seq = await deps.waitlist.nextSeq(event.id);
  const now = deps.clock().toISOString();
  const entry: WaitlistEntry = {
    id,
    event_id: event.id,
    user_id: request.user_id,
    quantity: request.quantity,
    status: 'WAITING',
    seq,
    booking_id: null,
    offer_expires_at: null,
    created_at: now,
    updated_at: now,
  };
  const outcome = await withRetry(() => deps.waitlist.join(entry));
  if (outcome.kind === 'already-waiting') throw new AlreadyWaitingError(outcome.entryId);
  return { entry, position: await positionOf(deps.waitlist, entry) };
}

/**
 * An entry's 1-based rank among the event's WAITING entries: the WAITING
 * entries of the blocks before its own (one small item each) and those ahead of
 * it within its block (a count on the line's index), never the whole line.
 */
export async function positionOf(waitlist: WaitlistStore, entry: WaitlistEntry): Promise<number | null> {
  if (entry.status !== 'WAITING') return null;
  const mine = blockOf(entry.seq);
  const [blocks, ahead] = await Promise.all([waitlist.blocks(entry.event_id), waitlist.aheadInBlock(entry.event_id, entry.seq)]);
  const before = blocks.filter((b) => b.block < mine).reduce((n, b) => n + Math.max(0, b.waiting), 0);
  return before + ahead + 1;
}

/** An entry as its owner or the admin sees it; 404 for anyone else. */
export async function getEntry(waitlist: WaitlistStore, id: string, caller: Caller): Promise<EntryWithPosition> {
  const entry = await visibleEntry(waitlist, id, caller);
  return { entry, position: await positionOf(waitlist, entry) };
}

async function visibleEntry(waitlist: WaitlistStore, id: string, caller: Caller): Promise<WaitlistEntry> {
  const entry = await waitlist.get(id);
  const visible = entry && (caller.role === 'admin' || (caller.role === 'user' && entry.user_id === caller.user_id));
  if (!visible) throw new NotFoundError('waitlist-entry', id);
  return entry;
}

/** A user's own entries; the admin's all, filtered by event and status; newest first. */
export async function listEntries(
  waitlist: WaitlistStore,
  caller: Caller,
  filter: Omit<WaitlistFilter, 'user_id'>,
  page: PageRequest,
): Promise<Page<EntryWithPosition>> {
  const scope: WaitlistFilter = caller.role === 'user' ? { ...filter, user_id: caller.user_id } : filter;
  const found = await waitlist.list(scope, page);
  const items = await Promise.all(found.items.map(async (entry) => ({ entry, position: await positionOf(waitlist, entry) })));
  return { items, next_cursor: found.next_cursor };
}

/**
 * Leaves the line: a WAITING entry becomes LEFT; an OFFERED one becomes LEFT
 * with its booking cancelled in the same transaction, and the booking's tickets
 * go to the next in line. 409 for an entry that has ended.
 */
export async function leaveWaitlist(deps: WaitlistDeps, id: string, caller: Caller): Promise<void> {
  const changeId = randomUUID();
  await withRetry(async () => {
    const entry = await visibleEntry(deps.waitlist, id, caller);
    if (entry.status === 'LEFT' && entry.change_id === changeId) return true;
    assertMayLeave(entry);
    if (entry.status === 'WAITING') {
      const outcome = await deps.waitlist.leave(entry, changeId, deps.clock());
      return outcome === 'left' ? true : RETRY;
    }
    const booking = entry.booking_id ? await deps.bookings.get(entry.booking_id) : undefined;
    if (!booking || booking.status !== 'PENDING') return RETRY;
    const now = deps.clock();
    const outcome = await deps.bookings.transition(booking, cancelled(booking, 'USER_CANCELLED', now), {
      changeId,
      ...(await releaseChange(deps, booking)),
      tallyDelta: -booking.quantity,
      entry: { to: 'LEFT', now },
    });
    return outcome !== RETRY && outcome.kind === 'done' ? true : RETRY;
  });
}

export interface OfferStepResult {
  offered: number;
  /** Tickets of the line that no waiting entry fitted, put back on sale. */
  returned: number;
  /** Whether the step stopped with offers still to make (its budget ran out). */
  unfinished: boolean;
}

/**
 * The offer step for one event: gives the tickets free for the line (released
 * to it, and on sale) to the earliest WAITING entries that fit, in batches, and
 * puts back on sale what no entry fits. Safe to run any number of times, at
 * once or late: every write is conditioned on what it planned on.
 */
export async function offerTickets(deps: WaitlistDeps, eventId: string): Promise<OfferStepResult> {
  const result: OfferStepResult = { offered: 0, returned: 0, unfinished: false };
  const ends = Date.now() + STEP_BUDGET_MS;
  const capped = new Set<string>();
  const known = new Map<number, WaitlistEntry[]>();
  while (Date.now() < ends) {
    const pass = await withRetry(() => offerPass(deps, eventId, capped, known));
    result.offered += pass.offered;
    result.returned += pass.returned;
    if (pass.done) return result;
  }
  result.unfinished = true;
  return result;
}

/**
 * One read of the line and the stock, and the offers or the return it leads to.
 * `known` keeps the WAITING entries of each block read by an earlier pass of the
 * step: a block is read again when its counts no longer match them (someone
 * joined or left), or when a transaction found an entry changed.
 */
async function offerPass(
  deps: WaitlistDeps,
  eventId: string,
  capped: Set<string>,
  known: Map<number, WaitlistEntry[]>,
): Promise<{ offered: number; returned: number; done: boolean } | typeof RETRY> {
  const event = await deps.events.terms(eventId);
  const line = await deps.waitlist.line(eventId);
  if (!event) {
    // Deleted: end what its delete did not (it failed midway, or a join slipped in as it went).
    if (line.open) await deps.waitlist.endLine(eventId, deps.clock());
    return { offered: 0, returned: 0, done: true };
  }
  const [blocks, shards] = await Promise.all([deps.waitlist.blocks(eventId), deps.stock.shards(event)]);
  // A read straddling a move of stock between shards sees tickets twice or not at all: read again.
  if (!accountsFor(shards, event)) return RETRY;
  // Being deleted: nothing to offer.
  if (shards.some((s) => s.version > event.version)) return { offered: 0, returned: 0, done: true };
  // A PATCH that has not reached every shard yet: finish it, as a booking would.
  await Promise.all(shards.filter((s) => s.version < event.version).map((s) => deps.stock.rollForward(eventId, s.index, event.version)));
  const now = deps.clock();
  const waiting = blocks.reduce((n, b) => n + Math.max(0, b.waiting), 0);
  const started = Date.parse(event.date_time) <= now.getTime();

  let pool: FreePool = freePool(shards);
  const free = () => [...pool.values()].reduce((n, f) => n + f.line + f.sale, 0);
  const chosen: Candidate[] = [];
  if (waiting > 0 && !started) {
    if (!line.open) await deps.waitlist.setOpen(eventId, true, line.lastSeq);
    const rooms = new Map<string, number | undefined>();
    const candidates: WaitlistEntry[] = [];
    for (const block of blocks) {
      const smallest = smallestWanted(block);
      if (block.waiting <= 0 || smallest === undefined || smallest > free()) continue;
      let read = known.get(block.block);
      if (!read || read.length !== block.waiting) {
        read = await deps.waitlist.waitingInBlock(eventId, block.block);
        known.set(block.block, read);
      }
      const entries = read.filter((e) => !capped.has(e.id));
      if (event.max_per_user !== null) {
        const users = [...new Set(entries.map((e) => e.user_id))].filter((u) => !rooms.has(u));
        const held = await Promise.all(users.map((u) => deps.bookings.userTickets(eventId, u)));
        users.forEach((u, i) => rooms.set(u, event.max_per_user! - held[i]!));
      }
      candidates.push(...entries);
      const picked = chooseOffers(candidates, free(), (u) => rooms.get(u), OFFERS_PER_PASS);
      if (picked.length >= OFFERS_PER_PASS || picked.reduce((n, e) => n + e.quantity, 0) === free()) break;
    }
    chosen.push(...chooseOffers(candidates, free(), (u) => rooms.get(u), OFFERS_PER_PASS));
  }

  if (chosen.length === 0) {
    // Nobody in line fits what is free (or nobody waits, or the event started):
    // the line's tickets go back on sale.
    let returned = 0;
    for (const shard of shards.filter((s) => s.line_tickets > 0)) {
      if ((await deps.waitlist.returnToSale(eventId, shard.index, shard.line_tickets)) === 'returned') returned += shard.line_tickets;
    }
    if (waiting === 0 && line.open) await deps.waitlist.setOpen(eventId, false, line.lastSeq);
    return { offered: 0, returned, done: true };
  }

  // The chosen offers in transactions, in line order: each within DynamoDB's
  // 100 items (an entry, a booking, a tally and at most one line counter per
  // offer, and the shards they take from), at most OFFERS_PER_TRANSACTION.
  const batches: Offer[][] = [[]];
  let shardsTouched = new Set<number>();
  for (const entry of chosen) {
    const taken = takesForOffer(pool, entry.quantity);
    if (!taken) break;
    let batch = batches.at(-1)!;
    const shards = new Set([...shardsTouched, ...taken.takes.map((t) => t.shard)]);
    if (batch.length > 0 && (batch.length >= OFFERS_PER_TRANSACTION || 4 * (batch.length + 1) + shards.size > MAX_TRANSACTION_ITEMS)) {
      batch = [];
      batches.push(batch);
      shardsTouched = new Set();
    }
    taken.takes.forEach((t) => shardsTouched.add(t.shard));
    pool = taken.rest;
    batch.push({ entry: entry as WaitlistEntry, booking: offerBooking(event, entry, randomUUID(), now, deps.offerSeconds), takes: taken.takes });
  }
  // One after another: each was planned on the stock the ones before it leave.
  // The first that fails ends the pass, and the next pass plans again from a fresh read.
  let offered = 0;
  for (const batch of batches.filter((b) => b.length > 0)) {
    const outcome = await deps.waitlist.offer(batch, event.version, event.max_per_user, now);
    if (outcome !== RETRY && outcome.kind === 'offered') {
      offered += batch.length;
      const done = new Set(batch.map((o) => o.entry.id));
      for (const [block, entries] of known) known.set(block, entries.filter((e) => !done.has(e.id)));
      continue;
    }
    if (outcome !== RETRY && outcome.kind === 'capped') for (const id of outcome.entryIds) capped.add(id);
    if (outcome !== RETRY && outcome.kind === 'entry-changed') known.clear();
    // Nothing offered yet in this pass and a race lost: back off before planning again.
    if (outcome === RETRY && offered === 0) return RETRY;
    break;
  }
  return { offered, returned: 0, done: false };
}

/**
 * The backstop of the offer step: every open line, looked at once. Lines whose
 * offers were made from the stream cost a few reads each and offer nothing.
 */
export async function sweepLines(deps: WaitlistDeps): Promise<{ lines: number; offered: number; returned: number }> {
  const lines = await deps.waitlist.openLines();
  const results = await Promise.all(
    lines.map(async (eventId) => {
      try {
        return await offerTickets(deps, eventId);
      } catch (error) {
        deps.log?.('offer step failed in the sweep', { event_id: eventId, error: String(error) });
        return { offered: 0, returned: 0, unfinished: true };
      }
    }),
  );
  return {
    lines: lines.length,
    offered: results.reduce((n, r) => n + r.offered, 0),
    returned: results.reduce((n, r) => n + r.returned, 0),
  };
}

import * as z from 'zod';
import type { Booking } from './booking';
import type { Event } from './event';
import { EventStartedError, PerUserLimitError, ValidationError, WaitlistEntryEndedError } from './errors';

/**
 * The waiting list: who waits for an event's tickets, in what order, and who
 * gets the tickets that come back. The rules are here; the store
 * (lib/store/waitlist.ts) keeps the line, and the use cases
 * (lib/usecases/waitlist.ts) tell how released tickets reach it atomically.
 */

export const WaitlistStatus = z.enum(['WAITING', 'OFFERED', 'ACCEPTED', 'EXPIRED', 'LEFT']);
export type WaitlistStatus = z.infer<typeof WaitlistStatus>;

/** The statuses an entry never leaves. */
export const ENDED: ReadonlySet<WaitlistStatus> = new Set(['ACCEPTED', 'EXPIRED', 'LEFT']);

export const JoinWaitlistBody = z
  .strictObject({
    // The event's own max_per_booking (at most 100) is checked against the event.
    quantity: z.number().int().min(1).max(100),
  })
  .meta({ id: 'JoinWaitlist' });
export type JoinWaitlistInput = z.infer<typeof JoinWaitlistBody>;

export interface WaitlistEntry {
  id: string;
  event_id: string;
  user_id: string;
  quantity: number;
  status: WaitlistStatus;
  /** Its place in the event's line: entries are served in `seq` order (gaps are harmless). */
  seq: number;
  booking_id: string | null;
  offer_expires_at: string | null;
  created_at: string;
  updated_at: string;
  /** Which request made its last change of status: a change found applied by this id was this request's, its answer lost. */
  change_id?: string;
}

export const WaitlistEntryView = z
  .object({
    id: z.string(),
    event_id: z.string(),
    user_id: z.string(),
    quantity: z.number().int().min(1).max(100),
    status: WaitlistStatus,
    position: z.number().int().min(1).nullable().meta({ description: "1-based rank among the event's WAITING entries; null unless WAITING" }),
    booking_id: z.string().nullable().meta({ description: 'The offered booking, once an offer is made' }),
    offer_expires_at: z.string().meta({ format: 'date-time' }).nullable(),
    created_at: z.string().meta({ format: 'date-time' }),
    updated_at: z.string().meta({ format: 'date-time' }),
  })
  .meta({ id: 'WaitlistEntry' });
export type WaitlistEntryView = z.infer<typeof WaitlistEntryView>;

export function toWaitlistEntryView(entry: WaitlistEntry, position: number | null): WaitlistEntryView {
  return {
    id: entry.id,
    event_id: entry.event_id,
    user_id: entry.user_id,
    quantity: entry.quantity,
    status: entry.status,
    position: entry.status === 'WAITING' ? position : null,
    booking_id: entry.booking_id,
    offer_expires_at: entry.offer_expires_at,
    created_at: entry.created_at,
    updated_at: entry.updated_at,
  };
}

/**
 * Whether a user may join the event's line for `quantity` tickets, judged on
 * the event as read and what the user already holds: the same refusals as a
 * booking (422 over max_per_booking, 409 started, 409 per-user limit). Whether
 * they could book the tickets right now instead is for the stock to say.
 */
export function assertMayWait(event: Event, request: { quantity: number; userTickets: number }, now: Date): void {
  if (request.quantity > event.max_per_booking) {
    throw ValidationError.field('quantity', `must be at most ${event.max_per_booking} for this event`);
  }
  if (Date.parse(event.date_time) <= now.getTime()) throw new EventStartedError(event.date_time);
  if (event.max_per_user !== null && request.userTickets + request.quantity > event.max_per_user) {
    throw new PerUserLimitError(event.max_per_user, request.userTickets, request.quantity);
  }
}

/** A waiting entry as the offer step sees it: who, how many, where in line. */
export type Candidate = Pick<WaitlistEntry, 'id' | 'user_id' | 'quantity' | 'seq'>;

/**
 * Who gets the tickets that are free for the line, in line order: the earliest
 * WAITING entry whose quantity fits in what is left, then the next, skipping an
 * entry that does not fit (a smaller one behind it may) and one whose user
 * would go over `max_per_user` (`roomOf` says how many more that user may hold;
 * undefined: no cap). Two entries of one user are both served only while their
 * tickets together fit the user's room (the first served uses some of it).
 */
export function chooseOffers<C extends Candidate>(
  line: readonly C[],
  free: number,
  roomOf: (userId: string) => number | undefined,
  limit = Number.POSITIVE_INFINITY,
): C[] {
  const chosen: C[] = [];
  const used = new Map<string, number>();
  let left = free;
  for (const entry of [...line].sort((a, b) => a.seq - b.seq)) {
    if (left === 0 || chosen.length >= limit) break;
    if (entry.quantity > left) continue;
    const room = roomOf(entry.user_id);
    const taken = used.get(entry.user_id) ?? 0;
    if (room !== undefined && taken + entry.quantity > room) continue;
    chosen.push(entry);
    used.set(entry.user_id, taken + entry.quantity);
    left -= entry.quantity;
  }
  return chosen;
}

/**
 * The booking an offer makes: PENDING for the entry's user, at the event's
 * price, held until `offer seconds` from now.
 */
export function offerBooking(event: Event, entry: Candidate, bookingId: string, now: Date, offerSeconds: number): Booking {
  return {
    id: bookingId,
    event_id: event.id,
    user_id: entry.user_id,
    quantity: entry.quantity,
    unit_price_cents: event.ticket_price_cents,
    amount_cents: entry.quantity * event.ticket_price_cents,
    status: 'PENDING',
    created_at: now.toISOString(),
    expires_at: new Date(now.getTime() + offerSeconds * 1000).toISOString(),
    confirmed_at: null,
    cancelled_at: null,
    cancel_reason: null,
    waitlist_entry_id: entry.id,
  };
}

/** What leaving does to an entry: only a WAITING or OFFERED entry can leave (409 otherwise). */
export function assertMayLeave(entry: WaitlistEntry): void {
  if (ENDED.has(entry.status)) throw new WaitlistEntryEndedError(entry.status);
}

/**
 * Positions are counted in blocks of this many places in line: the line keeps a
 * count of WAITING entries per block, so an entry's position is the counts of
 * the blocks before its own plus its rank within its block, and no request reads
 * more of the line than one block.
 */
export const LINE_BLOCK = 256;

export const blockOf = (seq: number) => Math.floor(seq / LINE_BLOCK);

/** One block of the line as counted: WAITING entries, their tickets, and how many want each quantity. */
export interface LineBlock {
  block: number;
  waiting: number;
  tickets: number;
  /** quantity -> WAITING entries of the block that want that many */
  sizes: Record<string, number>;
}

/** The smallest quantity a WAITING entry of the block wants, or undefined when none waits. */
export function smallestWanted(block: Pick<LineBlock, 'sizes'>): number | undefined {
  const wanted = Object.entries(block.sizes)
    .filter(([, count]) => count > 0)
    .map(([quantity]) => Number(quantity));
  return wanted.length > 0 ? Math.min(...wanted) : undefined;
}

import * as z from 'zod';
import type { Event, EventWithStock } from './event';
import { BookingStatusError, EventStartedError, HoldExpiredError, PerUserLimitError, ValidationError } from './errors';
import { Amount, centsToAmount } from './money';

export const BookingStatus = z.enum(['PENDING', 'CONFIRMED', 'CANCELLED']);
export type BookingStatus = z.infer<typeof BookingStatus>;
export const CancelReason = z.enum(['USER_CANCELLED', 'PAYMENT_TIMEOUT']);
export type CancelReason = z.infer<typeof CancelReason>;

export const CreateBookingBody = z
  .strictObject({
    event_id: z.string().min(1).max(128),
    // The event's own max_per_booking (at most 100) is checked against the event.
    quantity: z.number().int().min(1).max(100),
  })
  .meta({ id: 'CreateBooking' });
export type CreateBookingInput = z.infer<typeof CreateBookingBody>;

export interface Booking {
  id: string;
  event_id: string;
  user_id: string;
  quantity: number;
  unit_price_cents: number;
  amount_cents: number;
  status: BookingStatus;
  created_at: string;
  expires_at: string;
  confirmed_at: string | null;
  cancelled_at: string | null;
  cancel_reason: CancelReason | null;
  /** The gateway's id of the charge that confirmed it. */
  payment_id?: string | null;
  /** Which request made its last change of status (lib/store/bookings.ts, `transition`). */
  change_id?: string;
  /** The waiting-list entry this booking was offered to (lib/domain/waitlist.ts), if it is an offer. */
  waitlist_entry_id?: string;
  /**
   * The stock shard it took its tickets from (the first, when several): the one
   * its later changes count on and its tickets go back to. Bookings made before
   * the stock was sharded have none and count on shard 0.
   */
  stock_shard?: number;
}

export const BookingView = z
  .object({
    id: z.string(),
    event_id: z.string(),
    user_id: z.string(),
    quantity: z.number().int().min(1).max(100),
    unit_price: Amount,
    amount: Amount,
    status: BookingStatus,
    created_at: z.string().meta({ format: 'date-time' }),
    expires_at: z.string().meta({ format: 'date-time' }),
    confirmed_at: z.string().meta({ format: 'date-time' }).nullable(),
    cancelled_at: z.string().meta({ format: 'date-time' }).nullable(),
    cancel_reason: CancelReason.nullable(),
    payment_id: z.string().nullable().meta({ description: 'The payment that confirmed the booking, once CONFIRMED' }),
  })
  .meta({ id: 'Booking' });
export type BookingView = z.infer<typeof BookingView>;

export function toBookingView(booking: Booking): BookingView {
  return {
    id: booking.id,
    event_id: booking.event_id,
    user_id: booking.user_id,
    quantity: booking.quantity,
    unit_price: centsToAmount(booking.unit_price_cents),
    amount: centsToAmount(booking.amount_cents),
    status: booking.status,
    created_at: booking.created_at,
    expires_at: booking.expires_at,
    confirmed_at: booking.confirmed_at,
    cancelled_at: booking.cancelled_at,
    cancel_reason: booking.cancel_reason,
    payment_id: booking.payment_id ?? null,
  };
}

/**
 * A new PENDING booking that holds `quantity` tickets until `expires_at`, or the
 * reason it cannot be made, judged on the event's terms as last read. The store's
 * transaction re-checks every one of these facts atomically; this only refuses
 * early what is already certain to fail, and prices the booking. Whether the
 * tickets are there is for the stock shards to say (lib/usecases/bookings.ts).
 */
export function planBooking(
  event: Event,
  request: { id: string; user_id: string; quantity: number; userTickets: number },
  now: Date,
  holdSeconds: number,
): Booking {
  const { quantity } = request;
  if (quantity > event.max_per_booking) {
    throw ValidationError.field('quantity', `must be at most ${event.max_per_booking} for this event`);
  }
  if (Date.parse(event.date_time) <= now.getTime()) throw new EventStartedError(event.date_time);
  if (event.max_per_user !== null && request.userTickets + quantity > event.max_per_user) {
    throw new PerUserLimitError(event.max_per_user, request.userTickets, quantity);
  }
  return {
    id: request.id,
    event_id: event.id,
    user_id: request.user_id,
    quantity,
    unit_price_cents: event.ticket_price_cents,
    amount_cents: quantity * event.ticket_price_cents,
    status: 'PENDING',
    created_at: now.toISOString(),
    expires_at: new Date(now.getTime() + holdSeconds * 1000).toISOString(),
    confirmed_at: null,
    cancelled_at: null,
    cancel_reason: null,
  };
}

/** The booking after a cancellation; a CANCELLED booking cannot be cancelled again. */
export function cancelBooking(booking: Booking, reason: CancelReason, now: Date): Booking {
  if (booking.status === 'CANCELLED') throw new BookingStatusError(booking.status, 'cancelled');
  return { ...booking, status: 'CANCELLED', cancelled_at: now.toISOString(), cancel_reason: reason };
}

/** Whether the hold has run out: from `expires_at` on, a booking can no longer be paid. */
export function holdExpired(booking: Pick<Booking, 'expires_at'>, now: Date): boolean {
  return now.getTime() >= Date.parse(booking.expires_at);
}

/** A booking may be paid while PENDING and before its hold expires (409 otherwise). */
export function assertPayable(booking: Booking, now: Date): void {
  if (booking.status !== 'PENDING') throw new BookingStatusError(booking.status, 'paid');
  if (holdExpired(booking, now)) throw new HoldExpiredError(booking.expires_at);
}

/**
 * The booking a successful charge would make, at `at`, without judging the clock:
 * whether the hold was still running when the confirmation lands is decided by
 * the confirming transaction itself, atomically.
 */
export function paidBooking(booking: Booking, paymentId: string, at: Date): Booking {
  return { ...booking, status: 'CONFIRMED', confirmed_at: at.toISOString(), payment_id: paymentId };
}

/**
 * The booking after its hold ran out unpaid, or null when there is nothing to do:
 * it was paid or cancelled meanwhile, or (a clock running early) it has not expired.
 * Expiring twice, or late, is therefore harmless.
 */
export function expireBooking(booking: Booking, now: Date): Booking | null {
  if (booking.status !== 'PENDING' || !holdExpired(booking, now)) return null;
  return cancelBooking(booking, 'PAYMENT_TIMEOUT', now);
}

/**
 * How a change of a booking moves its event's counters. Every transaction that
 * changes a booking applies exactly one of these to one of the event's stock
 * shards in the same write, so the statistics, summed over the shards, are always
 * a sum of the bookings.
 */
export interface CounterDelta {
  available_tickets: number;
  tickets_held: number;
  tickets_sold: number;
  revenue_cents: number;
  bookings_pending: number;
  bookings_confirmed: number;
  bookings_cancelled: number;
  /**
   * Tickets that came back while people waited for them: released by a booking
   * into the waiting list's hands, not on sale, until the line's offers take them
   * (lib/usecases/waitlist.ts). Counted as held in the statistics.
   */
  line_tickets: number;
}

/** Every counter at zero: a new event's, and the base of every delta. */
export const ZERO_COUNTERS: Readonly<CounterDelta> = {
  available_tickets: 0,
  tickets_held: 0,
  tickets_sold: 0,
  revenue_cents: 0,
  bookings_pending: 0,
  bookings_confirmed: 0,
  bookings_cancelled: 0,
  line_tickets: 0,
};

/** A new PENDING booking: its tickets move from available to held. */
export function holdDelta(booking: Pick<Booking, 'quantity'>): CounterDelta {
  return { ...ZERO_COUNTERS, available_tickets: -booking.quantity, tickets_held: booking.quantity, bookings_pending: 1 };
}

/**
 * Where released tickets go: back on sale, or, while people wait in the event's
 * line, to the line (`line_tickets`), which nobody outside it can book.
 */
export type ReleaseTo = 'sale' | 'line';

/** A cancellation gives the tickets back; a CONFIRMED booking counts as refunded. */
export function releaseDelta(booking: Pick<Booking, 'quantity' | 'status' | 'amount_cents'>, to: ReleaseTo = 'sale'): CounterDelta {
  const q = booking.quantity;
  const back = to === 'line' ? { line_tickets: q } : { available_tickets: q };
  if (booking.status === 'PENDING') {
    return { ...ZERO_COUNTERS, ...back, tickets_held: -q, bookings_pending: -1, bookings_cancelled: 1 };
  }
  if (booking.status === 'CONFIRMED') {
    return {
      ...ZERO_COUNTERS,
      ...back,
      tickets_sold: -q,
      revenue_cents: -booking.amount_cents,
      bookings_confirmed: -1,
      bookings_cancelled: 1,
    };
  }
  throw new BookingStatusError(booking.status, 'cancelled');
}

/** A payment: the tickets move from held to sold, the amount into revenue. */
export function confirmDelta(booking: Pick<Booking, 'quantity' | 'amount_cents'>): CounterDelta {
  return {
    ...ZERO_COUNTERS,
    tickets_held: -booking.quantity,
    tickets_sold: booking.quantity,
    revenue_cents: booking.amount_cents,
    bookings_pending: -1,
    bookings_confirmed: 1,
  };
}

/** Statistics are the sum of the event's shards: a few reads, whatever the number of bookings. */
export const EventStats = z
  .object({
    event_id: z.string(),
    total_tickets: z.number().int().min(1).max(1_000_000),
    tickets_sold: z.number().int().min(0).max(1_000_000),
    tickets_held: z.number().int().min(0).max(1_000_000),
    tickets_available: z.number().int().min(0).max(1_000_000),
    revenue: Amount,
    bookings_confirmed: z.number().int().min(0),
    bookings_pending: z.number().int().min(0),
    bookings_cancelled: z.number().int().min(0),
    waitlist_waiting: z.number().int().min(0).meta({ description: 'Waiting-list entries WAITING (v1.1)' }),
    waitlist_tickets: z.number().int().min(0).meta({ description: 'Tickets the WAITING entries want (v1.1)' }),
  })
  .meta({ id: 'EventStats' });

/**
 * Tickets released to the waiting list and not offered yet are held for it: they
 * are not on sale, and the sum still makes the total.
 */
export function toEventStats(event: EventWithStock, line = { waiting: 0, tickets: 0 }): z.infer<typeof EventStats> {
  return {
    event_id: event.id,
    total_tickets: event.total_tickets,
    tickets_sold: event.tickets_sold,
    tickets_held: event.tickets_held + event.line_tickets,
    tickets_available: event.available_tickets,
    revenue: centsToAmount(event.revenue_cents),
    bookings_confirmed: event.bookings_confirmed,
    bookings_pending: event.bookings_pending,
    bookings_cancelled: event.bookings_cancelled,
    waitlist_waiting: line.waiting,
    waitlist_tickets: line.tickets,
  };
}

import * as z from 'zod';
import { ZERO_COUNTERS } from './booking';
import { Amount, centsToAmount, PriceInput } from './money';
import { Text } from './text';
import { Timestamp } from './time';
import { TicketsCommittedError, ValidationError } from './errors';

/** The writable fields of an event, as the OpenAPI document shows them. */
const writable = {
  name: Text(1, 200),
  description: Text(0, 5000),
  date_time: Timestamp,
  total_tickets: z.number().int().min(1).max(1_000_000),
  ticket_price: PriceInput,
  max_per_booking: z.number().int().min(1).max(100),
  max_per_user: z.number().int().min(1).max(1000).nullable(),
};

export const CreateEventBody = z
  .strictObject({
    ...writable,
    description: writable.description.default(''),
    max_per_booking: writable.max_per_booking.default(10),
    max_per_user: writable.max_per_user.default(null),
  })
  .meta({ id: 'CreateEvent' });
export type CreateEventInput = z.infer<typeof CreateEventBody>;

export const UpdateEventBody = z.strictObject(writable).partial().meta({ id: 'UpdateEvent' });
export type UpdateEventInput = z.infer<typeof UpdateEventBody>;

/**
 * An event as the system keeps it. Money in cents. The counters are kept on the
 * event itself and changed in the same transactions that change bookings, so the
 * statistics are one read and can never drift from the bookings.
 */
export interface Event {
  id: string;
  name: string;
  description: string;
  date_time: string;
  total_tickets: number;
  ticket_price_cents: number;
  available_tickets: number;
  max_per_booking: number;
  max_per_user: number | null;
  created_at: string;
  updated_at: string;
  tickets_held: number;
  tickets_sold: number;
  revenue_cents: number;
  bookings_pending: number;
  bookings_confirmed: number;
  bookings_cancelled: number;
  /**
   * Bumped by every PATCH (bookings leave it alone). A booking transaction requires
   * the version it read, so it never sells at a price or limit that just changed.
   */
  version: number;
}

export const EventView = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    date_time: z.string().meta({ format: 'date-time' }),
    total_tickets: z.number().int().min(1).max(1_000_000),
    ticket_price: Amount,
    available_tickets: z.number().int().min(0).max(1_000_000),
    max_per_booking: z.number().int().min(1).max(100),
    max_per_user: z.number().int().min(1).max(1000).nullable(),
    created_at: z.string().meta({ format: 'date-time' }),
    updated_at: z.string().meta({ format: 'date-time' }),
  })
  .meta({ id: 'Event' });
export type EventView = z.infer<typeof EventView>;

export function toEventView(event: Event): EventView {
  return {
    id: event.id,
    name: event.name,
    description: event.description,
    date_time: event.date_time,
    total_tickets: event.total_tickets,
    ticket_price: centsToAmount(event.ticket_price_cents),
    available_tickets: event.available_tickets,
    max_per_booking: event.max_per_booking,
    max_per_user: event.max_per_user,
    created_at: event.created_at,
    updated_at: event.updated_at,
  };
}

/** A new event: every ticket available, every counter at zero. Its date must lie ahead. */
export function newEvent(input: CreateEventInput, id: string, now: Date): Event {
  if (Date.parse(input.date_time) <= now.getTime()) {
    throw ValidationError.field('date_time', 'must be in the future');
  }
  const at = now.toISOString();
  return {
    id,
    name: input.name,
    description: input.description,
    date_time: input.date_time,
    total_tickets: input.total_tickets,
    ticket_price_cents: input.ticket_price,
    max_per_booking: input.max_per_booking,
    max_per_user: input.max_per_user,
    created_at: at,
    updated_at: at,
    ...ZERO_COUNTERS,
    available_tickets: input.total_tickets,
    version: 1,
  };
}

/** Tickets that belong to a buyer, sold or held: the floor for `total_tickets`. */
export function committedTickets(event: Pick<Event, 'total_tickets' | 'available_tickets'>): number {
  return event.total_tickets - event.available_tickets;
}

/**
 * How a change of `total_tickets` moves `available_tickets`: by the same delta.
 * Refused when the new total is below what is already sold or held. The store
 * re-checks this inside its conditional write, because bookings may land between
 * this read and that write.
 */
export function ticketDelta(event: Pick<Event, 'total_tickets' | 'available_tickets'>, newTotal: number): number {
  const committed = committedTickets(event);
  if (newTotal < committed) throw new TicketsCommittedError(committed, newTotal);
  return newTotal - event.total_tickets;
}

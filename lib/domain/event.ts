import * as z from 'zod';
import { type CounterDelta } from './booking';
import { defaultStockShards, MAX_STOCK_SHARDS } from './stock';
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
  stock_shards: z
    .number()
    .int()
    .min(1)
    .max(MAX_STOCK_SHARDS)
    .meta({ description: 'How many items hold the unsold stock. By default the service chooses one per 100 tickets (at least 1, at most 100), so that an event sells fast to a crowd.' }),
};

export const CreateEventBody = z
  .strictObject({
    ...writable,
    description: writable.description.default(''),
    max_per_booking: writable.max_per_booking.default(10),
    max_per_user: writable.max_per_user.default(null),
    stock_shards: writable.stock_shards.optional(),
  })
  .meta({ id: 'CreateEvent' });
export type CreateEventInput = z.infer<typeof CreateEventBody>;

export const UpdateEventBody = z.strictObject(writable).partial().meta({ id: 'UpdateEvent' });
export type UpdateEventInput = z.infer<typeof UpdateEventBody>;

/**
 * An event as the system keeps it on its own item: what it is and the terms it
 * sells on. Money in cents. Its stock and counters are not here: they live on the
 * event's stock shards (lib/domain/stock.ts), changed in the same transactions
 * that change bookings, so that no item every booking writes carries the event's
 * description, and the statistics are a sum of a few items that never drifts
 * from the bookings.
 */
export interface Event {
  id: string;
  name: string;
  description: string;
  date_time: string;
  total_tickets: number;
  ticket_price_cents: number;
  max_per_booking: number;
  max_per_user: number | null;
  created_at: string;
  updated_at: string;
  /**
   * Bumped by a PATCH of what a booking is planned on (price, limits, date). Every
   * shard carries the version it sells at, and a booking transaction requires the
   * version it planned with, so it never sells at a price or limit that changed.
   */
  version: number;
  /** The shards bookings take stock from: indexes 0..stock_shards-1. */
  stock_shards: number;
  /**
   * How many shards may exist: indexes 0..stock_span-1. Never lowered: a reshard
   * to fewer shards empties the ones beyond stock_shards of stock but keeps them
   * (they still carry held and sold tickets, counted in the statistics).
   */
  stock_span: number;
}

/** An event with the sum of its shards: what the API shows and the statistics count. */
export type EventWithStock = Event & CounterDelta;

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
    stock_shards: z.number().int().min(1).max(MAX_STOCK_SHARDS),
    created_at: z.string().meta({ format: 'date-time' }),
    updated_at: z.string().meta({ format: 'date-time' }),
  })
  .meta({ id: 'Event' });
export type EventView = z.infer<typeof EventView>;

export function toEventView(event: EventWithStock): EventView {
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
    stock_shards: event.stock_shards,
    created_at: event.created_at,
    updated_at: event.updated_at,
  };
}

/**
 * A new event (its shards then hold every ticket, every counter at zero). Its
 * date must lie ahead.
 */
export function newEvent(input: CreateEventInput, id: string, now: Date): Event {
  if (Date.parse(input.date_time) <= now.getTime()) {
    throw ValidationError.field('date_time', 'must be in the future');
  }
  const at = now.toISOString();
  const shards = input.stock_shards ?? defaultStockShards(input.total_tickets);
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
    version: 1,
    stock_shards: shards,
    stock_span: shards,
  };
}

/** Tickets that belong to a buyer, sold or held: the floor for `total_tickets`. */
export function committedTickets(event: Pick<EventWithStock, 'total_tickets' | 'available_tickets'>): number {
  return event.total_tickets - event.available_tickets;
}

/**
 * How a change of `total_tickets` moves `available_tickets`: by the same delta.
 * Refused when the new total is below what is already sold or held. The store
 * re-checks this inside its conditional write, because bookings may land between
 * this read and that write.
 */
export function ticketDelta(event: Pick<EventWithStock, 'total_tickets' | 'available_tickets'>, newTotal: number): number {
  const committed = committedTickets(event);
  if (newTotal < committed) throw new TicketsCommittedError(committed, newTotal);
  return newTotal - event.total_tickets;
}

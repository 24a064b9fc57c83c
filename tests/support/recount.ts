import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type Booking, BookingStatus } from '../../lib/domain/booking';
import type { EventWithStock } from '../../lib/domain/event';
import type { Table } from '../../lib/store/client';
import { bookingStore } from '../../lib/store/bookings';
import { eventStore } from '../../lib/store/events';
import { bookingsByEventStatus, indexBuckets } from '../../lib/store/keys';

/** Every booking item of an event, read from its status partitions (the recount). */
export async function bookingsOf(table: Table, eventId: string): Promise<Booking[]> {
  const found: Booking[] = [];
  for (const pk of BookingStatus.options.flatMap((status) => indexBuckets.map((bucket) => bookingsByEventStatus(eventId, status, bucket)))) {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await table.client.send(
        new QueryCommand({
          TableName: table.name,
          IndexName: 'gsi2',
          KeyConditionExpression: 'gsi2pk = :pk',
          ExpressionAttributeValues: { ':pk': pk },
          ExclusiveStartKey: start,
        }),
      );
      found.push(...((page.Items ?? []) as Booking[]));
      start = page.LastEvaluatedKey;
    } while (start);
  }
  return found;
}

/**
 * The event's counters must equal a recount of its booking items and add up to the
 * total, and each user's tally (max_per_user) must equal their PENDING and CONFIRMED
 * tickets. `users` adds users who may have no booking left.
 */
export async function expectCountersMatchRecount(table: Table, eventId: string, users: string[] = []): Promise<EventWithStock> {
  const event = (await eventStore(table).get(eventId))!;
  const bookings = await bookingsOf(table, eventId);
  const sum = (status: string) => bookings.filter((b) => b.status === status).reduce((n, b) => n + b.quantity, 0);
  const count = (status: string) => bookings.filter((b) => b.status === status).length;
  expect({
    tickets_held: event.tickets_held,
    tickets_sold: event.tickets_sold,
    bookings_pending: event.bookings_pending,
    bookings_confirmed: event.bookings_confirmed,
    bookings_cancelled: event.bookings_cancelled,
    revenue_cents: event.revenue_cents,
  }).toEqual({
    tickets_held: sum('PENDING'),
    tickets_sold: sum('CONFIRMED'),
    bookings_pending: count('PENDING'),
    bookings_confirmed: count('CONFIRMED'),
    bookings_cancelled: count('CANCELLED'),
    revenue_cents: bookings.filter((b) => b.status === 'CONFIRMED').reduce((n, b) => n + b.amount_cents, 0),
  });
  expect(event.tickets_sold + event.tickets_held + event.line_tickets + event.available_tickets).toBe(event.total_tickets);
  const store = bookingStore(table);
  const everyone = [...new Set([...bookings.map((b) => b.user_id), ...users])];
  const tallies = await Promise.all(everyone.map(async (user) => [user, await store.userTickets(eventId, user)] as const));
  const live = (user: string) => bookings.filter((b) => b.user_id === user && b.status !== 'CANCELLED').reduce((n, b) => n + b.quantity, 0);
  expect(Object.fromEntries(tallies)).toEqual(Object.fromEntries(everyone.map((user) => [user, live(user)])));
  return event;
}

/** A booking as the API lists it (GET /bookings). */
interface ListedBooking {
  status: string;
  quantity: number;
  amount: number;
}

/**
 * What GET /events/{id}/stats must answer for an event, recounted from its bookings
 * as the API lists them (every page of GET /bookings?event_id=, as the admin).
 */
export function statsFromBookings(event: { id: string; total_tickets: number }, bookings: ListedBooking[], line = { waiting: 0, tickets: 0 }) {
  const of = (status: string) => bookings.filter((booking) => booking.status === status);
  const tickets = (list: ListedBooking[]) => list.reduce((sum, booking) => sum + booking.quantity, 0);
  const sold = tickets(of('CONFIRMED'));
  const held = tickets(of('PENDING'));
  return {
    event_id: event.id,
    total_tickets: event.total_tickets,
    tickets_sold: sold,
    tickets_held: held,
    tickets_available: event.total_tickets - sold - held,
    revenue: of('CONFIRMED').reduce((cents, booking) => cents + Math.round(booking.amount * 100), 0) / 100,
    bookings_confirmed: of('CONFIRMED').length,
    bookings_pending: of('PENDING').length,
    bookings_cancelled: of('CANCELLED').length,
    waitlist_waiting: line.waiting,
    waitlist_tickets: line.tickets,
  };
}

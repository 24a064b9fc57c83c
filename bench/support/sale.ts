import { readFile } from 'node:fs/promises';
import type { Agent } from 'node:http';
import type { HttpClient } from './http';
import { runCount } from './load';

/**
 * What the parts that sell over HTTP share (flash-sale, like-aws): buyers with a
 * connection each, the sale's event, the admin's listing of its bookings, and what
 * the stack answered and logged.
 */
export interface Buyer {
  id: string;
  key: string;
  /** The buyer's own keep-alive connection. */
  agent: Agent;
}

/** A booking as POST /bookings and GET /bookings answer it. */
export interface SaleBooking {
  id: string;
  quantity: number;
  amount: number;
  status: string;
  created_at: string;
  expires_at: string;
  cancel_reason: string | null;
}

/** GET /events/{id}/stats. */
export interface EventStats {
  event_id: string;
  total_tickets: number;
  tickets_sold: number;
  tickets_held: number;
  tickets_available: number;
  revenue: number;
  bookings_confirmed: number;
  bookings_pending: number;
  bookings_cancelled: number;
}

/** One buyer per client, each with a connection of its own, opened before the clock starts. */
export async function registerBuyers(http: HttpClient, count: number): Promise<Buyer[]> {
  const buyers = await runCount(count, 20, async (i) => {
    const body = await http.expect<{ id: string; api_key: string }>(201, 'POST', '/users', { json: { name: `Buyer ${i}`, email: `buyer.${i}.${Date.now()}@example.org` } });
    return { id: body.id, key: body.api_key, agent: http.ownConnection() };
  });
  await Promise.all(buyers.map((buyer) => http.expect(200, 'GET', '/health', { agent: buyer.agent })));
  return buyers;
}

/** A POST /events body for an event a week ahead. */
export const eventJson = (name: string, total: number, price: string) => ({
  name,
  date_time: new Date(Date.now() + 7 * 86_400_000).toISOString(),
  total_tickets: total,
  ticket_price: price,
});

/** Every booking of an event, as the admin lists them (every page). */
export async function listEventBookings(http: HttpClient, adminKey: string, eventId: string): Promise<{ listed: SaleBooking[]; pages: number }> {
  const listed: SaleBooking[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query: string = `/bookings?event_id=${eventId}&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page = await http.expect<{ items: SaleBooking[]; next_cursor: string | null }>(200, 'GET', query, { key: adminKey });
    listed.push(...page.items);
    cursor = page.next_cursor;
    pages++;
  } while (cursor !== null && pages < 1000);
  return { listed, pages };
}

/** The last segment of a problem's `type` (`insufficient-tickets`), or undefined for another body. */
export const problemType = (body: unknown) => (body && typeof body === 'object' && 'type' in body ? String((body as { type: unknown }).type).split('/').pop() : undefined);

/** What the stack itself logged as unhandled (500s). */
export async function countUnhandled(file: string): Promise<number> {
  try {
    return (await readFile(file, 'utf8')).split('\n').filter((line) => line.includes('Unhandled error')).length;
  } catch {
    return 0;
  }
}

const cents = (amount: number) => Math.round(amount * 100);

/**
 * The statistics an event's listing implies (every booking, every page), beside
 * what GET /events/{id}/stats says, and the fields on which the two differ.
 */
export function recountOfListing(listed: SaleBooking[], stats: EventStats, totalTickets: number) {
  const of = (status: string) => listed.filter((b) => b.status === status);
  const tickets = (bookings: SaleBooking[]) => bookings.reduce((n, b) => n + b.quantity, 0);
  const recounted = {
    tickets_sold: tickets(of('CONFIRMED')),
    tickets_held: tickets(of('PENDING')),
    tickets_available: totalTickets - tickets(of('CONFIRMED')) - tickets(of('PENDING')),
    revenue_cents: of('CONFIRMED').reduce((n, b) => n + cents(b.amount), 0),
    bookings_confirmed: of('CONFIRMED').length,
    bookings_pending: of('PENDING').length,
    bookings_cancelled: of('CANCELLED').length,
  };
  const reported = {
    tickets_sold: stats.tickets_sold,
    tickets_held: stats.tickets_held,
    tickets_available: stats.tickets_available,
    revenue_cents: cents(stats.revenue),
    bookings_confirmed: stats.bookings_confirmed,
    bookings_pending: stats.bookings_pending,
    bookings_cancelled: stats.bookings_cancelled,
  };
  const mismatched = (Object.keys(recounted) as (keyof typeof recounted)[]).filter((k) => recounted[k] !== reported[k]);
  return { recounted, reported, mismatched };
}

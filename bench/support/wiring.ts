import type * as z from 'zod';
import { CreateEventBody, type EventWithStock } from '../../lib/domain/event';
import { bookingStore } from '../../lib/store/bookings';
import type { Table } from '../../lib/store/client';
import { type EventStore, eventStore } from '../../lib/store/events';
import { RECENT, recentEvents, type RecentEventsOptions } from '../../lib/store/recent-events';
import type { BookingDeps } from '../../lib/usecases/bookings';
import { createEvent } from '../../lib/usecases/events';
import { waitlistStore } from '../../lib/store/waitlist';

/**
 * What the booking use cases run with, wired as in the deployed functions, on a
 * bench table. `eventCopy` defaults to what is deployed (RECENT); NO_COPY makes
 * every booking read its event.
 */
export function bookingDepsOn(table: Table, options: { eventCopy?: RecentEventsOptions; holdSeconds?: number } = {}): BookingDeps {
  const events = eventStore(table);
  return {
    events: recentEvents(events, options.eventCopy ?? RECENT),
    bookings: bookingStore(table),
    stock: events.stock,
    waitlist: waitlistStore(table),
    holdSeconds: options.holdSeconds ?? 900,
    clock: () => new Date(),
  };
}

/** A POST /events body, less its date. */
export type EventFields = Omit<z.input<typeof CreateEventBody>, 'date_time'>;

/** A POST /events body for an event `daysAhead` days from now, as the route's schema reads it. */
export function eventBody(fields: EventFields, daysAhead: number) {
  return CreateEventBody.parse({ ...fields, date_time: new Date(Date.now() + daysAhead * 86_400_000).toISOString() });
}

/** An event created through the use case, as POST /events creates it. */
export function createFutureEvent(events: EventStore, fields: EventFields, daysAhead: number): Promise<EventWithStock> {
  return createEvent(events, eventBody(fields, daysAhead), new Date());
}

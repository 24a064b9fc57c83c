import { randomUUID } from 'node:crypto';
import { EventHasBookingsError, NotFoundError, TicketsCommittedError } from '../domain/errors';
import { type CreateEventInput, type Event, committedTickets, newEvent, ticketDelta, type UpdateEventInput } from '../domain/event';
import type { EventStore } from '../store/events';
import type { Page, PageRequest } from '../store/pagination';
import { RETRY, withRetry } from '../store/retry';

/** Creates an event: validates its date against `now`, stores it with every ticket available. */
export async function createEvent(store: EventStore, input: CreateEventInput, now: Date): Promise<Event> {
  const event = newEvent(input, randomUUID(), now);
  await withRetry(() => store.put(event));
  return event;
}

export async function getEvent(store: EventStore, id: string): Promise<Event> {
  const event = await store.get(id);
  if (!event) throw new NotFoundError('event', id);
  return event;
}

export function listEvents(store: EventStore, page: PageRequest): Promise<Page<Event>> {
  return store.list(page);
}

/**
 * Applies a partial update.
 * 1. Read the event; 404 if absent.
 * 2. If total_tickets changes, compute the delta for available_tickets (409 if the
 *    new total is below the tickets already sold or held).
 * 3. Write it in one conditional update that re-checks both facts. If another
 *    PATCH changed the total in between, start again from 1 after a jittered
 *    pause (bounded: a 503 with Retry-After if the race never ends).
 */
export function updateEvent(store: EventStore, id: string, changes: UpdateEventInput, now: Date): Promise<Event> {
  return withRetry(async () => {
    const current = await getEvent(store, id);
    const delta = changes.total_tickets === undefined ? 0 : ticketDelta(current, changes.total_tickets);
    const outcome = await store.update(id, changes, { total: current.total_tickets, delta }, now);
    switch (outcome.kind) {
      case 'updated':
        return outcome.event;
      case 'missing':
        throw new NotFoundError('event', id);
      case 'committed':
        throw new TicketsCommittedError(committedTickets(outcome.current), changes.total_tickets ?? 0);
      case 'total-changed':
        return RETRY;
    }
  });
}

/**
 * Deletes an event that has no PENDING or CONFIRMED booking.
 * 1. Read it: 404 if it does not exist.
 * 2. Delete it on condition that it exists and has no active booking (409 if it has).
 * An event that existed at 1 and is gone at 2 was deleted, by this request (a
 * Delete applied whose answer was lost and which the SDK sent again) or by another
 * at the same moment: either way the outcome asked for holds, so it is a 204.
 */
export async function deleteEvent(store: EventStore, id: string): Promise<void> {
  await getEvent(store, id);
  const outcome = await withRetry(() => store.remove(id));
  if (outcome.kind === 'has-bookings') {
    throw new EventHasBookingsError(outcome.current.bookings_pending + outcome.current.bookings_confirmed);
  }
}

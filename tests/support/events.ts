import { CreateEventBody, type EventWithStock } from '../../lib/domain/event';
import type { EventStore } from '../../lib/store/events';
import { createEvent } from '../../lib/usecases/events';
import { inDays } from './fixtures';

/** An event stored through the use case, as POST /events stores it: 30 days ahead, 12.50 a ticket, `fields` on top. */
export function storedEvent(store: EventStore, fields: Record<string, unknown> = {}): Promise<EventWithStock> {
  const input = CreateEventBody.parse({ name: 'Test event', date_time: inDays(30), total_tickets: 10, ticket_price: '12.50', ...fields });
  return createEvent(store, input, new Date());
}

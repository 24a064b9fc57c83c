import { toEventView } from '../lib/domain/event';
import { httpRoute } from '../lib/http/handler';
import { eventsRoutes as routes } from '../lib/http/routes/events';
import { createEvent, deleteEvent, eventStats, getEvent, listEvents, updateEvent } from '../lib/usecases/events';
import { stores } from '../lib/wiring/stores';

export const create = httpRoute(routes.createEvent, async ({ body }) => {
  const event = await createEvent(stores.events, body, new Date());
  return { body: toEventView(event), headers: { location: `/events/${event.id}` } };
});

export const list = httpRoute(routes.listEvents, async ({ query }) => {
  const page = await listEvents(stores.events, query);
  return { body: { items: page.items.map(toEventView), next_cursor: page.next_cursor } };
});

export const get = httpRoute(routes.getEvent, async ({ params }) => ({
  body: toEventView(await getEvent(stores.events, params.id)),
}));

export const update = httpRoute(routes.updateEvent, async ({ params, body }) => ({
  body: toEventView(await updateEvent(stores.events, params.id, body, new Date(), stores.waitlist)),
}));

export const remove = httpRoute(routes.deleteEvent, async ({ params }) => {
  await deleteEvent(stores.events, params.id, stores.waitlist);
  return {};
});

export const stats = httpRoute(routes.eventStats, async ({ params }) => ({
  body: await eventStats(stores.events, stores.waitlist, params.id),
}));

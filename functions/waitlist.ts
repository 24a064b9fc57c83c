import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { toWaitlistEntryView } from '../lib/domain/waitlist';
import { httpRoute } from '../lib/http/handler';
import { logger } from '../lib/http/logger';
import { count, publishMetrics } from '../lib/http/metrics';
import { waitlistRoutes as routes } from '../lib/http/routes/waitlist';
import { getEntry, joinWaitlist, leaveWaitlist, listEntries, sweepLines } from '../lib/usecases/waitlist';
import { stores } from '../lib/wiring/stores';
import { waitlistDeps } from '../lib/wiring/waitlist-deps';

export const join = httpRoute(routes.joinWaitlist, async ({ caller, params, body }) => {
  const { entry, position } = await joinWaitlist(waitlistDeps, { user_id: caller.user_id, event_id: params.id, quantity: body.quantity });
  return { body: toWaitlistEntryView(entry, position), headers: { location: `/waitlist/${entry.id}` } };
});

export const list = httpRoute(routes.listWaitlist, async ({ caller, query }) => {
  const { event_id, status, ...page } = query;
  const result = await listEntries(stores.waitlist, caller, { event_id, status }, page);
  return { body: { items: result.items.map(({ entry, position }) => toWaitlistEntryView(entry, position)), next_cursor: result.next_cursor } };
});

export const get = httpRoute(routes.getWaitlistEntry, async ({ caller, params }) => {
  const { entry, position } = await getEntry(stores.waitlist, params.id, caller);
  return { body: toWaitlistEntryView(entry, position) };
});

export const leave = httpRoute(routes.leaveWaitlist, async ({ caller, params }) => {
  await leaveWaitlist(waitlistDeps, params.id, caller);
  return {};
});

/** Every minute: the offer step of every open line, whatever the stream delivered. */
export const sweep = middy<unknown, { lines: number; offered: number; returned: number }>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(publishMetrics())
  .handler(async () => {
    const result = await sweepLines(waitlistDeps);
    if (result.offered > 0 || result.returned > 0) logger.warn('the line sweeper made offers the stream had not', result);
    count('WaitlistOffersSwept', result.offered);
    return result;
  });

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import middy from '@middy/core';
import * as z from 'zod';
import { toWaitlistEntryView } from '../lib/domain/waitlist';
import { httpRoute } from '../lib/http/handler';
import { logger } from '../lib/http/logger';
import { count, publishMetrics } from '../lib/http/metrics';
import { waitlistRoutes as routes } from '../lib/http/routes/waitlist';
import { requireEvent } from '../lib/invocation';
import { getEntry, joinWaitlist, leaveWaitlist, listEntries, offerTickets, sweepLines } from '../lib/usecases/waitlist';
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

const Image = z.record(z.string(), z.custom<AttributeValue>((value) => typeof value === 'object' && value !== null));
const StreamRecord = z.looseObject({
  eventName: z.string().optional(),
  dynamodb: z.looseObject({ SequenceNumber: z.string().min(1), NewImage: Image.optional() }),
});
const StreamEvent = z.looseObject({ Records: z.array(StreamRecord) });
type StreamEvent = z.infer<typeof StreamEvent>;

/** The item a record names an event by: a stock shard holding line tickets, or a new entry. */
const EventOf = z.looseObject({ event_id: z.string().min(1) });

/**
 * Reads from the table's stream the changes that may let the line be offered
 * tickets (a shard that holds tickets released to the line, a new entry) and
 * runs the offer step once per event of the batch. The records of an event
 * whose step failed are answered as failures, so the mapping delivers them
 * again; the sweeper (`sweep`) is the backstop.
 */
export const offer = middy<StreamEvent, { batchItemFailures: { itemIdentifier: string }[] }>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(requireEvent(StreamEvent, '{ "Records": [<records of the booking table\'s DynamoDB stream>] }'))
  .use(publishMetrics())
  .handler(async ({ Records }) => {
    const recordsOf = new Map<string, string[]>();
    for (const record of Records) {
      const item = EventOf.safeParse(record.dynamodb.NewImage ? unmarshall(record.dynamodb.NewImage) : undefined);
      if (!item.success) {
        logger.warn('a stream record that names no event, let go', { sequence_number: record.dynamodb.SequenceNumber });
        continue;
      }
      recordsOf.set(item.data.event_id, [...(recordsOf.get(item.data.event_id) ?? []), record.dynamodb.SequenceNumber]);
    }
    const failed: string[] = [];
    await Promise.all(
      [...recordsOf].map(async ([eventId, records]) => {
        try {
          const result = await offerTickets(waitlistDeps, eventId);
          count('WaitlistOffersMade', result.offered);
          if (result.offered > 0 || result.returned > 0) logger.info('offer step', { event_id: eventId, ...result });
          // Stopped with offers left: the records come again, and the step goes on.
          if (result.unfinished) failed.push(...records);
        } catch (error) {
          logger.warn('offer step failed: its records go back to the stream', { event_id: eventId, error: String(error) });
          failed.push(...records);
        }
      }),
    );
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
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

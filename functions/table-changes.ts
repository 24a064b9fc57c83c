import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import middy from '@middy/core';
import * as z from 'zod';
import { logger } from '../lib/http/logger';
import { count, publishMetrics } from '../lib/http/metrics';
import { requireEvent } from '../lib/invocation';
import { offerTickets } from '../lib/usecases/waitlist';
import { publishChanges, type RecordedChange } from '../lib/usecases/webhooks';
import { waitlistDeps } from '../lib/wiring/waitlist-deps';
import { webhookDeps } from '../lib/wiring/webhook-deps';

const Image = z.record(z.string(), z.custom<AttributeValue>((value) => typeof value === 'object' && value !== null));
const StreamRecord = z.looseObject({
  eventID: z.string().optional(),
  eventName: z.string().optional(),
  dynamodb: z.looseObject({
    SequenceNumber: z.string().min(1),
    ApproximateCreationDateTime: z.number().optional(),
    NewImage: Image.optional(),
    OldImage: Image.optional(),
  }),
});
const StreamEvent = z.looseObject({ Records: z.array(StreamRecord) });
type StreamEvent = z.infer<typeof StreamEvent>;

/**
 * The table's second reader (DynamoDB serves two readers per stream shard; the
 * first starts hold timers): the changes that concern the waiting list and the
 * webhooks. A shard holding tickets released to the line, or a new entry, runs
 * the offer step of its event (lib/usecases/waitlist.ts); a booking's or an
 * entry's change becomes the deliveries its subscriptions want
 * (lib/usecases/webhooks.ts). The records whose work failed are answered as
 * failures, so the mapping delivers them again; both jobs are safe to repeat.
 */
export const follow = middy<StreamEvent, { batchItemFailures: { itemIdentifier: string }[] }>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(requireEvent(StreamEvent, '{ "Records": [<records of the booking table\'s DynamoDB stream>] }'))
  .use(publishMetrics())
  .handler(async ({ Records }) => {
    const offerRecords = new Map<string, string[]>();
    const changes: RecordedChange[] = [];
    const sequenceOf = new Map<string, string>();
    for (const record of Records) {
      const sequence = record.dynamodb.SequenceNumber;
      const item = record.dynamodb.NewImage ? unmarshall(record.dynamodb.NewImage) : undefined;
      const old = record.dynamodb.OldImage ? unmarshall(record.dynamodb.OldImage) : undefined;
      if (!item) continue;
      const eventId = typeof item.event_id === 'string' ? item.event_id : undefined;
      const forOffers = (item.type === 'stock' && Number(item.line_tickets ?? 0) > 0) || (item.type === 'waitlist' && record.eventName === 'INSERT');
      if (forOffers && eventId) offerRecords.set(eventId, [...(offerRecords.get(eventId) ?? []), sequence]);
      if (item.type === 'booking' || item.type === 'waitlist') {
        const at = record.dynamodb.ApproximateCreationDateTime;
        const recordId = record.eventID ?? sequence;
        sequenceOf.set(recordId, sequence);
        changes.push({ recordId, at: at ? new Date(at * 1000) : new Date(), change: { old, new: item } });
      }
    }
    const failed = new Set<string>();
    const [, published] = await Promise.all([
      Promise.all(
        [...offerRecords].map(async ([eventId, records]) => {
          try {
            const result = await offerTickets(waitlistDeps, eventId);
            count('WaitlistOffersMade', result.offered);
            if (result.offered > 0 || result.returned > 0) logger.info('offer step', { event_id: eventId, ...result });
            // Stopped with offers left: the records come again, and the step goes on.
            if (result.unfinished) records.forEach((r) => failed.add(r));
          } catch (error) {
            logger.warn('offer step failed: its records go back to the stream', { event_id: eventId, error: String(error) });
            records.forEach((r) => failed.add(r));
          }
        }),
      ),
      publishChanges(webhookDeps, changes),
    ]);
    count('WebhookDeliveriesQueued', published.deliveries);
    for (const recordId of published.failed) failed.add(sequenceOf.get(recordId) ?? recordId);
    return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
  });


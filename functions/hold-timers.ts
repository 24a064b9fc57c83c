import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import middy from '@middy/core';
import * as z from 'zod';
import { logger } from '../lib/http/logger';
import { requireEvent } from '../lib/invocation';
import { type NewHold, startHoldTimers } from '../lib/usecases/hold-timers';
import { holdTimer } from '../lib/wiring/hold-timer';

const Image = z.record(z.string(), z.custom<AttributeValue>((value) => typeof value === 'object' && value !== null));

/** A record of the table's stream, as the event source mapping delivers it. */
const StreamRecord = z.looseObject({
  eventName: z.string().optional(),
  dynamodb: z.looseObject({ SequenceNumber: z.string().min(1), NewImage: Image.optional() }),
});
const StreamEvent = z.looseObject({ Records: z.array(StreamRecord) });
type StreamEvent = z.infer<typeof StreamEvent>;

/** The new booking item that a record of a new hold carries (the mapping's filter lets only these through). */
const NewHoldItem = z.looseObject({
  type: z.literal('booking'),
  status: z.literal('PENDING'),
  id: z.string().min(1),
  expires_at: z.iso.datetime({ offset: true }),
});

/** The records' answer to the event source mapping: which of them to deliver again. */
interface BatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/**
 * Reads new holds from the table's stream (a batch of INSERTs of PENDING
 * bookings) and starts their timers, one per batch of holds that run out within
 * two seconds of each other (lib/usecases/hold-timers.ts). The records of batches whose timer could not be started are
 * answered as failures, so the mapping delivers them again (ReportBatchItemFailures):
 * their timers start late, not never. A record that is no new hold can never
 * become one: it is logged and let go rather than hold up the stream.
 */
export const start = middy<StreamEvent, BatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(requireEvent(StreamEvent, '{ "Records": [<records of the booking table\'s DynamoDB stream>] }'))
  .handler(async ({ Records }) => {
    const holds: NewHold[] = [];
    const recordsOf = new Map<string, string[]>();
    for (const record of Records) {
      const item = NewHoldItem.safeParse(record.dynamodb.NewImage ? unmarshall(record.dynamodb.NewImage) : undefined);
      if (record.eventName !== 'INSERT' || !item.success) {
        logger.warn('a stream record that is no new hold, let go', { sequence_number: record.dynamodb.SequenceNumber, event_name: record.eventName });
        continue;
      }
      holds.push({ booking_id: item.data.id, expires_at: item.data.expires_at });
      recordsOf.set(item.data.id, [...(recordsOf.get(item.data.id) ?? []), record.dynamodb.SequenceNumber]);
    }
    const { started, failed } = await startHoldTimers({ timer: holdTimer }, holds);
    logger.info('hold timers started', { holds: holds.length, timers: started.map((b) => b.id) });
    if (failed.length > 0) {
      logger.warn('hold timers not started: their records go back to the stream', {
        timers: failed.map(({ batch, error }) => ({ id: batch.id, holds: batch.booking_ids.length, error })),
      });
    }
    const again = failed.flatMap(({ batch }) => batch.booking_ids.flatMap((id) => recordsOf.get(id) ?? []));
    return { batchItemFailures: again.map((itemIdentifier) => ({ itemIdentifier })) };
  });

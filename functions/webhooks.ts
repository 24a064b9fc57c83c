import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import * as z from 'zod';
import { toDeliveryView, toSubscriptionView } from '../lib/domain/webhooks';
import { httpRoute } from '../lib/http/handler';
import { logger } from '../lib/http/logger';
import { count, publishMetrics } from '../lib/http/metrics';
import { webhooksRoutes as routes } from '../lib/http/routes/webhooks';
import { requireEvent } from '../lib/invocation';
import { type DeliveryOutcome, deliverWebhook, listDeliveries, listSubscriptions, rescueDelivery, subscribe, unsubscribe } from '../lib/usecases/webhooks';
import { stores } from '../lib/wiring/stores';
import { webhookDeps } from '../lib/wiring/webhook-deps';

export const create = httpRoute(routes.createWebhook, async ({ body }) => {
  const subscription = await subscribe(webhookDeps, body);
  // The secret is in this response and nowhere else: never logged, never listed.
  return { body: { ...toSubscriptionView(subscription), secret: subscription.secret }, headers: { location: `/webhooks/${subscription.id}` } };
});

export const list = httpRoute(routes.listWebhooks, async ({ query }) => {
  const page = await listSubscriptions(stores.webhooks, query);
  return { body: { items: page.items.map(toSubscriptionView), next_cursor: page.next_cursor } };
});

export const remove = httpRoute(routes.deleteWebhook, async ({ params }) => {
  await unsubscribe(stores.webhooks, params.id);
  return {};
});

export const deliveries = httpRoute(routes.listWebhookDeliveries, async ({ params, query }) => {
  const page = await listDeliveries(stores.webhooks, params.id, query);
  return { body: { items: page.items.map(toDeliveryView), next_cursor: page.next_cursor } };
});

const SqsEvent = z.looseObject({ Records: z.array(z.looseObject({ messageId: z.string().min(1), body: z.string() })) });
type SqsEvent = z.infer<typeof SqsEvent>;
const Message = z.object({
  delivery_id: z.string().min(1).max(128),
  attempt: z.number().int().min(0),
  not_before: z.iso.datetime({ offset: true }).optional(),
});

/** The delivery a message names; a message that names none is logged and let go (it can never name one). */
function messageOf(record: SqsEvent['Records'][number]): z.infer<typeof Message> | undefined {
  try {
    return Message.parse(JSON.parse(record.body));
  } catch {
    logger.warn('a message that names no delivery, let go', { message_id: record.messageId });
    return undefined;
  }
}

/**
 * Runs `work` on every message of a batch at once and answers which to hand out
 * again: those whose work threw (`failure` says so in the log). A message that
 * names no delivery is let go.
 */
async function eachMessage<R>(
  records: SqsEvent['Records'],
  work: (message: z.infer<typeof Message>) => Promise<R>,
  failure: string,
): Promise<{ outcomes: R[]; response: { batchItemFailures: { itemIdentifier: string }[] } }> {
  const outcomes: R[] = [];
  const again: string[] = [];
  await Promise.all(
    records.map(async (record) => {
      const message = messageOf(record);
      if (!message) return;
      try {
        outcomes.push(await work(message));
      } catch (error) {
        logger.warn(failure, { delivery_id: message.delivery_id, error: String(error) });
        again.push(record.messageId);
      }
    }),
  );
  return { outcomes, response: { batchItemFailures: again.map((itemIdentifier) => ({ itemIdentifier })) } };
}

/**
 * The delivery queue's consumer: every message of the batch at once, each one
 * attempt of its delivery (lib/usecases/webhooks.ts), so that a receiver slow to
 * answer holds up none of the others. A message whose attempt could not be
 * recorded or followed up goes back to the queue.
 */
export const deliver = middy<SqsEvent, { batchItemFailures: { itemIdentifier: string }[] }>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(requireEvent(SqsEvent, '{ "Records": [<messages of the webhook delivery queue>] }'))
  .use(publishMetrics())
  .handler(async ({ Records }) => {
    const { outcomes, response } = await eachMessage<DeliveryOutcome>(
      Records,
      (message) => deliverWebhook(webhookDeps, message),
      'a delivery attempt could not be completed: its message goes back to the queue',
    );
    count('WebhooksDelivered', outcomes.filter((o) => o === 'delivered').length);
    count('WebhooksFailed', outcomes.filter((o) => o === 'failed').length);
    return response;
  });

/**
 * The dead-letter queue's consumer: a delivery our own consumer failed on twenty
 * times goes back on the delivery queue while its retry period lasts, and ends
 * FAILED after it (lib/usecases/webhooks.ts, rescueDelivery).
 */
export const rescue = middy<SqsEvent, { batchItemFailures: { itemIdentifier: string }[] }>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(requireEvent(SqsEvent, '{ "Records": [<messages of the webhook dead-letter queue>] }'))
  .handler(async ({ Records }) => {
    const { response } = await eachMessage(
      Records,
      async (message) => {
        const outcome = await rescueDelivery(webhookDeps, message);
        logger.warn('a delivery back from the dead letters', { delivery_id: message.delivery_id, outcome });
        return outcome;
      },
      'a dead-lettered delivery could not be rescued yet',
    );
    return response;
  });

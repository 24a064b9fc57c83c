import { sqsClient, sqsWebhookQueue } from '../adapters/webhook-queue';
import { httpWebhookSender } from '../adapters/webhook-sender';
import { config } from '../config';
import { systemClock } from '../domain/time';
import { logger } from '../http/logger';
import type { WebhookDeps } from '../usecases/webhooks';
import { stores } from './stores';

/**
 * What the webhook functions run with: the store, the delivery queue, the
 * sender (refusing private addresses on deployed stages), the retry schedule.
 */
export const webhookDeps: WebhookDeps = {
  store: stores.webhooks,
  queue: sqsWebhookQueue(sqsClient(), config.WEBHOOK_QUEUE_URL),
  sender: httpWebhookSender({ allowPrivate: config.WEBHOOK_ALLOW_PRIVATE_URLS }),
  clock: systemClock,
  retry: { baseSeconds: config.WEBHOOK_RETRY_BASE_SECONDS, retryForSeconds: config.WEBHOOK_RETRY_FOR_SECONDS },
  log: (message, data) => logger.warn(message, data),
};

import { createHash, randomUUID } from 'node:crypto';
import { newWebhookSecret, signatureHeaders } from '../adapters/webhook-signature';
import { NotFoundError } from '../domain/errors';
import type { Clock } from '../domain/time';
import {
  type CreateWebhookInput,
  type Delivery,
  delivered,
  happeningOf,
  type ItemChange,
  nextAttemptAt,
  type Subscription,
  WebhookType,
  wants,
  webhookPayload,
} from '../domain/webhooks';
import type { DeliveryMessage, WebhookQueue, WebhookSender } from '../ports';
import type { Page, PageRequest } from '../store/pagination';
import type { WebhookStore } from '../store/webhooks';

/*
 * WEBHOOKS: at least once, from the table's stream, never from the request.
 *
 * A booking's or an entry's change is written by its own transaction and by
 * nothing else; the table's stream then carries it, whatever happens to the
 * function that wrote it (it may die the next instant). So the stream is the
 * outbox: a consumer (`publishChanges`) turns each change that a subscription
 * wants into a delivery item, named by a hash of the stream record and the
 * subscription (a record delivered twice makes one delivery), and puts its id on
 * the delivery queue (SQS). A consumer that dies between the two is delivered
 * the record again, finds the delivery written and PENDING, and queues it again.
 *
 * The sender (`deliverWebhook`) takes one message, signs the delivery per
 * Standard Webhooks (the same `webhook-id` on every attempt, a fresh timestamp
 * and signature on each) and POSTs it with a 10 s limit. A 2xx makes it
 * DELIVERED; anything else is counted, and a message for the next attempt goes
 * on the queue with exponential backoff and jitter, until the retry period (at
 * least 24 hours) is over and the delivery is FAILED. Every message is sent on
 * its own, several at once, so a slow or dead receiver holds up only its own
 * deliveries. A message handed out twice is sent twice at most: the attempt is
 * recorded on condition of the attempts read, and receivers deduplicate by
 * `webhook-id`, as the specification asks of them.
 */

/** A receiver that has not answered in this long has not answered. */
export const ATTEMPT_TIMEOUT_MS = 10_000;

export interface WebhookDeps {
  store: WebhookStore;
  queue: WebhookQueue;
  sender: WebhookSender;
  clock: Clock;
  retry: { baseSeconds: number; retryForSeconds: number };
  log?: (message: string, data: Record<string, unknown>) => void;
}

/** A subscription: its URL checked (422 for a forbidden address), its secret made. */
export async function subscribe(deps: Pick<WebhookDeps, 'store' | 'sender' | 'clock'>, input: CreateWebhookInput): Promise<Subscription> {
  await deps.sender.assertReachable(input.url);
  const subscription: Subscription = {
    id: randomUUID(),
    url: input.url,
    events: input.events ?? [...WebhookType.options],
    secret: newWebhookSecret(),
    created_at: deps.clock().toISOString(),
  };
  await deps.store.putSubscription(subscription);
  return subscription;
}

export function listSubscriptions(store: WebhookStore, page: PageRequest): Promise<Page<Subscription>> {
  return store.listSubscriptions(page);
}

/**
 * Nothing more is sent to it: its PENDING deliveries end FAILED when their next
 * attempt comes. A subscription read here and found gone by the delete was
 * deleted, by this request (a Delete applied whose answer was lost, sent again)
 * or another: either way what was asked holds.
 */
export async function unsubscribe(store: WebhookStore, id: string): Promise<void> {
  if (!(await store.getSubscription(id))) throw new NotFoundError('webhook', id);
  await store.deleteSubscription(id);
}

export async function listDeliveries(store: WebhookStore, subscriptionId: string, page: PageRequest): Promise<Page<Delivery>> {
  if (!(await store.getSubscription(subscriptionId))) throw new NotFoundError('webhook', subscriptionId);
  return store.listDeliveries(subscriptionId, page);
}

/** One change of the table as the stream delivers it: its record's id, when it was made, the item before and after. */
export interface RecordedChange {
  recordId: string;
  at: Date;
  change: ItemChange;
}

/** A delivery's id: the same for the same record and subscription, so a record delivered twice is one delivery. */
export function deliveryId(subscriptionId: string, recordId: string): string {
  return `msg_${createHash('sha256').update(`${subscriptionId}\n${recordId}`).digest('base64url').slice(0, 27)}`;
}

/**
 * Turns changes into deliveries and queues them. Returns the records whose
 * deliveries could not all be written and queued: the stream delivers them again.
 */
export async function publishChanges(deps: WebhookDeps, changes: RecordedChange[]): Promise<{ deliveries: number; failed: string[] }> {
  const happenings = changes.flatMap((c) => {
    const happening = happeningOf(c.change);
    return happening ? [{ ...c, happening }] : [];
  });
  if (happenings.length === 0) return { deliveries: 0, failed: [] };
  const subscriptions = await deps.store.allSubscriptions();
  const failed: string[] = [];
  let deliveries = 0;
  await Promise.all(
    happenings.map(async ({ recordId, at, happening }) => {
      try {
        const due: DeliveryMessage[] = [];
        for (const subscription of subscriptions.filter((s) => wants(s, happening.type))) {
          const delivery: Delivery = {
            id: deliveryId(subscription.id, recordId),
            subscription_id: subscription.id,
            type: happening.type,
            status: 'PENDING',
            attempts: 0,
            last_status_code: null,
            created_at: deps.clock().toISOString(),
            delivered_at: null,
            payload: webhookPayload(happening, at),
            next_attempt_at: deps.clock().toISOString(),
          };
          const written = await deps.store.createDelivery(delivery);
          // Written before by a consumer that died before queueing it, or queued already: queued (again) while untried.
          if (written.kind === 'created' || (written.delivery.status === 'PENDING' && written.delivery.attempts === 0)) {
            due.push({ delivery_id: delivery.id, attempt: 0, delay_seconds: 0 });
          }
        }
        await deps.queue.enqueue(due);
        deliveries += due.length;
      } catch (error) {
        deps.log?.('a change could not be made into deliveries: its record goes back to the stream', { record: recordId, error: String(error) });
        failed.push(recordId);
      }
    }),
  );
  return { deliveries, failed };
}

export type DeliveryOutcome = 'delivered' | 'retrying' | 'failed' | 'not-pending' | 'not-found' | 'deferred' | 'stale';

/**
 * Whether a message is the one the delivery waits for: the attempt the delivery
 * has counted up to, and, for a retry, the time recorded with it. A message run
 * twice at once sends twice (at least once) and queues two retries; only the one
 * whose time was recorded goes on, so the copies end there. A message for the
 * attempt after the last counted is current too: its sender queued it and died
 * before counting its own attempt.
 */
function isCurrent(delivery: Delivery, message: Omit<DeliveryMessage, 'delay_seconds'>): boolean {
  if (delivery.attempts === message.attempt - 1) return true;
  if (delivery.attempts !== message.attempt) return false;
  return message.attempt === 0 || delivery.next_attempt_at === message.not_before;
}

/**
 * One message of the delivery queue: one attempt of its delivery, unless its
 * time has not come (a wait longer than the queue can delay is made of several
 * messages) or the delivery is no longer PENDING. Throws only when the outcome
 * could not be recorded or the next attempt not queued: the queue then hands the
 * message out again.
 */
export async function deliverWebhook(deps: WebhookDeps, message: Omit<DeliveryMessage, 'delay_seconds'>): Promise<DeliveryOutcome> {
  const now = deps.clock();
  if (message.not_before && Date.parse(message.not_before) > now.getTime() + 1000) {
    const wait = (Date.parse(message.not_before) - now.getTime()) / 1000;
    await deps.queue.enqueue([{ ...message, delay_seconds: wait }]);
    return 'deferred';
  }
  const delivery = await deps.store.getDelivery(message.delivery_id);
  if (!delivery) return 'not-found';
  if (delivery.status !== 'PENDING') return 'not-pending';
  if (!isCurrent(delivery, message)) return 'stale';
  const subscription = await deps.store.getSubscription(delivery.subscription_id);
  if (!subscription) {
    // Unsubscribed: nothing more is sent to it (and nothing was attempted).
    await deps.store.recordAttempt(delivery, { status: 'FAILED', last_status_code: delivery.last_status_code, delivered_at: null, next_attempt_at: null }, false);
    return 'failed';
  }

  const at = deps.clock();
  const attempt = await deps.sender.send({
    url: subscription.url,
    body: delivery.payload,
    headers: signatureHeaders(subscription.secret, delivery.id, at, delivery.payload),
    timeoutMs: ATTEMPT_TIMEOUT_MS,
  });
  const after = deps.clock();
  if (delivered(attempt.status_code)) {
    await deps.store.recordAttempt(delivery, { status: 'DELIVERED', last_status_code: attempt.status_code, delivered_at: after.toISOString(), next_attempt_at: null });
    return 'delivered';
  }
  const next = nextAttemptAt({ created_at: delivery.created_at, attempts: delivery.attempts + 1 }, after, deps.retry);
  if (!next) {
    await deps.store.recordAttempt(delivery, { status: 'FAILED', last_status_code: attempt.status_code, delivered_at: null, next_attempt_at: null });
    return 'failed';
  }
  // The next attempt is queued before this one is counted: a function that dies
  // in between leaves a message for an attempt already counted, which is sent
  // once more, rather than a PENDING delivery that no message names.
  await deps.queue.enqueue([
    { delivery_id: delivery.id, attempt: delivery.attempts + 1, not_before: next.toISOString(), delay_seconds: (next.getTime() - after.getTime()) / 1000 },
  ]);
  await deps.store.recordAttempt(delivery, {
    status: 'PENDING',
    last_status_code: attempt.status_code,
    delivered_at: null,
    next_attempt_at: next.toISOString(),
  });
  deps.log?.('a webhook delivery failed: tried again later', {
    delivery_id: delivery.id,
    attempts: delivery.attempts + 1,
    status_code: attempt.status_code,
    error: attempt.error,
    next_attempt_at: next.toISOString(),
  });
  return 'retrying';
}

/** How long a delivery back from the dead letters waits before its next try: the queue's longest delay. */
const RESCUE_DELAY_SECONDS = 900;

/**
 * A message of the dead-letter queue: one our own consumer failed on twenty
 * times (a fault of ours or of the table, not of the receiver, which is retried
 * by new messages). Within the delivery's retry period it goes back on the
 * delivery queue, a quarter of an hour later; past it, the delivery is FAILED,
 * so no delivery stays PENDING with no message naming it.
 */
export async function rescueDelivery(deps: WebhookDeps, message: Omit<DeliveryMessage, 'delay_seconds'>): Promise<'requeued' | 'failed' | 'not-pending' | 'not-found'> {
  for (let read = 0; read < 3; read++) {
    const delivery = await deps.store.getDelivery(message.delivery_id);
    if (!delivery) return 'not-found';
    if (delivery.status !== 'PENDING') return 'not-pending';
    const now = deps.clock();
    if (now.getTime() < Date.parse(delivery.created_at) + deps.retry.retryForSeconds * 1000) {
      // The attempt and due time recorded: the message the delivery waits for, sent again.
      await deps.queue.enqueue([
        { delivery_id: delivery.id, attempt: delivery.attempts, not_before: delivery.next_attempt_at ?? undefined, delay_seconds: RESCUE_DELAY_SECONDS },
      ]);
      return 'requeued';
    }
    const ended = await deps.store.recordAttempt(
      delivery,
      { status: 'FAILED', last_status_code: delivery.last_status_code, delivered_at: null, next_attempt_at: null },
      false,
    );
    if (ended === 'recorded') return 'failed';
  }
  throw new Error(`the delivery ${message.delivery_id} kept changing while it was being ended`);
}

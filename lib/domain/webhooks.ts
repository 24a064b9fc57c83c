import * as z from 'zod';
import { type Booking, toBookingView } from './booking';
import { toWaitlistEntryView, type WaitlistEntry } from './waitlist';

/**
 * Webhooks: what the seller's systems are told, when, and how often a delivery
 * is tried. The rules are here; the deliveries are made from the table's stream
 * (lib/usecases/webhooks.ts) and signed per Standard Webhooks
 * (lib/adapters/webhook-sender.ts).
 */

export const WebhookType = z.enum(['booking.created', 'booking.confirmed', 'booking.cancelled', 'booking.expired', 'waitlist.offered']);
export type WebhookType = z.infer<typeof WebhookType>;

export const DeliveryStatus = z.enum(['PENDING', 'DELIVERED', 'FAILED']);
export type DeliveryStatus = z.infer<typeof DeliveryStatus>;

export const CreateWebhookBody = z
  .strictObject({
    url: z
      .string()
      .max(2048)
      .refine((value) => {
        try {
          const url = new URL(value);
          return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' && url.username === '' && url.password === '';
        } catch {
          return false;
        }
      }, 'must be an http or https URL without credentials')
      .meta({ format: 'uri', description: 'Where the deliveries are POSTed (http or https)' }),
    events: z
      .array(WebhookType)
      .min(1)
      .max(WebhookType.options.length)
      .refine((types) => new Set(types).size === types.length, 'must not repeat a type')
      .optional()
      .meta({ description: 'The types to deliver; all of them when left out' }),
  })
  .meta({ id: 'CreateWebhook' });
export type CreateWebhookInput = z.infer<typeof CreateWebhookBody>;

export interface Subscription {
  id: string;
  url: string;
  events: WebhookType[];
  /** `whsec_` + base64 of the signing key: kept to sign, shown once, never listed or logged. */
  secret: string;
  created_at: string;
}

export const SubscriptionView = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(WebhookType),
    created_at: z.string().meta({ format: 'date-time' }),
  })
  .meta({ id: 'WebhookSubscription' });

export const CreatedSubscriptionView = SubscriptionView.extend({
  secret: z.string().meta({ description: 'whsec_ + base64 signing key. Shown in this response only: store it to verify deliveries.' }),
}).meta({ id: 'CreatedWebhookSubscription' });

export const toSubscriptionView = (s: Subscription): z.infer<typeof SubscriptionView> => ({ id: s.id, url: s.url, events: s.events, created_at: s.created_at });

export interface Delivery {
  /** The Standard Webhooks message id (`webhook-id`): the same on every attempt. */
  id: string;
  subscription_id: string;
  type: WebhookType;
  status: DeliveryStatus;
  attempts: number;
  last_status_code: number | null;
  created_at: string;
  delivered_at: string | null;
  /** The JSON body POSTed on every attempt. */
  payload: string;
  /** When the next attempt is due (PENDING only). */
  next_attempt_at: string | null;
}

export const DeliveryView = z
  .object({
    id: z.string(),
    type: WebhookType,
    status: DeliveryStatus,
    attempts: z.number().int().min(0),
    last_status_code: z.number().int().min(100).max(599).nullable().meta({ description: "The receiver's last HTTP status; null when it never answered" }),
    created_at: z.string().meta({ format: 'date-time' }),
    delivered_at: z.string().meta({ format: 'date-time' }).nullable(),
  })
  .meta({ id: 'WebhookDelivery' });

export const toDeliveryView = (d: Delivery): z.infer<typeof DeliveryView> => ({
  id: d.id,
  type: d.type,
  status: d.status,
  attempts: d.attempts,
  last_status_code: d.last_status_code,
  created_at: d.created_at,
  delivered_at: d.delivered_at,
});

/** A change of an item, as the table's stream tells it: the item before and after (absent for an insert). */
export interface ItemChange {
  old?: Record<string, unknown> | undefined;
  new?: Record<string, unknown> | undefined;
}

/** What happened, for the receivers: the type, and the resource as the API shows it. */
export interface Happening {
  type: WebhookType;
  data: Record<string, unknown>;
}

/**
 * The webhook a change of the table makes, if any: a booking made, paid,
 * cancelled (by a user or the admin) or expired, and a waiting-list offer. Only
 * changes of status count, so a change written twice (a lost answer's resend
 * finds it applied) makes one webhook per record, and the deliveries' ids make
 * a record delivered twice one delivery.
 */
export function happeningOf(change: ItemChange): Happening | undefined {
  const after = change.new;
  if (!after) return undefined;
  const before = change.old;
  if (after.type === 'booking') {
    const booking = after as unknown as Booking;
    const was = before?.status as string | undefined;
    const data = toBookingView(booking) as unknown as Record<string, unknown>;
    if (!before && booking.status === 'PENDING') return { type: 'booking.created', data };
    if (was === booking.status) return undefined;
    if (booking.status === 'CONFIRMED') return { type: 'booking.confirmed', data };
    if (booking.status === 'CANCELLED') return { type: booking.cancel_reason === 'PAYMENT_TIMEOUT' ? 'booking.expired' : 'booking.cancelled', data };
    return undefined;
  }
  if (after.type === 'waitlist') {
    const entry = after as unknown as WaitlistEntry;
    if (entry.status === 'OFFERED' && before?.status !== 'OFFERED') {
      return { type: 'waitlist.offered', data: toWaitlistEntryView(entry, null) as unknown as Record<string, unknown> };
    }
  }
  return undefined;
}

/** The body of every attempt of a delivery (Standard Webhooks: type, timestamp, data). */
export function webhookPayload(happening: Happening, at: Date): string {
  return JSON.stringify({ type: happening.type, timestamp: at.toISOString(), data: happening.data });
}

/** Whether a subscription wants a type. */
export const wants = (subscription: Pick<Subscription, 'events'>, type: WebhookType) => subscription.events.includes(type);

/**
 * When a failed delivery is tried again: exponential backoff from `baseSeconds`
 * (doubling per attempt, at most an hour apart), with full jitter over the
 * upper half so that receivers coming back are not met by every retry at once.
 * The last attempt falls at `retryForSeconds` after the delivery was made, so
 * a receiver is tried for at least that long; undefined once that is past:
 * then the delivery is FAILED.
 */
export function nextAttemptAt(
  delivery: Pick<Delivery, 'created_at' | 'attempts'>,
  now: Date,
  options: { baseSeconds: number; retryForSeconds: number; maxDelaySeconds?: number },
  random: () => number = Math.random,
): Date | undefined {
  const cap = options.maxDelaySeconds ?? 3600;
  const exponent = Math.max(0, delivery.attempts - 1);
  const delay = Math.min(cap, options.baseSeconds * 2 ** Math.min(exponent, 30));
  const jittered = delay / 2 + random() * (delay / 2);
  const at = new Date(now.getTime() + jittered * 1000);
  const deadline = Date.parse(delivery.created_at) + options.retryForSeconds * 1000;
  if (now.getTime() >= deadline) return undefined;
  return at.getTime() > deadline ? new Date(deadline) : at;
}

/** A receiver answered in time with a 2xx: the delivery is done. */
export const delivered = (statusCode: number | null) => statusCode !== null && statusCode >= 200 && statusCode < 300;

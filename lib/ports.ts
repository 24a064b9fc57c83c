/**
 * The ports: what the use cases call out through, besides the stores. Each is
 * implemented by an adapter in lib/adapters/ beside the SDK client it wraps (or
 * by the store, for the idempotency record), so a use case never sees an SDK type
 * and a unit test can hand it a fake.
 */

/**
 * Holds that one timer ends together (lib/usecases/hold-timers.ts makes them from
 * the table's stream).
 */
export interface HoldBatch {
  /** Names the batch's timer; the same holds give the same id, so starting a batch twice starts one timer. */
  id: string;
  /** When every hold of the batch has run out: the latest `expires_at` among them. */
  expires_at: string;
  /** The bookings whose holds the timer ends, sorted. */
  booking_ids: readonly string[];
}

/**
 * Starts the timer that ends a batch of holds at its `expires_at`, each unless it
 * is paid first. Starting a batch whose timer exists already is a success.
 */
export interface HoldTimer {
  start(batch: HoldBatch): Promise<void>;
}

/**
 * What the booking rules need of a payment provider. `reference` identifies the
 * thing paid for: charging the same reference twice must charge once (a real
 * gateway's idempotency key).
 */
export interface PaymentGateway {
  /** Charges the amount; throws PaymentDeclinedError (402) or PaymentGatewayError (502). */
  charge(request: { reference: string; amount_cents: number; token: string }): Promise<{ payment_id: string }>;
  /** Gives back a charge whose booking could not be confirmed after all. */
  refund(paymentId: string): Promise<void>;
}

/**
 * The write that records an Idempotency-Key's response. A use case passes it on
 * to the store, which makes it part of the transaction that does the work, so the
 * work and the record of it land together or not at all. Opaque here: only the
 * store that made it knows what it writes.
 */
export interface IdempotencyCompletion {
  readonly kind: 'idempotency-completion';
}

/**
 * The queue of webhook deliveries (SQS on AWS, its local equivalent in the local
 * stack): a message names a delivery and is handed to the sender at
 * `delaySeconds` (at most 900, SQS's limit; a longer wait is made of several).
 */
export interface WebhookQueue {
  enqueue(messages: DeliveryMessage[]): Promise<void>;
}

/**
 * A message of the delivery queue: the delivery, the attempt it is for (the
 * attempts counted before it), and, for a retry, when it is due (the
 * `next_attempt_at` recorded with it).
 */
export interface DeliveryMessage {
  delivery_id: string;
  attempt: number;
  not_before?: string | undefined;
  delay_seconds: number;
}

/** What one attempt of a delivery came to: the receiver's status, or null when it did not answer in time. */
export interface WebhookAttempt {
  status_code: number | null;
  error?: string | undefined;
}

/**
 * POSTs a signed delivery to a receiver, within a time limit, refusing an
 * address it must not reach (deployed stages: private, loopback, link-local).
 */
export interface WebhookSender {
  send(request: { url: string; body: string; headers: Record<string, string>; timeoutMs: number }): Promise<WebhookAttempt>;
  /** Throws a validation error for a URL whose host resolves to an address the sender would refuse. */
  assertReachable(url: string): Promise<void>;
}

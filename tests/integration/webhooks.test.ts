import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { httpWebhookSender } from '../../lib/adapters/webhook-sender';
import type { Booking } from '../../lib/domain/booking';
import type { DeliveryMessage, WebhookQueue } from '../../lib/ports';
import { webhookStore } from '../../lib/store/webhooks';
import { deliverWebhook, deliveryId, listDeliveries, publishChanges, type RecordedChange, rescueDelivery, subscribe, unsubscribe, type WebhookDeps } from '../../lib/usecases/webhooks';
import { testTable } from '../support/table';

/*
 * The webhook outbox (lib/usecases/webhooks.ts, README "Webhooks") against
 * DynamoDB Local under the model of AWS, with a receiver on loopback: changes
 * become deliveries once, a consumer that dies between writing a delivery and
 * queueing it leaves nothing undelivered, each attempt is signed so that the
 * Standard Webhooks verifier accepts it, a failing receiver is tried again with
 * the same webhook-id until it answers, and a delivery ends FAILED after its
 * retry period or once its subscription is gone. The queue here records what
 * is put on it; the SQS queue itself, and its consumer, run in the e2e tests.
 */

const table = testTable();
afterAll(() => table.close());
const store = webhookStore(table);

interface Received {
  body: string;
  headers: Record<string, string>;
}

let receiver: Server;
let url: string;
let answer: (request: IncomingMessage) => number = () => 204;
const received: Received[] = [];

beforeAll(async () => {
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ body: Buffer.concat(chunks).toString('utf8'), headers: request.headers as Record<string, string> });
      response.statusCode = answer(request);
      response.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
});
afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
beforeEach(() => {
  received.length = 0;
  answer = () => 204;
});

/** A queue that keeps what is put on it, and can refuse the first calls (a consumer dying before the send). */
function recordingQueue(refuseFirst = 0): WebhookQueue & { messages: DeliveryMessage[] } {
  let refused = 0;
  const messages: DeliveryMessage[] = [];
  return {
    messages,
    async enqueue(batch) {
      if (refused < refuseFirst) {
        refused++;
        throw new Error('the queue could not be reached');
      }
      messages.push(...batch);
    },
  };
}

let now = () => new Date();
function depsWith(queue: WebhookQueue, retry = { baseSeconds: 1, retryForSeconds: 3600 }): WebhookDeps {
  return { store, queue, sender: httpWebhookSender({ allowPrivate: true }), clock: () => now(), retry };
}
afterEach(async () => {
  now = () => new Date();
  // Every test subscribes its own receivers: none is left to receive another test's changes.
  for (const subscription of await store.allSubscriptions()) await unsubscribe(store, subscription.id);
});

const booking = (status: Booking['status'], fields: Partial<Booking> = {}): Record<string, unknown> => ({
  type: 'booking',
  id: `b-${Math.random().toString(36).slice(2)}`,
  event_id: 'e-1',
  user_id: 'u-1',
  quantity: 2,
  unit_price_cents: 1250,
  amount_cents: 2500,
  status,
  created_at: '2026-11-30T10:00:00.000Z',
  expires_at: '2026-11-30T10:15:00.000Z',
  confirmed_at: status === 'CONFIRMED' ? '2026-11-30T10:05:00.000Z' : null,
  cancelled_at: null,
  cancel_reason: null,
  stock_shard: 3,
  change_id: 'internal',
  gsi1pk: 'USER#u-1',
  ...fields,
});
let records = 0;
const recorded = (change: RecordedChange['change']): RecordedChange => ({ recordId: `record-${Date.now()}-${records++}`, at: new Date(), change });

describe('changes become deliveries', () => {
  it('one per change a subscription wants, none for what it does not, and once for a record delivered twice', async () => {
    const queue = recordingQueue();
    const deps = depsWith(queue);
    const all = await subscribe(deps, { url });
    const paidOnly = await subscribe(deps, { url, events: ['booking.confirmed'] });
    const made = booking('PENDING');
    const paid = booking('CONFIRMED', { id: made.id as string });
    const changes = [recorded({ new: made }), recorded({ old: made, new: paid }), recorded({ old: paid, new: paid })];

    expect(await publishChanges(deps, changes)).toEqual({ deliveries: 3, failed: [] });
    // The stream hands the same records out again: the same deliveries, queued again while untried.
    await publishChanges(deps, changes);

    const toAll = (await listDeliveries(store, all.id, { limit: 10 })).items;
    const toPaid = (await listDeliveries(store, paidOnly.id, { limit: 10 })).items;
    expect(toAll.map((d) => d.type).sort()).toEqual(['booking.confirmed', 'booking.created']);
    expect(toPaid.map((d) => d.type)).toEqual(['booking.confirmed']);
    expect(toAll.every((d) => d.status === 'PENDING' && d.attempts === 0)).toBe(true);
    expect(new Set(queue.messages.map((m) => m.delivery_id))).toEqual(new Set([...toAll, ...toPaid].map((d) => d.id)));
    await unsubscribe(store, all.id);
    await unsubscribe(store, paidOnly.id);
  });

  it('survives a consumer that dies between writing a delivery and queueing it', async () => {
    const queue = recordingQueue(1);
    const deps = depsWith(queue);
    const subscription = await subscribe(deps, { url, events: ['booking.created'] });
    const change = recorded({ new: booking('PENDING') });

    const first = await publishChanges(deps, [change]);
    expect(first.failed).toEqual([change.recordId]);
    const written = (await listDeliveries(store, subscription.id, { limit: 10 })).items;
    expect(written).toHaveLength(1);
    expect(queue.messages).toEqual([]);

    // The record comes again: the delivery written before is queued now, and is still one delivery.
    expect(await publishChanges(deps, [change])).toEqual({ deliveries: 1, failed: [] });
    expect(queue.messages.map((m) => m.delivery_id)).toEqual([deliveryId(subscription.id, change.recordId)]);
    expect(await deliverWebhook(deps, queue.messages[0]!)).toBe('delivered');
    expect(received).toHaveLength(1);
    await unsubscribe(store, subscription.id);
  });
});

describe('an attempt', () => {
  it('is signed so that the Standard Webhooks verifier accepts it, and carries the booking as the API shows it', async () => {
    const queue = recordingQueue();
    const deps = depsWith(queue);
    const subscription = await subscribe(deps, { url, events: ['booking.created'] });
    const made = booking('PENDING');
    await publishChanges(deps, [recorded({ new: made })]);

    expect(await deliverWebhook(deps, queue.messages[0]!)).toBe('delivered');
    const [request] = received;
    const payload = new Webhook(subscription.secret).verify(request!.body, request!.headers) as { type: string; data: Record<string, unknown> };
    expect(payload.type).toBe('booking.created');
    expect(payload.data).toMatchObject({ id: made.id, status: 'PENDING', quantity: 2, unit_price: 12.5, amount: 25 });
    expect(Object.keys(payload.data)).not.toEqual(expect.arrayContaining(['stock_shard']));
    expect(payload.data).not.toHaveProperty('change_id');
    expect(request!.headers['webhook-id']).toBe(queue.messages[0]!.delivery_id);
    const [delivery] = (await listDeliveries(store, subscription.id, { limit: 1 })).items;
    expect(delivery).toMatchObject({ status: 'DELIVERED', attempts: 1, last_status_code: 204 });
    await unsubscribe(store, subscription.id);
  });

  it('to a failing receiver is tried again later with the same webhook-id, until it answers', async () => {
    const queue = recordingQueue();
    const deps = depsWith(queue, { baseSeconds: 30, retryForSeconds: 3600 });
    const subscription = await subscribe(deps, { url, events: ['booking.created'] });
    await publishChanges(deps, [recorded({ new: booking('PENDING') })]);
    answer = () => 503;

    expect(await deliverWebhook(deps, queue.messages[0]!)).toBe('retrying');
    const retry = queue.messages[1]!;
    expect(retry.not_before).toBeDefined();
    expect(retry.delay_seconds).toBeGreaterThan(0);
    // Handed out early (a message delayed less than its wait): put back, nothing sent.
    expect(await deliverWebhook(deps, retry)).toBe('deferred');
    expect(received).toHaveLength(1);

    answer = () => 200;
    now = () => new Date(Date.parse(retry.not_before!) + 10);
    expect(await deliverWebhook(deps, retry)).toBe('delivered');
    expect(received.map((r) => r.headers['webhook-id'])).toEqual([retry.delivery_id, retry.delivery_id]);
    expect(received[0]!.headers['webhook-signature']).not.toBe(received[1]!.headers['webhook-signature']);
    const [delivery] = (await listDeliveries(store, subscription.id, { limit: 1 })).items;
    expect(delivery).toMatchObject({ status: 'DELIVERED', attempts: 2, last_status_code: 200 });
    // The same message handed out twice after that sends nothing more.
    expect(await deliverWebhook(deps, retry)).toBe('not-pending');
    expect(received).toHaveLength(2);
    await unsubscribe(store, subscription.id);
  });

  it('sent twice at once (a message handed out twice) goes on as one chain of retries', async () => {
    const queue = recordingQueue();
    const deps = depsWith(queue, { baseSeconds: 30, retryForSeconds: 3600 });
    await subscribe(deps, { url, events: ['booking.created'] });
    await publishChanges(deps, [recorded({ new: booking('PENDING') })]);
    answer = () => 500;
    const [first] = queue.messages;

    expect(await Promise.all([deliverWebhook(deps, first!), deliverWebhook(deps, first!)])).toEqual(['retrying', 'retrying']);
    const retries = queue.messages.slice(1);
    expect(retries).toHaveLength(2);
    answer = () => 200;
    now = () => new Date(Math.max(...retries.map((m) => Date.parse(m.not_before!))) + 10);
    const outcomes = await Promise.all(retries.map((m) => deliverWebhook(deps, m)));
    // The copy whose time was not recorded stops; the other delivers.
    expect(outcomes.sort()).toEqual(['delivered', 'stale']);
    expect(received).toHaveLength(3);
  });

  it('ends FAILED once its retry period is over', async () => {
    const queue = recordingQueue();
    const deps = depsWith(queue, { baseSeconds: 1, retryForSeconds: 5 });
    const subscription = await subscribe(deps, { url, events: ['booking.created'] });
    await publishChanges(deps, [recorded({ new: booking('PENDING') })]);
    answer = () => 500;

    now = () => new Date(Date.now() + 6000);
    expect(await deliverWebhook(deps, queue.messages[0]!)).toBe('failed');
    const [delivery] = (await listDeliveries(store, subscription.id, { limit: 1 })).items;
    expect(delivery).toMatchObject({ status: 'FAILED', attempts: 1, last_status_code: 500 });
    expect(queue.messages).toHaveLength(1);
    await unsubscribe(store, subscription.id);
  });

  it('back from the dead letters (our consumer failed on it) is queued again, then FAILED once its period is over', async () => {
    const queue = recordingQueue();
    const deps = depsWith(queue, { baseSeconds: 30, retryForSeconds: 3600 });
    await subscribe(deps, { url, events: ['booking.created'] });
    await publishChanges(deps, [recorded({ new: booking('PENDING') })]);
    answer = () => 500;
    await deliverWebhook(deps, queue.messages[0]!);
    const retry = queue.messages[1]!;

    // The retry's message dead-lettered: sent again, the message the delivery waits for.
    expect(await rescueDelivery(deps, retry)).toBe('requeued');
    const rescued = queue.messages[2]!;
    expect(rescued).toMatchObject({ delivery_id: retry.delivery_id, attempt: 1, not_before: retry.not_before, delay_seconds: 900 });
    answer = () => 204;
    now = () => new Date(Date.parse(retry.not_before!) + 10);
    expect(await deliverWebhook(deps, rescued)).toBe('delivered');

    // Past the retry period, a dead-lettered delivery ends FAILED.
    await publishChanges(deps, [recorded({ new: booking('PENDING') })]);
    const late = queue.messages.at(-1)!;
    now = () => new Date(Date.now() + 3_700_000);
    expect(await rescueDelivery(deps, late)).toBe('failed');
    expect(await store.getDelivery(late.delivery_id)).toMatchObject({ status: 'FAILED', attempts: 0 });
  });

  it('sends nothing to a subscription deleted meanwhile', async () => {
    const queue = recordingQueue();
    const deps = depsWith(queue);
    const subscription = await subscribe(deps, { url });
    await publishChanges(deps, [recorded({ new: booking('PENDING') })]);
    const id = queue.messages[0]!.delivery_id;
    await unsubscribe(store, subscription.id);

    expect(await deliverWebhook(deps, queue.messages[0]!)).toBe('failed');
    expect(received).toEqual([]);
    expect(await store.getDelivery(id)).toMatchObject({ status: 'FAILED' });
  });
});

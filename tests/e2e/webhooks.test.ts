import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { type IsolatedStack, startIsolatedStack } from '../../localstack/isolated-stack';
import { inParallel } from '../../lib/parallel';
import { expectFieldProblem, expectProblem } from '../support/expectations';
import { sleep, STACK_START_TIMEOUT } from '../support/time';
import { ONE_EVENT_CONCURRENCY, UNDER_THE_MODEL } from '../support/under-the-model';
import { type StackClient, stackClient } from './client';

/**
 * Webhooks end to end (README, "Webhooks"): subscriptions over HTTP, deliveries
 * made from the table's stream, queued on the local SQS queue, POSTed to a
 * receiver on loopback and verified there with the Standard Webhooks library.
 * Its own stack, under the model of AWS, with a 3 s hold and offer (for
 * booking.expired and waitlist.offered) and a 1 s first retry.
 */

const HOLD_SECONDS = 3;
/** "Within seconds", with the emulator's latency: how long a delivery may take to arrive. */
const DEADLINE_MS = 20_000;

let stack: IsolatedStack;
let client: StackClient;

interface Delivered {
  id: string;
  type: string;
  data: Record<string, any>;
  raw: string;
  headers: Record<string, string>;
}

/** A receiver on loopback: keeps what it verified, answers what `answer` says. */
function startReceiver() {
  const got: Delivered[] = [];
  const rejected: string[] = [];
  let secret = '';
  let answer: () => number = () => 204;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const headers = request.headers as Record<string, string>;
      const status = answer();
      // 0: a receiver that never answers (the sender gives up after 10 s).
      if (status === 0) return;
      try {
        const payload = new Webhook(secret).verify(raw, headers) as { type: string; data: Record<string, any> };
        if (status >= 200 && status < 300) got.push({ id: headers['webhook-id']!, type: payload.type, data: payload.data, raw, headers });
      } catch (error) {
        rejected.push(String(error));
      }
      response.statusCode = status;
      response.end();
    });
  });
  return {
    got,
    rejected,
    answer: (fn: () => number) => void (answer = fn),
    useSecret: (s: string) => void (secret = s),
    start: () => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`))),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type Receiver = ReturnType<typeof startReceiver>;
const receivers: Receiver[] = [];

beforeAll(async () => {
  process.env.WEBHOOK_RETRY_BASE_SECONDS = '1';
  stack = await startIsolatedStack('webhooks-stack', { holdSeconds: HOLD_SECONDS, waitlistOfferSeconds: HOLD_SECONDS, likeAws: UNDER_THE_MODEL });
  client = stackClient(stack);
}, STACK_START_TIMEOUT);

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.stop()));
  await stack?.stop();
});

/** A receiver subscribed to `events` (all when left out); the subscription as created. */
async function subscribed(events?: string[]) {
  const receiver = startReceiver();
  receivers.push(receiver);
  const url = await receiver.start();
  const response = await client.api('POST', '/webhooks', { key: client.adminKey, json: { url, ...(events ? { events } : {}) } });
  expect(response.status).toBe(201);
  receiver.useSecret(response.body.secret);
  return { receiver, subscription: response.body as { id: string; url: string; events: string[]; secret: string; created_at: string } };
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, deadline = DEADLINE_MS): Promise<T> {
  const ends = Date.now() + deadline;
  for (;;) {
    const found = await probe();
    if (found !== undefined && found !== false) return found;
    if (Date.now() > ends) throw new Error(`not within ${deadline} ms: ${what}`);
    await sleep(200);
  }
}

const deliveriesOf = async (id: string) => (await client.api('GET', `/webhooks/${id}/deliveries?limit=100`, { key: client.adminKey })).body.items as any[];

describe('subscriptions', () => {
  it('are the admin\'s: 201 with the secret once, listed without it, deleted with 204', async () => {
    const url = 'http://127.0.0.1:9/never';
    const created = await client.api('POST', '/webhooks', { key: client.adminKey, json: { url, events: ['booking.created', 'booking.expired'] } });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/webhooks/${created.body.id}`);
    expect(created.body).toMatchObject({ url, events: ['booking.created', 'booking.expired'], secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/) });

    const listed = await client.api('GET', '/webhooks?limit=100', { key: client.adminKey });
    const mine = listed.body.items.find((s: any) => s.id === created.body.id);
    expect(mine).toEqual({ id: created.body.id, url, events: ['booking.created', 'booking.expired'], created_at: created.body.created_at });
    expect(JSON.stringify(listed.body)).not.toContain(created.body.secret);

    const all = await client.api('POST', '/webhooks', { key: client.adminKey, json: { url } });
    expect(all.body.events).toEqual(['booking.created', 'booking.confirmed', 'booking.cancelled', 'booking.expired', 'waitlist.offered']);

    expect((await client.api('DELETE', `/webhooks/${created.body.id}`, { key: client.adminKey })).status).toBe(204);
    expectProblem(await client.api('DELETE', `/webhooks/${created.body.id}`, { key: client.adminKey }), 404, 'webhook-not-found');
    expectProblem(await client.api('GET', `/webhooks/${created.body.id}/deliveries`, { key: client.adminKey }), 404, 'webhook-not-found');
    await client.api('DELETE', `/webhooks/${all.body.id}`, { key: client.adminKey });
  });

  it('validate url and events (422), and are for the admin only (401, 403)', async () => {
    const post = (json: unknown, key: string | undefined = client.adminKey) => client.api('POST', '/webhooks', { key, json });
    expectFieldProblem(await post({ url: 'ftp://example.com/x' }), 'url');
    expectFieldProblem(await post({ url: 'not a url' }), 'url');
    expectFieldProblem(await post({ url: 'https://user:pw@example.com/x' }), 'url');
    expectFieldProblem(await post({ url: 'https://example.com/x', events: ['booking.shipped'] }), 'events.0');
    expectFieldProblem(await post({ url: 'https://example.com/x', events: [] }), 'events');
    expectFieldProblem(await post({ url: 'https://example.com/x', secret: 'mine' }), 'secret');
    const user = await client.createUser();
    expectProblem(await post({ url: 'https://example.com/x' }, user.key), 403, 'forbidden');
    expectProblem(await client.api('POST', '/webhooks', { json: { url: 'https://example.com/x' } }), 401, 'unauthenticated');
    // Nothing was subscribed by any of these.
    const listed = await client.api('GET', '/webhooks?limit=100', { key: client.adminKey });
    expect(listed.body.items.filter((s: { url: string }) => s.url.includes('example.com'))).toEqual([]);
    expectProblem(await client.api('GET', '/webhooks', { key: user.key }), 403, 'forbidden');
  });
});

describe('deliveries', () => {
  it('tell of every type, signed so that the Standard Webhooks verifier accepts them', async () => {
    const { receiver, subscription } = await subscribed();
    const event = await client.createEvent({ total_tickets: 2, max_per_booking: 2 });
    const [a, b, c] = [await client.createUser(), await client.createUser(), await client.createUser()];

    const paid = await client.createBooking(a.key, event.id, 1);
    expect((await client.postPayment(a.key, paid.id, { payment_token: 'tok_ok' })).status).toBe(200);
    const cancelled = await client.createBooking(b.key, event.id, 1);
    expect((await client.api('POST', `/bookings/${cancelled.id}/cancel`, { key: b.key })).status).toBe(200);
    const expiring = await client.createBooking(c.key, event.id, 1);
    // Sold out while c's hold runs: b waits for the ticket c will not pay for.
    const entry = await client.api('POST', `/events/${event.id}/waitlist`, { key: b.key, json: { quantity: 1 } });
    expect(entry.status).toBe(201);

    const types = (d: Delivered[]) => d.map((x) => `${x.type}:${x.data.id}`);
    await until('every type delivered', () =>
      ['booking.created', 'booking.confirmed', 'booking.cancelled', 'booking.expired', 'waitlist.offered'].every((t) => receiver.got.some((d) => d.type === t)) || undefined,
      DEADLINE_MS + HOLD_SECONDS * 1000,
    );
    expect(types(receiver.got)).toEqual(
      expect.arrayContaining([
        `booking.created:${paid.id}`,
        `booking.confirmed:${paid.id}`,
        `booking.created:${cancelled.id}`,
        `booking.cancelled:${cancelled.id}`,
        `booking.created:${expiring.id}`,
        `booking.expired:${expiring.id}`,
        `waitlist.offered:${entry.body.id}`,
      ]),
    );
    expect(receiver.rejected).toEqual([]);
    const confirmed = receiver.got.find((d) => d.type === 'booking.confirmed')!;
    // The booking as the API shows it, nothing more.
    expect(confirmed.data).toEqual(await client.getBooking(a.key, paid.id));
    expect(receiver.got.find((d) => d.type === 'booking.expired')!.data).toMatchObject({ status: 'CANCELLED', cancel_reason: 'PAYMENT_TIMEOUT' });
    expect(receiver.got.find((d) => d.type === 'waitlist.offered')!.data).toMatchObject({ id: entry.body.id, status: 'OFFERED', booking_id: expect.any(String) });
    expect(Number(confirmed.headers['webhook-timestamp'])).toBeGreaterThan(Date.now() / 1000 - 120);

    const log = await deliveriesOf(subscription.id);
    expect(log.length).toBeGreaterThanOrEqual(7);
    expect(log.every((d) => ['DELIVERED', 'PENDING'].includes(d.status))).toBe(true);
    expect(log.filter((d) => d.status === 'DELIVERED')[0]).toMatchObject({ attempts: 1, last_status_code: 204, delivered_at: expect.any(String) });
    await client.api('DELETE', `/webhooks/${subscription.id}`, { key: client.adminKey });
  }, 90_000);

  it('to a receiver that fails are tried again, with the same webhook-id, until it recovers', async () => {
    const { receiver, subscription } = await subscribed(['booking.created']);
    let calls = 0;
    receiver.answer(() => (++calls <= 2 ? 503 : 200));
    const event = await client.createEvent({ total_tickets: 5 });
    const user = await client.createUser();
    const booking = await client.createBooking(user.key, event.id, 1);

    const delivered = await until('delivered after two failures', () => receiver.got.find((d) => d.data.id === booking.id), DEADLINE_MS + 10_000);
    expect(calls).toBe(3);
    const [logged] = await deliveriesOf(subscription.id);
    expect(logged).toMatchObject({ id: delivered.id, type: 'booking.created', status: 'DELIVERED', attempts: 3, last_status_code: 200 });
    await client.api('DELETE', `/webhooks/${subscription.id}`, { key: client.adminKey });
  }, 60_000);

  it('go only to the subscriptions that want the type, and to none once deleted', async () => {
    const onlyPaid = await subscribed(['booking.confirmed']);
    const deleted = await subscribed();
    await client.api('DELETE', `/webhooks/${deleted.subscription.id}`, { key: client.adminKey });
    const event = await client.createEvent({ total_tickets: 5 });
    const user = await client.createUser();
    const booking = await client.createBooking(user.key, event.id, 1);
    await client.postPayment(user.key, booking.id, { payment_token: 'tok_ok' });

    await until('the confirmation delivered', () => onlyPaid.receiver.got.find((d) => d.type === 'booking.confirmed' && d.data.id === booking.id));
    await sleep(3000);
    expect(onlyPaid.receiver.got.map((d) => d.type)).toEqual(['booking.confirmed']);
    expect(deleted.receiver.got).toEqual([]);
    await client.api('DELETE', `/webhooks/${onlyPaid.subscription.id}`, { key: client.adminKey });
  }, 60_000);

  it('to a receiver that never answers do not hold up another receiver', async () => {
    const dead = await subscribed(['booking.created']);
    dead.receiver.answer(() => 0);
    const alive = await subscribed(['booking.created']);
    const event = await client.createEvent({ total_tickets: 30 });
    const user = await client.createUser();
    const started = Date.now();
    const made = await inParallel(Array.from({ length: 20 }, (_, i) => i), 10, () => client.createBooking(user.key, event.id, 1));

    await until('the live receiver served', () => (made.every((b: { id: string }) => alive.receiver.got.some((d) => d.data.id === b.id)) ? true : undefined));
    // Served while the dead receiver's first attempts were still waiting out their 10 s.
    expect(Date.now() - started).toBeLessThan(DEADLINE_MS);
    expect(dead.receiver.got).toEqual([]);
    await client.api('DELETE', `/webhooks/${dead.subscription.id}`, { key: client.adminKey });
    await client.api('DELETE', `/webhooks/${alive.subscription.id}`, { key: client.adminKey });
  }, 60_000);

  const BURST = 1000;
  it(`of a burst of ${BURST} bookings arrive once each`, async () => {
    const { receiver, subscription } = await subscribed(['booking.created']);
    const event = await client.createEvent({ total_tickets: BURST, max_per_booking: 1 });
    const users = await Promise.all(Array.from({ length: 10 }, () => client.createUser()));
    const made = await inParallel(Array.from({ length: BURST }, (_, i) => i), ONE_EVENT_CONCURRENCY, (i) => client.createBooking(users[i % users.length]!.key, event.id, 1));

    await until(`${BURST} deliveries`, () => (new Set(receiver.got.map((d) => d.data.id)).size >= BURST ? true : undefined), 120_000);
    await sleep(3000);
    const ids = receiver.got.map((d) => d.id);
    expect(new Set(ids).size).toBe(BURST);
    expect(ids).toHaveLength(BURST);
    expect(new Set(receiver.got.map((d) => d.data.id))).toEqual(new Set(made.map((b: { id: string }) => b.id)));
    await client.api('DELETE', `/webhooks/${subscription.id}`, { key: client.adminKey });
  }, 300_000);
});

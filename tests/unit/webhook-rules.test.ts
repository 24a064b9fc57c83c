import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { httpWebhookSender, isForbiddenAddress } from '../../lib/adapters/webhook-sender';
import { newWebhookSecret, signatureHeaders } from '../../lib/adapters/webhook-signature';
import type { Booking } from '../../lib/domain/booking';
import { ValidationError } from '../../lib/domain/errors';
import type { WaitlistEntry } from '../../lib/domain/waitlist';
import { CreateWebhookBody, happeningOf, nextAttemptAt, webhookPayload } from '../../lib/domain/webhooks';
import { toProblemResponse } from '../../lib/http/problem';
import { bookingIndexKeys, keys, waitlistIndexKeys } from '../../lib/store/keys';

/** A fixed secret: 32 bytes, 0x00 to 0x1f. */
const SECRET = `whsec_${Buffer.from(Array.from({ length: 32 }, (_, i) => i)).toString('base64')}`;
/** A whole second of now (the verifier allows five minutes either side), plus 750 ms that the header drops. */
const signedAt = () => new Date(Math.floor(Date.now() / 1000) * 1000 + 750);

/** What `run` rejects with; fails the test when it resolves. */
async function rejectionOf(run: () => Promise<unknown>): Promise<unknown> {
  let thrown: unknown;
  try {
    await run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeDefined();
  return thrown;
}

/** What `run` throws; fails the test when it throws nothing. */
function thrownBy(run: () => unknown): unknown {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeDefined();
  return thrown;
}

describe('signing a delivery per Standard Webhooks', () => {
  const id = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';
  const body = JSON.stringify({ type: 'booking.created', timestamp: '2026-06-01T12:00:00.000Z', data: { id: 'b1', name: 'Café ☕' } });

  it('makes headers that the standardwebhooks verifier accepts', () => {
    const headers = signatureHeaders(SECRET, id, signedAt(), body);
    expect(new Webhook(SECRET).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('names the delivery and its time in whole Unix seconds', () => {
    const at = signedAt();
    const headers = signatureHeaders(SECRET, id, at, body);
    expect(Object.keys(headers).sort()).toEqual(['webhook-id', 'webhook-signature', 'webhook-timestamp']);
    expect(headers['webhook-id']).toBe(id);
    expect(headers['webhook-timestamp']).toBe(String((at.getTime() - 750) / 1000));
  });

  it('signs v1 and base64 HMAC-SHA256 of id.timestamp.body keyed with the decoded secret', () => {
    const at = signedAt();
    const timestamp = (at.getTime() - 750) / 1000;
    const key = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
    expect(key).toHaveLength(32);
    const expected = `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`, 'utf8').digest('base64')}`;
    expect(signatureHeaders(SECRET, id, at, body)['webhook-signature']).toBe(expected);
  });

  it('is refused by the verifier when the body is altered', () => {
    const headers = signatureHeaders(SECRET, id, signedAt(), body);
    const altered = body.replace('"b1"', '"b2"');
    expect(altered).not.toBe(body);
    expect(thrownBy(() => new Webhook(SECRET).verify(altered, headers))).toBeInstanceOf(WebhookVerificationError);
  });

  it('is refused by the verifier when the id is altered', () => {
    const headers = signatureHeaders(SECRET, id, signedAt(), body);
    const forged = { ...headers, 'webhook-id': `${id}x` };
    expect(thrownBy(() => new Webhook(SECRET).verify(body, forged))).toBeInstanceOf(WebhookVerificationError);
  });

  it('is refused by the verifier when the timestamp is altered by one second', () => {
    const headers = signatureHeaders(SECRET, id, signedAt(), body);
    const forged = { ...headers, 'webhook-timestamp': String(Number(headers['webhook-timestamp']) + 1) };
    expect(thrownBy(() => new Webhook(SECRET).verify(body, forged))).toBeInstanceOf(WebhookVerificationError);
  });

  it('is refused by the verifier holding another secret', () => {
    const headers = signatureHeaders(SECRET, id, signedAt(), body);
    expect(thrownBy(() => new Webhook(newWebhookSecret()).verify(body, headers))).toBeInstanceOf(WebhookVerificationError);
  });

  it('makes secrets of whsec_ and 32 random bytes in base64, a new one each time', () => {
    const first = newWebhookSecret();
    const second = newWebhookSecret();
    expect(first).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(first.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(second).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(second).not.toBe(first);
  });
});

describe('when a failed delivery is tried again', () => {
  const created = new Date('2026-06-01T12:00:00.000Z');
  const createdAt = created.toISOString();
  const day = { baseSeconds: 5, retryForSeconds: 86_400 };
  const after = (seconds: number) => new Date(created.getTime() + seconds * 1000);
  /** Seconds from `now` to the next attempt, with the jitter fixed at `random`. */
  const waitAfter = (attempts: number, random: number, options: Parameters<typeof nextAttemptAt>[2] = day, now = created) => {
    const next = nextAttemptAt({ created_at: createdAt, attempts }, now, options, () => random);
    expect(next).toBeDefined();
    return (next!.getTime() - now.getTime()) / 1000;
  };

  it('waits baseSeconds after the first failure and doubles per attempt', () => {
    expect([1, 2, 3, 4, 5].map((attempts) => waitAfter(attempts, 1))).toEqual([5, 10, 20, 40, 80]);
  });

  it('waits at most an hour by default', () => {
    expect(waitAfter(10, 1)).toBe(2560);
    expect(waitAfter(11, 1)).toBe(3600);
    expect(waitAfter(60, 1)).toBe(3600);
  });

  it('waits at most maxDelaySeconds when given', () => {
    expect(waitAfter(4, 1, { ...day, maxDelaySeconds: 30 })).toBe(30);
    expect(waitAfter(3, 1, { ...day, maxDelaySeconds: 30 })).toBe(20);
  });

  it('jitters over the upper half of the delay: half at random 0, three quarters at 0.5', () => {
    expect(waitAfter(1, 0)).toBe(2.5);
    expect(waitAfter(3, 0.5)).toBe(15);
    expect(waitAfter(11, 0)).toBe(1800);
  });

  it('keeps every jittered wait within [delay/2, delay]', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempts, random) => {
        const delay = Math.min(3600, 5 * 2 ** (attempts - 1));
        const wait = waitAfter(attempts, random);
        // Dates keep milliseconds: the wait is the jittered delay to the millisecond below.
        return wait >= delay / 2 - 0.001 && wait <= delay;
      }),
    );
  });

  it('puts the last attempt at created_at + retryForSeconds rather than beyond it', () => {
    const now = after(86_400 - 100);
    expect(nextAttemptAt({ created_at: createdAt, attempts: 20 }, now, day, () => 1)).toEqual(after(86_400));
  });

  it('gives up once the retry period is over', () => {
    expect(nextAttemptAt({ created_at: createdAt, attempts: 34 }, after(86_400), day, () => 1)).toBeUndefined();
    expect(nextAttemptAt({ created_at: createdAt, attempts: 34 }, after(90_000), day, () => 1)).toBeUndefined();
  });

  /** The times of every attempt, in seconds after the delivery was made, when every attempt fails. */
  function schedule(random: number, options = day): number[] {
    const times = [0];
    let now = created;
    for (let attempts = 1; attempts < 1000; attempts++) {
      const next = nextAttemptAt({ created_at: createdAt, attempts }, now, options, () => random);
      if (!next) return times;
      now = next;
      times.push((now.getTime() - created.getTime()) / 1000);
    }
    throw new Error('the schedule never ended');
  }

  it('with the longest waits, still tries at 23 hours and last at 24 hours, 34 attempts in all', () => {
    const times = schedule(1);
    // 1 at once, 10 doubling from 5 s (5115 s in all), 22 an hour apart, the last at the deadline.
    expect(times).toHaveLength(34);
    expect(times.slice(0, 12)).toEqual([0, 5, 15, 35, 75, 155, 315, 635, 1275, 2555, 5115, 8715]);
    expect(times.at(-2)).toBe(5115 + 22 * 3600);
    expect(times.at(-1)).toBe(86_400);
    expect(times.filter((t) => t >= 23 * 3600)).toEqual([84_315, 86_400]);
    expect(Math.max(...times.slice(1).map((t, i) => t - times[i]!))).toBe(3600);
  });

  it('with the shortest waits, tries every half hour to the end, 58 attempts in all', () => {
    const times = schedule(0);
    // 1 at once, 10 doubling from 2.5 s (2557.5 s), 46 half an hour apart, the last at the deadline.
    expect(times).toHaveLength(58);
    expect(times.at(-2)).toBe(2557.5 + 46 * 1800);
    expect(times.at(-1)).toBe(86_400);
  });
});

describe('what change of the table makes a webhook', () => {
  const booking: Booking = {
    id: 'b1',
    event_id: 'e1',
    user_id: 'u1',
    quantity: 2,
    unit_price_cents: 1250,
    amount_cents: 2500,
    status: 'PENDING',
    created_at: '2026-06-01T12:00:00.000Z',
    expires_at: '2026-06-01T12:15:00.000Z',
    confirmed_at: null,
    cancelled_at: null,
    cancel_reason: null,
  };
  /** A booking as the stream's image carries it: keys, index keys, bookkeeping and all. */
  const bookingImage = (fields: Partial<Booking> = {}): Record<string, unknown> => {
    const b = { ...booking, stock_shard: 3, change_id: 'req-42', ...fields };
    return { ...keys.booking(b.id), type: 'booking', ...bookingIndexKeys(b), ...b };
  };
  const confirmed: Partial<Booking> = { status: 'CONFIRMED', confirmed_at: '2026-06-01T12:05:00.000Z', payment_id: 'pay_1' };
  const cancelled = (reason: Booking['cancel_reason']): Partial<Booking> => ({
    status: 'CANCELLED',
    cancelled_at: '2026-06-01T12:15:00.000Z',
    cancel_reason: reason,
  });

  const entry: WaitlistEntry = {
    id: 'w1',
    event_id: 'e1',
    user_id: 'u2',
    quantity: 1,
    status: 'WAITING',
    seq: 7,
    booking_id: null,
    offer_expires_at: null,
    created_at: '2026-06-01T11:00:00.000Z',
    updated_at: '2026-06-01T11:00:00.000Z',
  };
  const entryImage = (fields: Partial<WaitlistEntry> = {}): Record<string, unknown> => {
    const e = { ...entry, change_id: 'req-43', ...fields };
    return { ...keys.waitlistEntry(e.id), type: 'waitlist', ...waitlistIndexKeys(e), ...e };
  };
  const offered: Partial<WaitlistEntry> = {
    status: 'OFFERED',
    booking_id: 'b9',
    offer_expires_at: '2026-06-01T12:15:00.000Z',
    updated_at: '2026-06-01T12:00:00.000Z',
  };

  const typeOf = (old: Record<string, unknown> | undefined, after: Record<string, unknown> | undefined) => happeningOf({ old, new: after })?.type;

  it('a booking inserted PENDING is booking.created', () => {
    expect(typeOf(undefined, bookingImage())).toBe('booking.created');
  });

  it('a booking going from PENDING to CONFIRMED is booking.confirmed', () => {
    expect(typeOf(bookingImage(), bookingImage(confirmed))).toBe('booking.confirmed');
  });

  it('a booking cancelled by its user or the admin is booking.cancelled, whether PENDING or CONFIRMED', () => {
    expect(typeOf(bookingImage(), bookingImage(cancelled('USER_CANCELLED')))).toBe('booking.cancelled');
    expect(typeOf(bookingImage(confirmed), bookingImage({ ...confirmed, ...cancelled('USER_CANCELLED') }))).toBe('booking.cancelled');
  });

  it('a booking cancelled because its hold ran out unpaid is booking.expired', () => {
    expect(typeOf(bookingImage(), bookingImage(cancelled('PAYMENT_TIMEOUT')))).toBe('booking.expired');
  });

  it('a booking written again with the same status makes no webhook', () => {
    expect(happeningOf({ old: bookingImage(), new: bookingImage({ change_id: 'req-99' }) })).toBeUndefined();
    expect(happeningOf({ old: bookingImage(confirmed), new: bookingImage(confirmed) })).toBeUndefined();
    const gone = bookingImage(cancelled('USER_CANCELLED'));
    expect(happeningOf({ old: gone, new: gone })).toBeUndefined();
  });

  it('a booking removed from the table makes no webhook', () => {
    expect(happeningOf({ old: bookingImage(), new: undefined })).toBeUndefined();
  });

  it('a waiting entry offered tickets is waitlist.offered', () => {
    expect(typeOf(entryImage(), entryImage(offered))).toBe('waitlist.offered');
  });

  it('every other change of an entry makes no webhook', () => {
    expect(happeningOf({ old: undefined, new: entryImage() })).toBeUndefined();
    expect(happeningOf({ old: entryImage(offered), new: entryImage({ ...offered, change_id: 'req-99' }) })).toBeUndefined();
    expect(happeningOf({ old: entryImage(offered), new: entryImage({ ...offered, status: 'ACCEPTED' }) })).toBeUndefined();
    expect(happeningOf({ old: entryImage(offered), new: entryImage({ ...offered, status: 'EXPIRED' }) })).toBeUndefined();
    expect(happeningOf({ old: entryImage(), new: entryImage({ status: 'LEFT' }) })).toBeUndefined();
  });

  it('items that are neither bookings nor entries make no webhook', () => {
    for (const type of ['event', 'stock', 'tally', 'webhook', 'delivery', 'user']) {
      expect(happeningOf({ old: undefined, new: { pk: `X#1`, sk: 'X', type, status: 'PENDING', id: '1' } })).toBeUndefined();
    }
  });

  it("carries the booking as the API shows it, without the table's keys or bookkeeping", () => {
    const happening = happeningOf({ old: bookingImage(), new: bookingImage({ ...confirmed, waitlist_entry_id: 'w1' }) });
    expect(happening?.data).toEqual({
      id: 'b1',
      event_id: 'e1',
      user_id: 'u1',
      quantity: 2,
      unit_price: 12.5,
      amount: 25,
      status: 'CONFIRMED',
      created_at: '2026-06-01T12:00:00.000Z',
      expires_at: '2026-06-01T12:15:00.000Z',
      confirmed_at: '2026-06-01T12:05:00.000Z',
      cancelled_at: null,
      cancel_reason: null,
      payment_id: 'pay_1',
    });
  });

  it('carries the entry as the API shows it, without its place in line or keys', () => {
    const happening = happeningOf({ old: entryImage(), new: entryImage(offered) });
    expect(happening?.data).toEqual({
      id: 'w1',
      event_id: 'e1',
      user_id: 'u2',
      quantity: 1,
      status: 'OFFERED',
      position: null,
      booking_id: 'b9',
      offer_expires_at: '2026-06-01T12:15:00.000Z',
      created_at: '2026-06-01T11:00:00.000Z',
      updated_at: '2026-06-01T12:00:00.000Z',
    });
  });

  it('makes the body type, timestamp and data, in that order', () => {
    const body = webhookPayload({ type: 'booking.created', data: { id: 'b1', status: 'PENDING' } }, new Date('2026-06-01T12:00:01.500Z'));
    expect(body).toBe('{"type":"booking.created","timestamp":"2026-06-01T12:00:01.500Z","data":{"id":"b1","status":"PENDING"}}');
  });
});

describe('the addresses a deployed stage refuses to send to', () => {
  it.each([
    '127.0.0.1',
    '127.255.255.254',
    '10.0.0.1',
    '10.255.255.255',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '100.127.255.255',
    '0.0.0.0',
    '::',
    '::1',
    'fe80::1',
    'fc00::1',
    'fd12:3456::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '::ffff:169.254.169.254',
    '::ffff:7f00:1',
  ])('refuses %s', (address) => {
    expect(isForbiddenAddress(address)).toBe(true);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.15.255.255', '172.32.0.1', '100.63.255.255', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    'allows %s',
    (address) => {
      expect(isForbiddenAddress(address)).toBe(false);
    },
  );

  it.each(['', 'localhost', 'example.com', '999.1.1.1', '10.0.0', 'not an address'])('refuses what is not an address: %j', (address) => {
    expect(isForbiddenAddress(address)).toBe(true);
  });
});

describe('checking a URL when it is subscribed', () => {
  const sender = httpWebhookSender({ allowPrivate: false });

  it.each([
    'http://127.0.0.1/x',
    'http://localhost/x',
    'http://[::1]/',
    'http://169.254.169.254/latest/meta-data',
    'http://[::ffff:127.0.0.1]/',
    'http://2130706433/',
    'http://0x7f.1/',
    'https://10.1.2.3:8443/hooks',
  ])('refuses %s with a 422 on url', async (url) => {
    const error = await rejectionOf(() => sender.assertReachable(url));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).fieldProblems).toEqual([{ path: 'url', message: 'must not point at a private, loopback or link-local address' }]);
    expect(toProblemResponse(error, 'req-1').statusCode).toBe(422);
  });

  it('accepts a public address', async () => {
    await expect(sender.assertReachable('https://8.8.8.8/hooks')).resolves.toBeUndefined();
  });

  it('accepts loopback on the local stack', async () => {
    await expect(httpWebhookSender({ allowPrivate: true }).assertReachable('http://localhost:4000/x')).resolves.toBeUndefined();
  });
});

describe('sending a delivery', () => {
  interface Received {
    method: string | undefined;
    url: string | undefined;
    headers: IncomingHttpHeaders;
    body: string;
  }
  let server: Server;
  let port: number;
  let connections: number;
  let received: Received[];
  /** What the receiver does with a request: answer with a status, never answer, or send a 200 and never finish. */
  let answer: number | 'never' | 'partial';

  beforeEach(async () => {
    connections = 0;
    received = [];
    answer = 200;
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ method: request.method, url: request.url, headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
        if (answer === 'partial') response.writeHead(200).write('partial');
        else if (answer !== 'never') response.writeHead(answer, { location: 'http://169.254.169.254/latest/meta-data' }).end('answer body');
      });
    });
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const body = '{"type":"booking.created","timestamp":"2026-06-01T12:00:00.000Z","data":{"id":"b1"}}';
  const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': '1780315200', 'webhook-signature': 'v1,c2lnbmF0dXJl' };
  const local = () => httpWebhookSender({ allowPrivate: true });

  it('POSTs the body with its signature headers and reports the status', async () => {
    await expect(local().send({ url: `http://127.0.0.1:${port}/hooks?x=1`, body, headers, timeoutMs: 2000 })).resolves.toEqual({ status_code: 200 });
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ method: 'POST', url: '/hooks?x=1', body });
    expect(received[0]!.headers).toMatchObject({ ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
  });

  it("reports the receiver's error status", async () => {
    answer = 500;
    await expect(local().send({ url: `http://127.0.0.1:${port}/`, body, headers, timeoutMs: 2000 })).resolves.toEqual({ status_code: 500 });
    expect(received).toHaveLength(1);
  });

  it('reports a redirect as its status and does not follow it', async () => {
    answer = 302;
    await expect(local().send({ url: `http://127.0.0.1:${port}/`, body, headers, timeoutMs: 2000 })).resolves.toEqual({ status_code: 302 });
    expect(received).toHaveLength(1);
  });

  it('gives up on a receiver that never answers after timeoutMs, with no status', async () => {
    answer = 'never';
    const started = Date.now();
    const attempt = await local().send({ url: `http://127.0.0.1:${port}/`, body, headers, timeoutMs: 300 });
    const took = Date.now() - started;
    expect(attempt).toEqual({ status_code: null, error: expect.any(String) });
    expect(received).toHaveLength(1);
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(2000);
  });

  it('gives up on a receiver that sends its status but never finishes its answer, with no status', async () => {
    answer = 'partial';
    const started = Date.now();
    const attempt = await local().send({ url: `http://127.0.0.1:${port}/`, body, headers, timeoutMs: 300 });
    expect(attempt).toEqual({ status_code: null, error: expect.any(String) });
    expect(received).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('on a deployed stage, refuses a loopback receiver without connecting to it', async () => {
    const deployed = httpWebhookSender({ allowPrivate: false });
    const byAddress = await deployed.send({ url: `http://127.0.0.1:${port}/`, body, headers, timeoutMs: 2000 });
    const byName = await deployed.send({ url: `http://localhost:${port}/`, body, headers, timeoutMs: 2000 });
    // The same receiver, reached where allowed: it counts connections.
    await expect(local().send({ url: `http://127.0.0.1:${port}/`, body, headers, timeoutMs: 2000 })).resolves.toEqual({ status_code: 200 });

    expect(byAddress).toEqual({ status_code: null, error: 'refused: a private, loopback or link-local address' });
    expect(byName).toEqual({ status_code: null, error: 'localhost resolves to an address webhooks may not reach' });
    expect(received).toHaveLength(1);
    expect(connections).toBe(1);
  });
});

describe('the body of POST /webhooks', () => {
  const parse = (body: unknown) => CreateWebhookBody.safeParse(body);
  const pathsOf = (body: unknown) => {
    const result = parse(body);
    expect(result.success).toBe(false);
    return result.error!.issues.map((issue) => issue.path.join('.'));
  };

  it('takes an https URL alone: every type is then delivered', () => {
    expect(parse({ url: 'https://example.com/hooks' })).toEqual({ success: true, data: { url: 'https://example.com/hooks' } });
  });

  it('takes an http URL and a subset of the types', () => {
    const body = { url: 'http://example.com:8080/hooks', events: ['booking.confirmed', 'waitlist.offered'] };
    expect(parse(body)).toEqual({ success: true, data: body });
  });

  it('takes all five types', () => {
    const events = ['booking.created', 'booking.confirmed', 'booking.cancelled', 'booking.expired', 'waitlist.offered'];
    expect(parse({ url: 'https://example.com/', events }).success).toBe(true);
  });

  it.each(['ftp://example.com/hooks', 'ws://example.com/hooks', 'javascript:alert(1)', 'mailto:ops@example.com', 'file:///etc/passwd', 'http://', 'example.com/hooks', ''])(
    'refuses the URL %j',
    (url) => {
      expect(pathsOf({ url })).toEqual(['url']);
    },
  );

  it.each(['https://user:secret@example.com/hooks', 'https://user@example.com/hooks', 'https://:secret@example.com/hooks'])(
    'refuses credentials in the URL: %s',
    (url) => {
      expect(pathsOf({ url })).toEqual(['url']);
    },
  );

  it('refuses a type that does not exist', () => {
    expect(pathsOf({ url: 'https://example.com/', events: ['booking.created', 'booking.refunded'] })).toEqual(['events.1']);
  });

  it('refuses a type named twice', () => {
    expect(pathsOf({ url: 'https://example.com/', events: ['booking.created', 'booking.created'] })).toEqual(['events']);
  });

  it('refuses an empty list of types', () => {
    expect(pathsOf({ url: 'https://example.com/', events: [] })).toEqual(['events']);
  });

  it('refuses fields it does not know, a secret of its own among them', () => {
    const result = parse({ url: 'https://example.com/', secret: 'whsec_AAAA' });
    expect(result.success).toBe(false);
    expect(result.error!.issues).toEqual([expect.objectContaining({ code: 'unrecognized_keys', keys: ['secret'] })]);
  });

  it('refuses a missing URL', () => {
    expect(pathsOf({ events: ['booking.created'] })).toEqual(['url']);
  });
});

import { startIsolatedStack, type IsolatedStack } from '../../localstack/isolated-stack';
import { inBatches } from '../support/batches';
import { notA4xxProblem } from '../support/expectations';
import { emailOfLength, uniqueEmail } from '../support/fixtures';
import { describeResponse, loopbackUrl, okBody, type RawResponse, send, sendJson } from '../support/raw-http';
import { snapshotDiff, tableReader } from '../support/table-snapshot';
import { STACK_START_TIMEOUT } from '../support/time';
import { UNDER_THE_MODEL } from '../support/under-the-model';

/**
 * The limits, at their edges: the 64 KiB body (in bytes, not characters), the
 * per-booking and per-user caps (the latter under 30 concurrent requests of one
 * user), the page size of lists, the Idempotency-Key length, and the bounds of
 * every writable field. On one side of each edge the request works; on the other
 * it is refused with the right problem and changes nothing.
 */

const MAX_BODY_BYTES = 64 * 1024;

let stack: IsolatedStack;
let base: string;
let table: ReturnType<typeof tableReader>;
let admin: string;
let user: { id: string; key: string };
let event: any;

const call = (method: string, path: string, options: { key?: string; json?: unknown; headers?: Record<string, string> } = {}) => sendJson(base, method, path, options);

async function newUser(name = 'Limits'): Promise<{ id: string; key: string }> {
  const body = await okBody(call('POST', '/users', { json: { name, email: uniqueEmail('limits') } }), 201, 'POST /users');
  return { id: body.id, key: body.api_key };
}

const newEvent = (fields: Record<string, unknown> = {}) =>
  okBody(call('POST', '/events', { key: admin, json: { name: 'Limits', date_time: '2027-08-01T20:00:00Z', total_tickets: 100, ticket_price: 3, ...fields } }), 201, 'POST /events');

/** A refusal: the status and problem code, the field its errors name (when given), and not one item of the table changed. */
async function expectRefused(request: () => Promise<RawResponse>, status: number, code: string, field?: string): Promise<RawResponse> {
  const before = await table.snapshot();
  const response = await request();
  const changes = snapshotDiff(before, await table.snapshot());
  const named: string[] = (response.body?.errors ?? []).map((error: { path: string }) => error.path);
  expect({
    status: response.status,
    problem: notA4xxProblem(response) ?? 'ok',
    type: response.body?.type,
    changes,
    field: field === undefined || named.includes(field) ? field : named,
  }).toEqual({
    status,
    problem: 'ok',
    type: expect.stringMatching(new RegExp(`/problems/${code}$`)),
    changes: [],
    field,
  });
  return response;
}

/** A JSON object body of exactly `bytes` bytes: `fields` plus a string field `pad` filled with `filler`. */
function bodyOfBytes(bytes: number, fields: Record<string, unknown>, filler = 'x'): string {
  const skeleton = JSON.stringify({ ...fields, pad: '' });
  let room = bytes - Buffer.byteLength(skeleton);
  const unit = Buffer.byteLength(filler);
  const pad = filler.repeat(Math.floor(room / unit)) + 'x'.repeat(room % unit);
  room -= Buffer.byteLength(pad);
  const body = JSON.stringify({ ...fields, pad });
  if (Buffer.byteLength(body) !== bytes || room !== 0) throw new Error(`bodyOfBytes: built ${Buffer.byteLength(body)} bytes, not ${bytes}`);
  return body;
}

beforeAll(async () => {
  stack = await startIsolatedStack('chaos-limits-stack', { likeAws: UNDER_THE_MODEL });
  base = loopbackUrl(stack);
  table = tableReader(stack);
  admin = stack.adminApiKey;
  user = await newUser();
  event = await newEvent({ max_per_booking: 4 });
}, STACK_START_TIMEOUT);

afterAll(async () => {
  table?.destroy();
  await stack?.stop();
});

describe('the request body limit: 64 KiB', () => {
  const routes = () =>
    [
      ['POST /users', 'POST', '/users', undefined],
      ['POST /events', 'POST', '/events', admin],
      ['PATCH /events/{id}', 'PATCH', `/events/${event.id}`, admin],
      ['POST /bookings', 'POST', '/bookings', user.key],
    ] as const;

  const post = (method: string, path: string, key: string | undefined, body: string) =>
    send(base, { method, path, headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) }, body });

  it('refuses a body one byte over the limit with a 413 problem, and stores nothing', async () => {
    for (const [, method, path, key] of routes()) {
      await expectRefused(() => post(method, path, key, bodyOfBytes(MAX_BODY_BYTES + 1, {})), 413, 'payload-too-large');
    }
  });

  it('reads a body of exactly 64 KiB, and of one byte less, and judges its content: an invalid one is a 422, not a 413', async () => {
    for (const [, method, path, key] of routes()) {
      for (const bytes of [MAX_BODY_BYTES, MAX_BODY_BYTES - 1]) {
        await expectRefused(() => post(method, path, key, bodyOfBytes(bytes, {})), 422, 'validation-failed', 'pad');
      }
    }
  });

  it('counts bytes, not characters: 64 KiB of 4-byte emoji is under the limit, one more is over', async () => {
    // About 16,380 emoji: half as many UTF-16 code units as bytes, and 65,536 bytes.
    await expectRefused(() => post('POST', '/users', undefined, bodyOfBytes(MAX_BODY_BYTES, {}, '😀')), 422, 'validation-failed', 'pad');
    await expectRefused(() => post('POST', '/users', undefined, bodyOfBytes(MAX_BODY_BYTES + 4, {}, '😀')), 413, 'payload-too-large');
    await expectRefused(() => post('POST', '/users', undefined, JSON.stringify({ name: '😀'.repeat(20_000), email: 'emoji@example.org' })), 413, 'payload-too-large');
  });

  it('accepts a valid request of exactly 64 KiB (a 5,000-character description, padded with JSON whitespace)', async () => {
    const json = { name: 'Big', description: 'd'.repeat(5000), date_time: '2027-08-01T20:00:00Z', total_tickets: 1, ticket_price: 1 };
    const text = JSON.stringify(json);
    const body = text.replace('{', '{' + ' '.repeat(MAX_BODY_BYTES - Buffer.byteLength(text)));
    expect(Buffer.byteLength(body)).toBe(MAX_BODY_BYTES);
    expect((await post('POST', '/events', admin, body)).status).toBe(201);
  });
});

describe('the per-booking cap: max_per_booking', () => {
  it('books max_per_booking tickets, and refuses one more with a 422 naming quantity, holding nothing', async () => {
    const own = await newEvent({ total_tickets: 50, max_per_booking: 4 });
    expect((await call('POST', '/bookings', { key: user.key, json: { event_id: own.id, quantity: 4 } })).status).toBe(201);
    await expectRefused(() => call('POST', '/bookings', { key: user.key, json: { event_id: own.id, quantity: 5 } }), 422, 'validation-failed', 'quantity');
    expect((await okBody(call('GET', `/events/${own.id}`), 200, 'GET event')).available_tickets).toBe(46);
  });

  it('refuses a quantity over 100 whatever the event says (422)', async () => {
    const own = await newEvent({ total_tickets: 500, max_per_booking: 100 });
    expect((await call('POST', '/bookings', { key: user.key, json: { event_id: own.id, quantity: 100 } })).status).toBe(201);
    await expectRefused(() => call('POST', '/bookings', { key: user.key, json: { event_id: own.id, quantity: 101 } }), 422, 'validation-failed', 'quantity');
  });
});

describe('the per-user cap: max_per_user, under 30 concurrent requests of one user', () => {
  const CAP = 5;

  async function storm(quantities: number[]) {
    const own = await newEvent({ total_tickets: 200, max_per_booking: 3, max_per_user: CAP });
    const buyer = await newUser('Greedy');
    const responses = await Promise.all(quantities.map((quantity) => call('POST', '/bookings', { key: buyer.key, json: { event_id: own.id, quantity } })));
    const held = responses.filter((r) => r.status === 201).reduce((n, r) => n + r.body.quantity, 0);
    const listed = (await okBody(call('GET', `/bookings?event_id=${own.id}&limit=100`, { key: buyer.key }), 200, 'GET /bookings')).items;
    const stats = await okBody(call('GET', `/events/${own.id}/stats`, { key: admin }), 200, 'GET stats');
    const refusedForCap = responses.filter((r) => r.status === 409 && String(r.body?.type).endsWith('/per-user-limit')).length;
    const unavailable = responses.filter((r) => r.status === 503).length;
    const other = responses.filter((r) => r.status !== 201 && !(r.status === 409 && String(r.body?.type).endsWith('/per-user-limit')) && r.status !== 503);
    return { own, buyer, responses, held, refusedForCap, unavailable, listed, stats, other };
  }

  it('holds at most max_per_user tickets for 30 concurrent requests of 1 ticket, and exactly that many', async () => {
    const { responses, held, refusedForCap, unavailable, listed, stats, other } = await storm(Array.from({ length: 30 }, () => 1));
    expect(other.map(describeResponse)).toEqual([]);
    expect(held).toBeLessThanOrEqual(CAP);
    if (refusedForCap > 0) {
      // Nothing is released, so a refusal for the cap means the cap was reached.
      expect(held).toBe(CAP);
    } else {
      // No refusal for the cap is possible only if every request that booked nothing was a 503 (contention the store gave up on).
      expect(unavailable).toBe(responses.length - held);
    }
    expect(listed.reduce((n: number, b: any) => n + b.quantity, 0)).toBe(held);
    expect(stats).toMatchObject({ tickets_held: held, tickets_available: 200 - held, bookings_pending: listed.length });
  });

  it('holds at most max_per_user tickets for 30 concurrent requests of 1 to 3 tickets', async () => {
    const { held, listed, stats, other } = await storm(Array.from({ length: 30 }, (_, i) => (i % 3) + 1));
    expect(other.map(describeResponse)).toEqual([]);
    expect(held).toBeLessThanOrEqual(CAP);
    expect(listed.reduce((n: number, b: any) => n + b.quantity, 0)).toBe(held);
    expect(stats).toMatchObject({ tickets_held: held, tickets_available: 200 - held });
  });

  it('counts the cap per user: another user may still book up to it', async () => {
    const { own } = await storm(Array.from({ length: 10 }, () => 1));
    const second = await newUser('Second');
    expect((await call('POST', '/bookings', { key: second.key, json: { event_id: own.id, quantity: 3 } })).status).toBe(201);
    expect((await call('POST', '/bookings', { key: second.key, json: { event_id: own.id, quantity: 2 } })).status).toBe(201);
    await expectRefused(() => call('POST', '/bookings', { key: second.key, json: { event_id: own.id, quantity: 1 } }), 409, 'per-user-limit');
  });
});

describe('the page size of lists: limit 1..100', () => {
  let pageUser: { id: string; key: string };

  beforeAll(async () => {
    // More than a page of events and of one user's bookings.
    await inBatches(Array.from({ length: 101 }, (_, i) => i), 10, (i) => newEvent({ name: `Page ${i}`, date_time: `2028-01-01T00:${String(i % 60).padStart(2, '0')}:00Z` }));
    const own = await newEvent({ total_tickets: 200, max_per_booking: 1 });
    pageUser = await newUser('Pages');
    await inBatches(Array.from({ length: 101 }, (_, i) => i), 5, () => okBody(call('POST', '/bookings', { key: pageUser.key, json: { event_id: own.id, quantity: 1 } }), 201, 'POST /bookings'));
  }, 120_000);

  it('answers limit=100 with 100 items and a next_cursor, on events and bookings (as a user and as the admin)', async () => {
    for (const [path, key] of [
      ['/events?limit=100', undefined],
      ['/bookings?limit=100', pageUser.key],
      ['/bookings?limit=100', admin],
    ] as const) {
      const page = await okBody(call('GET', path, { key }), 200, path);
      expect({ path, items: page.items.length, next: typeof page.next_cursor }).toEqual({ path, items: 100, next: 'string' });
    }
  });

  it('refuses limit=101 (and 0, and 1000) with a 422 naming limit', async () => {
    for (const limit of ['101', '0', '1000']) {
      await expectRefused(() => call('GET', `/events?limit=${limit}`), 422, 'validation-failed', 'limit');
      await expectRefused(() => call('GET', `/bookings?limit=${limit}`, { key: pageUser.key }), 422, 'validation-failed', 'limit');
      await expectRefused(() => call('GET', `/bookings?limit=${limit}`, { key: admin }), 422, 'validation-failed', 'limit');
    }
  });

  it('pages 20 items by default', async () => {
    expect((await okBody(call('GET', '/events'), 200, 'GET /events')).items).toHaveLength(20);
  });
});

describe('the Idempotency-Key: 1..255 visible ASCII characters', () => {
  it('accepts a key of 255 characters, and refuses one of 256 with a 422 naming Idempotency-Key, storing nothing', async () => {
    const own = await newEvent({ total_tickets: 10 });
    const body = { event_id: own.id, quantity: 1 };
    const first = await call('POST', '/bookings', { key: user.key, json: body, headers: { 'idempotency-key': 'k'.repeat(255) } });
    expect(first.status).toBe(201);
    await expectRefused(() => call('POST', '/bookings', { key: user.key, json: body, headers: { 'idempotency-key': 'k'.repeat(256) } }), 422, 'validation-failed', 'Idempotency-Key');
    const booking = first.body;
    await expectRefused(
      () => call('POST', `/bookings/${booking.id}/payment`, { key: user.key, json: { payment_token: 'tok_visa' }, headers: { 'idempotency-key': 'p'.repeat(256) } }),
      422,
      'validation-failed',
      'Idempotency-Key',
    );
    expect((await call('POST', `/bookings/${booking.id}/payment`, { key: user.key, json: { payment_token: 'tok_visa' }, headers: { 'idempotency-key': 'p'.repeat(255) } })).status).toBe(200);
  });
});

describe('the bounds of every writable field: the edge works, one past it is a 422 naming the field', () => {
  const validEvent = { name: 'Edge', date_time: '2027-08-01T20:00:00Z', total_tickets: 10, ticket_price: 1 };
  const cases: [string, string, string, Record<string, unknown>, Record<string, unknown>][] = [
    ['name', '200 / 201 characters', 'POST /events', { ...validEvent, name: 'n'.repeat(200) }, { ...validEvent, name: 'n'.repeat(201) }],
    ['description', '5000 / 5001 characters', 'POST /events', { ...validEvent, description: 'd'.repeat(5000) }, { ...validEvent, description: 'd'.repeat(5001) }],
    ['total_tickets', '1000000 / 1000001', 'POST /events', { ...validEvent, total_tickets: 1_000_000 }, { ...validEvent, total_tickets: 1_000_001 }],
    ['total_tickets', '1 / 0', 'POST /events', { ...validEvent, total_tickets: 1 }, { ...validEvent, total_tickets: 0 }],
    ['ticket_price', '1000000 / 1000000.01', 'POST /events', { ...validEvent, ticket_price: 1_000_000 }, { ...validEvent, ticket_price: 1_000_000.01 }],
    ['ticket_price', '"0.01" / "-0.01"', 'POST /events', { ...validEvent, ticket_price: '0.01' }, { ...validEvent, ticket_price: '-0.01' }],
    ['max_per_booking', '100 / 101', 'POST /events', { ...validEvent, max_per_booking: 100 }, { ...validEvent, max_per_booking: 101 }],
    ['max_per_booking', '1 / 0', 'POST /events', { ...validEvent, max_per_booking: 1 }, { ...validEvent, max_per_booking: 0 }],
    ['max_per_user', '1000 / 1001', 'POST /events', { ...validEvent, max_per_user: 1000 }, { ...validEvent, max_per_user: 1001 }],
    ['max_per_user', '1 / 0', 'POST /events', { ...validEvent, max_per_user: 1 }, { ...validEvent, max_per_user: 0 }],
  ];

  it.each(cases)('%s (%s) on %s', async (field, _edges, route, edge, beyond) => {
    const [method, path] = route.split(' ') as [string, string];
    expect((await call(method, path, { key: admin, json: edge })).status).toBe(201);
    await expectRefused(() => call(method, path, { key: admin, json: beyond }), 422, 'validation-failed', field);
  });

  it('name on POST /users (200 / 201 characters) and email (254 / 255 characters)', async () => {
    expect((await call('POST', '/users', { json: { name: 'u'.repeat(200), email: uniqueEmail('edge') } })).status).toBe(201);
    await expectRefused(() => call('POST', '/users', { json: { name: 'u'.repeat(201), email: uniqueEmail('edge') } }), 422, 'validation-failed', 'name');
    const at254 = emailOfLength(254);
    expect(at254).toHaveLength(254);
    expect((await call('POST', '/users', { json: { name: 'Long mail', email: at254 } })).status).toBe(201);
    const at255 = emailOfLength(255);
    expect(at255).toHaveLength(255);
    await expectRefused(() => call('POST', '/users', { json: { name: 'Longer mail', email: at255 } }), 422, 'validation-failed', 'email');
  });

  it('payment_token (255 / 256 characters)', async () => {
    const own = await newEvent({ total_tickets: 5 });
    const booking = await okBody(call('POST', '/bookings', { key: user.key, json: { event_id: own.id, quantity: 1 } }), 201, 'POST /bookings');
    await expectRefused(() => call('POST', `/bookings/${booking.id}/payment`, { key: user.key, json: { payment_token: `tok_${'a'.repeat(252)}` } }), 422, 'validation-failed', 'payment_token');
    expect((await call('POST', `/bookings/${booking.id}/payment`, { key: user.key, json: { payment_token: `tok_${'a'.repeat(251)}` } })).status).toBe(200);
  });

  it('event_id of the admin\u2019s booking filter (128 / 129 characters) and cursor (2049 characters)', async () => {
    expect((await call('GET', `/bookings?event_id=${'e'.repeat(128)}`, { key: admin })).status).toBe(200);
    await expectRefused(() => call('GET', `/bookings?event_id=${'e'.repeat(129)}`, { key: admin }), 422, 'validation-failed', 'event_id');
    await expectRefused(() => call('GET', `/events?cursor=${'c'.repeat(2049)}`), 422, 'validation-failed', 'cursor');
  });
});

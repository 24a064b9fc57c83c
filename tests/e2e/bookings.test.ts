import { expectFieldProblem, expectProblem, UTC_TIMESTAMP } from '../support/expectations';
import { inDays, UNKNOWN_ID } from '../support/fixtures';
import { sleep } from '../support/time';
import { adminKey, api, availableTickets, cancelBooking, createBooking, createEvent, createUser, eventStats, postBooking, walkPages } from './client';

/** The default hold (HOLD_SECONDS), in milliseconds. */
const HOLD_MS = 900 * 1000;

const ids = (items: Array<{ id: string }>) => items.map((item) => item.id);

/** Every booking of the caller (user or admin) for `query`, walked 100 at a time. */
const listAll = async (key: string, query = '') => (await walkPages(`/bookings${query}`, key, 100)).items;

const isNewestFirst = (items: Array<{ created_at: string }>) =>
  items.every((item, i) => i === 0 || Date.parse(items[i - 1]!.created_at) >= Date.parse(item.created_at));

/** Time enough for a burst of concurrent requests on a small machine. */
const CONCURRENT_TEST_TIMEOUT = 120_000;

/** Bookings made one after the other, so that their created_at strictly increase. */
async function bookInSequence(key: string, eventIds: string[]): Promise<any[]> {
  const made: any[] = [];
  for (const eventId of eventIds) {
    made.push(await createBooking(key, eventId));
    await sleep(5);
  }
  return made;
}

describe('POST /bookings', () => {
  it('creates a PENDING booking: 201, Location /bookings/{id}, and every field of the Booking', async () => {
    const event = await createEvent({ ticket_price: 25 });
    const user = await createUser();

    const response = await postBooking(user.key, { event_id: event.id, quantity: 2 });

    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(response.body).toEqual({
      id: expect.any(String),
      event_id: event.id,
      user_id: user.id,
      quantity: 2,
      unit_price: 25,
      amount: 50,
      status: 'PENDING',
      created_at: expect.stringMatching(UTC_TIMESTAMP),
      expires_at: expect.stringMatching(UTC_TIMESTAMP),
      confirmed_at: null,
      cancelled_at: null,
      cancel_reason: null,
      payment_id: null,
    });
    expect(response.headers.get('location')).toBe(`/bookings/${response.body.id}`);
  });

  it('makes the created booking readable by its owner at its Location', async () => {
    const event = await createEvent();
    const user = await createUser();
    const created = await postBooking(user.key, { event_id: event.id, quantity: 1 });

    const fetched = await api('GET', created.headers.get('location')!, { key: user.key });

    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(created.body);
  });

  it('sets expires_at to created_at plus the default hold of 900 seconds', async () => {
    const event = await createEvent();
    const user = await createUser();

    const booking = await createBooking(user.key, event.id);

    expect(Date.parse(booking.expires_at) - Date.parse(booking.created_at)).toBe(HOLD_MS);
  });

  it('stamps created_at with the time of the request', async () => {
    const event = await createEvent();
    const user = await createUser();
    const before = Date.now();

    const booking = await createBooking(user.key, event.id);

    const after = Date.now();
    expect(Date.parse(booking.created_at)).toBeGreaterThanOrEqual(before - 2000);
    expect(Date.parse(booking.created_at)).toBeLessThanOrEqual(after + 2000);
  });

  it('prices the booking at the event price: 3 tickets at 0.1 cost exactly 0.3', async () => {
    const event = await createEvent({ ticket_price: 0.1 });
    const user = await createUser();

    const booking = await createBooking(user.key, event.id, 3);

    expect(booking).toMatchObject({ quantity: 3, unit_price: 0.1, amount: 0.3 });
  });

  it('prices 3 tickets at 19.99 at exactly 59.97', async () => {
    const event = await createEvent({ ticket_price: '19.99' });
    const user = await createUser();

    const booking = await createBooking(user.key, event.id, 3);

    expect(booking).toMatchObject({ unit_price: 19.99, amount: 59.97 });
  });

  it('books a free event at amount 0', async () => {
    const event = await createEvent({ ticket_price: 0 });
    const user = await createUser();

    const booking = await createBooking(user.key, event.id, 4);

    expect(booking).toMatchObject({ unit_price: 0, amount: 0 });
  });

  it('applies a price change to later bookings only', async () => {
    const event = await createEvent({ ticket_price: 10 });
    const user = await createUser();
    const earlier = await createBooking(user.key, event.id, 2);
    expect((await api('PATCH', `/events/${event.id}`, { key: adminKey(), json: { ticket_price: 12.5 } })).status).toBe(200);

    const later = await createBooking(user.key, event.id, 2);
    const earlierNow = await api('GET', `/bookings/${earlier.id}`, { key: user.key });

    expect(later).toMatchObject({ unit_price: 12.5, amount: 25 });
    expect(earlierNow.body).toMatchObject({ unit_price: 10, amount: 20 });
  });

  it("holds the tickets: the event's available_tickets drops by the quantity", async () => {
    const event = await createEvent({ total_tickets: 50 });
    const user = await createUser();

    await createBooking(user.key, event.id, 7);

    expect(await availableTickets(event.id)).toBe(43);
  });

  it('books the very last tickets of an event', async () => {
    const event = await createEvent({ total_tickets: 3 });
    const user = await createUser();

    const response = await postBooking(user.key, { event_id: event.id, quantity: 3 });

    expect(response.status).toBe(201);
    expect(await availableTickets(event.id)).toBe(0);
  });

  it('answers 404 event-not-found for an unknown event', async () => {
    const user = await createUser();

    const response = await postBooking(user.key, { event_id: UNKNOWN_ID, quantity: 1 });

    expectProblem(response, 404, 'event-not-found');
  });

  it('answers 404 event-not-found for an event that was deleted', async () => {
    const event = await createEvent();
    expect((await api('DELETE', `/events/${event.id}`, { key: adminKey() })).status).toBe(204);
    const user = await createUser();

    const response = await postBooking(user.key, { event_id: event.id, quantity: 1 });

    expectProblem(response, 404, 'event-not-found');
  });

  it('answers 409 insufficient-tickets when fewer tickets are left than asked', async () => {
    const event = await createEvent({ total_tickets: 5 });
    const user = await createUser();
    await createBooking(user.key, event.id, 3);

    const response = await postBooking(user.key, { event_id: event.id, quantity: 3 });

    expectProblem(response, 409, 'insufficient-tickets');
  });

  it('holds nothing when refused with insufficient-tickets', async () => {
    const event = await createEvent({ total_tickets: 5 });
    const user = await createUser();
    const first = await createBooking(user.key, event.id, 3);
    await postBooking(user.key, { event_id: event.id, quantity: 3 });

    expect(await availableTickets(event.id)).toBe(2);
    expect(ids(await listAll(user.key, `?event_id=${event.id}`))).toEqual([first.id]);
  });

  it('answers 409 insufficient-tickets for a sold-out event', async () => {
    const event = await createEvent({ total_tickets: 2 });
    const user = await createUser();
    await createBooking(user.key, event.id, 2);

    const response = await postBooking(user.key, { event_id: event.id, quantity: 1 });

    expectProblem(response, 409, 'insufficient-tickets');
  });

  it('answers 409 event-started once the event date has passed', async () => {
    const event = await createEvent({ date_time: new Date(Date.now() + 3000).toISOString() });
    const user = await createUser();
    await sleep(Date.parse(event.date_time) - Date.now() + 500);

    const response = await postBooking(user.key, { event_id: event.id, quantity: 1 });

    expectProblem(response, 409, 'event-started');
  });

  it('answers 409 event-started for an event moved into the past, and holds nothing', async () => {
    const event = await createEvent({ total_tickets: 10 });
    expect((await api('PATCH', `/events/${event.id}`, { key: adminKey(), json: { date_time: inDays(-1) } })).status).toBe(200);
    const user = await createUser();

    const response = await postBooking(user.key, { event_id: event.id, quantity: 1 });

    expectProblem(response, 409, 'event-started');
    expect(await availableTickets(event.id)).toBe(10);
  });

  it("accepts a quantity equal to the event's max_per_booking", async () => {
    const event = await createEvent({ max_per_booking: 4 });
    const user = await createUser();

    const response = await postBooking(user.key, { event_id: event.id, quantity: 4 });

    expect(response.status).toBe(201);
    expect(response.body.quantity).toBe(4);
  });

  it("answers 422 naming quantity when it is over the event's max_per_booking, and holds nothing", async () => {
    const event = await createEvent({ total_tickets: 100, max_per_booking: 4 });
    const user = await createUser();

    const response = await postBooking(user.key, { event_id: event.id, quantity: 5 });

    expectFieldProblem(response, 'quantity');
    expect(await availableTickets(event.id)).toBe(100);
  });

  const invalidBodies: Array<[string, (eventId: string) => Record<string, unknown>, string]> = [
    ['quantity is 0', (id) => ({ event_id: id, quantity: 0 }), 'quantity'],
    ['quantity is negative', (id) => ({ event_id: id, quantity: -1 }), 'quantity'],
    ['quantity is 1.5', (id) => ({ event_id: id, quantity: 1.5 }), 'quantity'],
    ['quantity is the string "2"', (id) => ({ event_id: id, quantity: '2' }), 'quantity'],
    ['quantity is null', (id) => ({ event_id: id, quantity: null }), 'quantity'],
    ['quantity is 101', (id) => ({ event_id: id, quantity: 101 }), 'quantity'],
    ['quantity is missing', (id) => ({ event_id: id }), 'quantity'],
    ['event_id is missing', () => ({ quantity: 1 }), 'event_id'],
    ['event_id is a number', () => ({ event_id: 42, quantity: 1 }), 'event_id'],
    ['the body has an unknown field', (id) => ({ event_id: id, quantity: 1, seat: 'A1' }), 'seat'],
    ['the body sets the read-only status', (id) => ({ event_id: id, quantity: 1, status: 'CONFIRMED' }), 'status'],
  ];

  it.each(invalidBodies)('answers 422 naming the field when %s', async (_case, body, path) => {
    const event = await createEvent();
    const user = await createUser();

    const response = await postBooking(user.key, body(event.id));

    expectFieldProblem(response, path);
  });

  it('holds nothing when the body fails validation', async () => {
    const event = await createEvent({ total_tickets: 30 });
    const user = await createUser();

    await postBooking(user.key, { event_id: event.id, quantity: 2, seat: 'A1' });

    expect(await availableTickets(event.id)).toBe(30);
    expect(await listAll(user.key)).toEqual([]);
  });

  it('answers 401 unauthenticated without a key', async () => {
    const event = await createEvent();

    const response = await api('POST', '/bookings', { json: { event_id: event.id, quantity: 1 } });

    expectProblem(response, 401, 'unauthenticated');
  });

  it('answers 401 unauthenticated for a key that was never issued', async () => {
    const event = await createEvent();

    const response = await postBooking('not-a-real-key', { event_id: event.id, quantity: 1 });

    expectProblem(response, 401, 'unauthenticated');
  });

  it('answers 403 forbidden for the admin key (the admin has no user account)', async () => {
    const event = await createEvent();

    const response = await postBooking(adminKey(), { event_id: event.id, quantity: 1 });

    expectProblem(response, 403, 'forbidden');
  });

  it('answers 400 malformed-json when the body is not valid JSON', async () => {
    const user = await createUser();

    const response = await api('POST', '/bookings', {
      key: user.key,
      raw: '{"event_id": ',
      headers: { 'content-type': 'application/json' },
    });

    expectProblem(response, 400, 'malformed-json');
  });

  it('answers 415 unsupported-media-type when the body is not sent as application/json', async () => {
    const event = await createEvent();
    const user = await createUser();

    const response = await api('POST', '/bookings', {
      key: user.key,
      raw: JSON.stringify({ event_id: event.id, quantity: 1 }),
      headers: { 'content-type': 'text/plain' },
    });

    expectProblem(response, 415, 'unsupported-media-type');
  });

  it('creates a new booking for each request sent without an Idempotency-Key', async () => {
    const event = await createEvent({ total_tickets: 10 });
    const user = await createUser();
    const body = { event_id: event.id, quantity: 1 };

    const first = await postBooking(user.key, body);
    const second = await postBooking(user.key, body);

    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.body.id).not.toBe(first.body.id);
    expect(await availableTickets(event.id)).toBe(8);
  });
});

describe('POST /bookings: max_per_user', () => {
  it('accepts bookings that reach max_per_user exactly', async () => {
    const event = await createEvent({ max_per_user: 4 });
    const user = await createUser();
    await createBooking(user.key, event.id, 3);

    const response = await postBooking(user.key, { event_id: event.id, quantity: 1 });

    expect(response.status).toBe(201);
  });

  it("answers 409 per-user-limit when the user's tickets would exceed max_per_user", async () => {
    const event = await createEvent({ max_per_user: 4 });
    const user = await createUser();
    await createBooking(user.key, event.id, 3);

    const response = await postBooking(user.key, { event_id: event.id, quantity: 2 });

    expectProblem(response, 409, 'per-user-limit');
  });

  it('holds nothing when refused with per-user-limit', async () => {
    const event = await createEvent({ total_tickets: 20, max_per_user: 4 });
    const user = await createUser();
    const first = await createBooking(user.key, event.id, 3);
    await postBooking(user.key, { event_id: event.id, quantity: 2 });

    expect(await availableTickets(event.id)).toBe(17);
    expect(ids(await listAll(user.key, `?event_id=${event.id}`))).toEqual([first.id]);
  });

  it('counts the limit per user: another user may still book up to it', async () => {
    const event = await createEvent({ max_per_user: 4 });
    const first = await createUser();
    const second = await createUser();
    await createBooking(first.key, event.id, 4);

    const response = await postBooking(second.key, { event_id: event.id, quantity: 4 });

    expect(response.status).toBe(201);
  });

  it('counts the limit per event: the same user may book up to it on another event', async () => {
    const event = await createEvent({ max_per_user: 2 });
    const other = await createEvent({ max_per_user: 2 });
    const user = await createUser();
    await createBooking(user.key, event.id, 2);

    const response = await postBooking(user.key, { event_id: other.id, quantity: 2 });

    expect(response.status).toBe(201);
  });

  it('frees the allowance again when a booking is cancelled', async () => {
    const event = await createEvent({ max_per_user: 4 });
    const user = await createUser();
    const booking = await createBooking(user.key, event.id, 3);
    await cancelBooking(user.key, booking.id);

    const response = await postBooking(user.key, { event_id: event.id, quantity: 4 });

    expect(response.status).toBe(201);
  });

  it('never lets concurrent bookings of one user exceed max_per_user', async () => {
    const event = await createEvent({ total_tickets: 100, max_per_user: 5 });
    const user = await createUser();

    const responses = await Promise.all(Array.from({ length: 12 }, () => postBooking(user.key, { event_id: event.id, quantity: 1 })));

    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(5);
    for (const refused of responses.filter((r) => r.status !== 201)) expectProblem(refused, 409, 'per-user-limit');
    expect(await availableTickets(event.id)).toBe(95);
  }, CONCURRENT_TEST_TIMEOUT);
});

describe('POST /bookings: Idempotency-Key', () => {
  it('replays the first response for a retry with the same key and body: same status and body', async () => {
    const event = await createEvent({ total_tickets: 10 });
    const user = await createUser();
    const body = { event_id: event.id, quantity: 2 };

    const first = await postBooking(user.key, body, 'retry-same-1');
    const retry = await postBooking(user.key, body, 'retry-same-1');

    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get('location')).toBe(`/bookings/${first.body.id}`);
  });

  it('books only once for a retry with the same key and body', async () => {
    const event = await createEvent({ total_tickets: 10 });
    const user = await createUser();
    const body = { event_id: event.id, quantity: 2 };

    const first = await postBooking(user.key, body, 'retry-once');
    await postBooking(user.key, body, 'retry-once');
    await postBooking(user.key, body, 'retry-once');

    expect(await availableTickets(event.id)).toBe(8);
    expect(ids(await listAll(user.key))).toEqual([first.body.id]);
  });

  it('replays the first response even after the booking was cancelled, and books nothing more', async () => {
    const event = await createEvent({ total_tickets: 10 });
    const user = await createUser();
    const body = { event_id: event.id, quantity: 2 };
    const first = await postBooking(user.key, body, 'retry-after-cancel');
    await cancelBooking(user.key, first.body.id);

    const retry = await postBooking(user.key, body, 'retry-after-cancel');

    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(await availableTickets(event.id)).toBe(10);
    expect(ids(await listAll(user.key))).toEqual([first.body.id]);
  });

  it('answers 422 idempotency-key-reused for the same key with a different body', async () => {
    const event = await createEvent({ total_tickets: 10 });
    const user = await createUser();
    await postBooking(user.key, { event_id: event.id, quantity: 2 }, 'reused-key');

    const response = await postBooking(user.key, { event_id: event.id, quantity: 3 }, 'reused-key');

    expectProblem(response, 422, 'idempotency-key-reused');
  });

  it('books nothing for the same key with a different body', async () => {
    const event = await createEvent({ total_tickets: 10 });
    const other = await createEvent({ total_tickets: 10 });
    const user = await createUser();
    const first = await postBooking(user.key, { event_id: event.id, quantity: 2 }, 'reused-elsewhere');

    await postBooking(user.key, { event_id: other.id, quantity: 2 }, 'reused-elsewhere');

    expect(await availableTickets(other.id)).toBe(10);
    expect(ids(await listAll(user.key))).toEqual([first.body.id]);
  });

  it('treats the same key sent by another user as a new request: they get their own booking', async () => {
    const event = await createEvent({ total_tickets: 10 });
    const alice = await createUser();
    const bob = await createUser();
    const body = { event_id: event.id, quantity: 1 };
    const hers = await postBooking(alice.key, body, 'shared-key');

    const his = await postBooking(bob.key, body, 'shared-key');

    expect(his.status).toBe(201);
    expect(his.body.id).not.toBe(hers.body.id);
    expect(his.body.user_id).toBe(bob.id);
    expect(await availableTickets(event.id)).toBe(8);
  });

  it('replays a refused first attempt: the same 409 for the same key and body, even once tickets are back', async () => {
    const event = await createEvent({ total_tickets: 2 });
    const user = await createUser();
    const body = { event_id: event.id, quantity: 3 };
    const first = await postBooking(user.key, body, 'refused-first');
    expectProblem(first, 409, 'insufficient-tickets');
    expect((await api('PATCH', `/events/${event.id}`, { key: adminKey(), json: { total_tickets: 10 } })).status).toBe(200);

    const retry = await postBooking(user.key, body, 'refused-first');

    expect(retry.status).toBe(409);
    expect(retry.body).toEqual(first.body);
    expect(await availableTickets(event.id)).toBe(10);
  });

  it('accepts a key of 255 visible ASCII characters', async () => {
    const event = await createEvent();
    const user = await createUser();

    const response = await postBooking(user.key, { event_id: event.id, quantity: 1 }, '!~'.repeat(127) + 'k');

    expect(response.status).toBe(201);
  });

  const invalidKeys: Array<[string, string]> = [
    ['empty', ''],
    ['256 characters long', 'k'.repeat(256)],
    ['holding a non-ASCII character', 'clé-1'],
    ['holding a space', 'two words'],
  ];

  it.each(invalidKeys)('answers 422 for an Idempotency-Key that is %s, and books nothing', async (_case, key) => {
    const event = await createEvent({ total_tickets: 10 });
    const user = await createUser();

    const response = await postBooking(user.key, { event_id: event.id, quantity: 1 }, key);

    expectProblem(response, 422);
    expect(await availableTickets(event.id)).toBe(10);
  });

  it('answers 20 concurrent requests with one key with one booking: each is that 201 or 409 idempotency-in-progress', async () => {
    const event = await createEvent({ total_tickets: 100 });
    const user = await createUser();
    const body = { event_id: event.id, quantity: 2 };

    const responses = await Promise.all(Array.from({ length: 20 }, () => postBooking(user.key, body, 'concurrent-key')));

    const created = responses.filter((r) => r.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((r) => r.body.id)).size).toBe(1);
    for (const other of responses.filter((r) => r.status !== 201)) expectProblem(other, 409, 'idempotency-in-progress');
    expect(await availableTickets(event.id)).toBe(98);
    expect(ids(await listAll(user.key))).toEqual([created[0]!.body.id]);
  }, CONCURRENT_TEST_TIMEOUT);
});

describe('GET /bookings/{id}', () => {
  it('returns the booking to its owner', async () => {
    const event = await createEvent();
    const user = await createUser();
    const booking = await createBooking(user.key, event.id, 2);

    const response = await api('GET', `/bookings/${booking.id}`, { key: user.key });

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(response.body).toEqual(booking);
  });

  it("returns any user's booking to the admin", async () => {
    const event = await createEvent();
    const user = await createUser();
    const booking = await createBooking(user.key, event.id, 2);

    const response = await api('GET', `/bookings/${booking.id}`, { key: adminKey() });

    expect(response.status).toBe(200);
    expect(response.body).toEqual(booking);
  });

  it('answers 404 booking-not-found (not 403) to another user', async () => {
    const event = await createEvent();
    const owner = await createUser();
    const stranger = await createUser();
    const booking = await createBooking(owner.key, event.id);

    const response = await api('GET', `/bookings/${booking.id}`, { key: stranger.key });

    expectProblem(response, 404, 'booking-not-found');
  });

  it('answers 404 booking-not-found for an unknown id', async () => {
    const user = await createUser();

    const response = await api('GET', `/bookings/${UNKNOWN_ID}`, { key: user.key });

    expectProblem(response, 404, 'booking-not-found');
  });

  it('answers 404 booking-not-found to the admin for an unknown id', async () => {
    const response = await api('GET', `/bookings/${UNKNOWN_ID}`, { key: adminKey() });

    expectProblem(response, 404, 'booking-not-found');
  });

  it('answers 401 unauthenticated without a key', async () => {
    const event = await createEvent();
    const user = await createUser();
    const booking = await createBooking(user.key, event.id);

    const response = await api('GET', `/bookings/${booking.id}`);

    expectProblem(response, 401, 'unauthenticated');
  });

  it('answers 401 unauthenticated for a key that was never issued', async () => {
    const event = await createEvent();
    const user = await createUser();
    const booking = await createBooking(user.key, event.id);

    const response = await api('GET', `/bookings/${booking.id}`, { key: 'not-a-real-key' });

    expectProblem(response, 401, 'unauthenticated');
  });
});

describe('GET /bookings', () => {
  it('returns a page of items with a next_cursor', async () => {
    const event = await createEvent();
    const user = await createUser();
    await createBooking(user.key, event.id);

    const response = await api('GET', '/bookings', { key: user.key });

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(Object.keys(response.body).sort()).toEqual(['items', 'next_cursor']);
    expect(response.body.next_cursor).toBeNull();
  });

  it('lists a user only their own bookings, each with every field', async () => {
    const event = await createEvent();
    const alice = await createUser();
    const bob = await createUser();
    const hers = await createBooking(alice.key, event.id, 2);
    await createBooking(bob.key, event.id, 1);

    const items = await listAll(alice.key);

    expect(items).toEqual([hers]);
  });

  it('returns an empty page to a user without bookings', async () => {
    const user = await createUser();

    const response = await api('GET', '/bookings', { key: user.key });

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ items: [], next_cursor: null });
  });

  it("lists a user's bookings newest first", async () => {
    const events = [await createEvent(), await createEvent(), await createEvent()];
    const user = await createUser();
    const made = await bookInSequence(user.key, events.map((e) => e.id));

    const items = await listAll(user.key);

    expect(ids(items)).toEqual(ids(made).reverse());
  });

  it("walks every page of a user's bookings with limit and next_cursor, without duplicates or gaps", async () => {
    const event = await createEvent();
    const user = await createUser();
    const made = await bookInSequence(user.key, Array(5).fill(event.id));

    const { pages, items } = await walkPages('/bookings', user.key, 2);

    expect(pages.map((page) => page.body.items.length)).toEqual([2, 2, 1]);
    expect(ids(items)).toEqual(ids(made).reverse());
  });

  it('returns one booking and a cursor with limit=1 while more exist', async () => {
    const event = await createEvent();
    const user = await createUser();
    await bookInSequence(user.key, [event.id, event.id]);

    const response = await api('GET', '/bookings?limit=1', { key: user.key });

    expect(response.status).toBe(200);
    expect(response.body.items).toHaveLength(1);
    expect(response.body.next_cursor).toEqual(expect.any(String));
  });

  it('returns at most 20 bookings by default, with a cursor to the rest', async () => {
    const event = await createEvent();
    const user = await createUser();
    for (let i = 0; i < 21; i++) await createBooking(user.key, event.id);

    const response = await api('GET', '/bookings', { key: user.key });

    expect(response.status).toBe(200);
    expect(response.body.items).toHaveLength(20);
    expect(response.body.next_cursor).toEqual(expect.any(String));
  });

  it('lets a user filter their bookings by event_id', async () => {
    const first = await createEvent();
    const second = await createEvent();
    const user = await createUser();
    const [a, , c] = await bookInSequence(user.key, [first.id, second.id, first.id]);

    const items = await listAll(user.key, `?event_id=${first.id}`);

    expect(ids(items)).toEqual([c.id, a.id]);
  });

  it("keeps a user's event_id filter within their own bookings", async () => {
    const event = await createEvent();
    const alice = await createUser();
    const bob = await createUser();
    const hers = await createBooking(alice.key, event.id);
    await createBooking(bob.key, event.id);

    const items = await listAll(alice.key, `?event_id=${event.id}`);

    expect(ids(items)).toEqual([hers.id]);
  });

  it('lets a user filter their bookings by status', async () => {
    const event = await createEvent();
    const user = await createUser();
    const [a, b, c] = await bookInSequence(user.key, [event.id, event.id, event.id]);
    await cancelBooking(user.key, b.id);

    const cancelled = await listAll(user.key, '?status=CANCELLED');
    const pending = await listAll(user.key, '?status=PENDING');

    expect(ids(cancelled)).toEqual([b.id]);
    expect(ids(pending)).toEqual([c.id, a.id]);
  });

  it('lets a user filter by event_id and status together', async () => {
    const first = await createEvent();
    const second = await createEvent();
    const user = await createUser();
    const [a, b, c] = await bookInSequence(user.key, [first.id, first.id, second.id]);
    await cancelBooking(user.key, a.id);
    await cancelBooking(user.key, c.id);

    const items = await listAll(user.key, `?event_id=${first.id}&status=PENDING`);

    expect(ids(items)).toEqual([b.id]);
  });

  it('lists the admin the bookings of every user', async () => {
    const event = await createEvent();
    const alice = await createUser();
    const bob = await createUser();
    const hers = await createBooking(alice.key, event.id);
    const his = await createBooking(bob.key, event.id);

    const items = await listAll(adminKey());

    expect(ids(items)).toEqual(expect.arrayContaining([hers.id, his.id]));
    expect(isNewestFirst(items)).toBe(true);
  });

  it("lists the admin only one event's bookings with ?event_id=, of every user and status, newest first", async () => {
    const event = await createEvent();
    const other = await createEvent();
    const alice = await createUser();
    const bob = await createUser();
    const a = await createBooking(alice.key, event.id);
    await sleep(5);
    const b = await createBooking(bob.key, event.id);
    await sleep(5);
    await createBooking(alice.key, other.id);
    const c = await createBooking(alice.key, event.id);
    await cancelBooking(bob.key, b.id);

    const items = await listAll(adminKey(), `?event_id=${event.id}`);

    expect(ids(items)).toEqual([c.id, b.id, a.id]);
  });

  it("walks every page of an event's bookings of mixed statuses for the admin without duplicates or gaps", async () => {
    const event = await createEvent();
    const user = await createUser();
    const made = await bookInSequence(user.key, Array(6).fill(event.id));
    await cancelBooking(user.key, made[1].id);
    await cancelBooking(adminKey(), made[4].id);

    const { pages, items } = await walkPages(`/bookings?event_id=${event.id}`, adminKey(), 2);

    expect(pages.map((page) => page.body.items.length)).toEqual([2, 2, 2]);
    expect(ids(items)).toEqual(ids(made).reverse());
  });

  it("lists the admin one event's bookings of one status with ?event_id=&status=", async () => {
    const event = await createEvent();
    const user = await createUser();
    const [a, b, c] = await bookInSequence(user.key, [event.id, event.id, event.id]);
    await cancelBooking(user.key, a.id);
    await cancelBooking(user.key, c.id);

    const cancelled = await listAll(adminKey(), `?event_id=${event.id}&status=CANCELLED`);
    const pending = await listAll(adminKey(), `?event_id=${event.id}&status=PENDING`);

    expect(ids(cancelled)).toEqual([c.id, a.id]);
    expect(ids(pending)).toEqual([b.id]);
  });

  it('lists the admin only bookings of one status with ?status=, across events', async () => {
    const first = await createEvent();
    const second = await createEvent();
    const user = await createUser();
    const [a, b] = await bookInSequence(user.key, [first.id, second.id]);
    const kept = await createBooking(user.key, first.id);
    await cancelBooking(user.key, a.id);
    await cancelBooking(user.key, b.id);

    const items = await listAll(adminKey(), '?status=CANCELLED');

    expect(items.every((item) => item.status === 'CANCELLED')).toBe(true);
    expect(ids(items)).toEqual(expect.arrayContaining([a.id, b.id]));
    expect(ids(items)).not.toContain(kept.id);
    expect(isNewestFirst(items)).toBe(true);
  });

  it('returns an empty page for an event without bookings', async () => {
    const event = await createEvent();

    const response = await api('GET', `/bookings?event_id=${event.id}`, { key: adminKey() });

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ items: [], next_cursor: null });
  });

  it.each(['EXPIRED', 'pending', 'ALL'])('answers 422 naming status for status=%s', async (status) => {
    const user = await createUser();

    const response = await api('GET', `/bookings?status=${status}`, { key: user.key });

    expectFieldProblem(response, 'status');
  });

  it.each(['0', '101', 'abc'])('answers 422 naming limit for limit=%s', async (limit) => {
    const user = await createUser();

    const response = await api('GET', `/bookings?limit=${limit}`, { key: user.key });

    expectFieldProblem(response, 'limit');
  });

  it('answers 422 naming cursor for a garbage cursor', async () => {
    const user = await createUser();

    const response = await api('GET', '/bookings?cursor=this-is-not-a-cursor', { key: user.key });

    expectFieldProblem(response, 'cursor');
  });

  it('answers 422 naming cursor for a garbage cursor sent by the admin with a filter', async () => {
    const event = await createEvent();

    const response = await api('GET', `/bookings?event_id=${event.id}&cursor=this-is-not-a-cursor`, { key: adminKey() });

    expectFieldProblem(response, 'cursor');
  });

  it('answers 401 unauthenticated without a key', async () => {
    const response = await api('GET', '/bookings');

    expectProblem(response, 401, 'unauthenticated');
  });

  it('answers 401 unauthenticated for a key that was never issued', async () => {
    const response = await api('GET', '/bookings', { key: 'not-a-real-key' });

    expectProblem(response, 401, 'unauthenticated');
  });
});

describe('POST /bookings/{id}/cancel', () => {
  it('cancels the owner\'s PENDING booking: 200, CANCELLED, USER_CANCELLED, cancelled_at set, the rest unchanged', async () => {
    const event = await createEvent();
    const user = await createUser();
    const booking = await createBooking(user.key, event.id, 2);

    const response = await api('POST', `/bookings/${booking.id}/cancel`, { key: user.key });

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(response.body).toEqual({
      ...booking,
      status: 'CANCELLED',
      cancel_reason: 'USER_CANCELLED',
      cancelled_at: expect.stringMatching(UTC_TIMESTAMP),
    });
    expect(Date.parse(response.body.cancelled_at)).toBeGreaterThanOrEqual(Date.parse(booking.created_at));
  });

  it('persists the cancellation: GET returns the CANCELLED booking', async () => {
    const event = await createEvent();
    const user = await createUser();
    const booking = await createBooking(user.key, event.id);
    const cancelled = await cancelBooking(user.key, booking.id);

    const fetched = await api('GET', `/bookings/${booking.id}`, { key: user.key });

    expect(fetched.body).toEqual(cancelled);
  });

  it('puts the tickets back on sale', async () => {
    const event = await createEvent({ total_tickets: 10 });
    const user = await createUser();
    const booking = await createBooking(user.key, event.id, 4);
    expect(await availableTickets(event.id)).toBe(6);

    await cancelBooking(user.key, booking.id);

    expect(await availableTickets(event.id)).toBe(10);
  });

  it('makes the released tickets bookable by someone else', async () => {
    const event = await createEvent({ total_tickets: 3 });
    const first = await createUser();
    const second = await createUser();
    const booking = await createBooking(first.key, event.id, 3);
    await cancelBooking(first.key, booking.id);

    const response = await postBooking(second.key, { event_id: event.id, quantity: 3 });

    expect(response.status).toBe(201);
  });

  it("lets the admin cancel any user's booking", async () => {
    const event = await createEvent({ total_tickets: 10 });
    const user = await createUser();
    const booking = await createBooking(user.key, event.id, 3);

    const response = await api('POST', `/bookings/${booking.id}/cancel`, { key: adminKey() });

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: booking.id, status: 'CANCELLED', cancel_reason: 'USER_CANCELLED' });
    expect(await availableTickets(event.id)).toBe(10);
  });

  it('answers 404 booking-not-found to another user, and leaves the booking PENDING', async () => {
    const event = await createEvent();
    const owner = await createUser();
    const stranger = await createUser();
    const booking = await createBooking(owner.key, event.id);

    const response = await api('POST', `/bookings/${booking.id}/cancel`, { key: stranger.key });

    expectProblem(response, 404, 'booking-not-found');
    expect((await api('GET', `/bookings/${booking.id}`, { key: owner.key })).body.status).toBe('PENDING');
  });

  it('answers 409 invalid-booking-status for a booking already CANCELLED', async () => {
    const event = await createEvent();
    const user = await createUser();
    const booking = await createBooking(user.key, event.id);
    await cancelBooking(user.key, booking.id);

    const response = await api('POST', `/bookings/${booking.id}/cancel`, { key: user.key });

    expectProblem(response, 409, 'invalid-booking-status');
  });

  it('releases the tickets only once when a booking is cancelled twice', async () => {
    const event = await createEvent({ total_tickets: 10 });
    const user = await createUser();
    await createBooking(user.key, event.id, 2);
    const booking = await createBooking(user.key, event.id, 3);
    await cancelBooking(user.key, booking.id);

    await api('POST', `/bookings/${booking.id}/cancel`, { key: adminKey() });

    expect(await availableTickets(event.id)).toBe(8);
  });

  it('answers 10 concurrent cancels of one booking with exactly one 200 and nine 409s, releasing the tickets once', async () => {
    const event = await createEvent({ total_tickets: 20 });
    const user = await createUser();
    await createBooking(user.key, event.id, 4);
    const booking = await createBooking(user.key, event.id, 5);
    expect(await availableTickets(event.id)).toBe(11);

    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => api('POST', `/bookings/${booking.id}/cancel`, { key: i % 2 === 0 ? user.key : adminKey() })),
    );

    expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
    for (const refused of responses.filter((r) => r.status !== 200)) expectProblem(refused, 409, 'invalid-booking-status');
    expect(await availableTickets(event.id)).toBe(16);
    expect(await eventStats(event.id)).toMatchObject({ tickets_held: 4, bookings_pending: 1, bookings_cancelled: 1 });
  }, CONCURRENT_TEST_TIMEOUT);

  it('answers 404 booking-not-found for an unknown id', async () => {
    const user = await createUser();

    const response = await api('POST', `/bookings/${UNKNOWN_ID}/cancel`, { key: user.key });

    expectProblem(response, 404, 'booking-not-found');
  });

  it('answers 401 unauthenticated without a key', async () => {
    const event = await createEvent();
    const user = await createUser();
    const booking = await createBooking(user.key, event.id);

    const response = await api('POST', `/bookings/${booking.id}/cancel`);

    expectProblem(response, 401, 'unauthenticated');
  });

  it('answers 401 unauthenticated for a key that was never issued', async () => {
    const event = await createEvent();
    const user = await createUser();
    const booking = await createBooking(user.key, event.id);

    const response = await api('POST', `/bookings/${booking.id}/cancel`, { key: 'not-a-real-key' });

    expectProblem(response, 401, 'unauthenticated');
  });
});

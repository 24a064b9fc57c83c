import { expectFieldProblem, expectProblem, UTC_TIMESTAMP } from '../support/expectations';
import { UNKNOWN_ID } from '../support/fixtures';
import { adminKey, api, availableTickets, cancelBooking, createBooking, createEvent, createUser, eventStats, getBooking, postBooking, postPayment } from './client';

/**
 * POST /bookings/{id}/payment against the global stack (hold 900 s, so nothing
 * expires here; the hold itself is tests/e2e/hold.test.ts).
 */

const pay = (key: string, bookingId: string, token = 'tok_visa', idempotencyKey?: string) =>
  postPayment(key, bookingId, { payment_token: token }, idempotencyKey);

/** An event with one PENDING booking of `quantity` tickets by a new user. */
async function pendingBooking(eventFields: Record<string, unknown> = {}, quantity = 1) {
  const event = await createEvent(eventFields);
  const user = await createUser();
  const booking = await createBooking(user.key, event.id, quantity);
  return { event, user, booking };
}

describe('POST /bookings/{id}/payment', () => {
  it('confirms the booking of its owner: 200, status CONFIRMED, confirmed_at and payment_id set', async () => {
    const { user, booking } = await pendingBooking({ ticket_price: '19.99' }, 3);

    const response = await pay(user.key, booking.id);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(response.body).toEqual({
      ...booking,
      status: 'CONFIRMED',
      confirmed_at: expect.stringMatching(UTC_TIMESTAMP),
      payment_id: expect.stringMatching(/^\S+$/),
    });
  });

  it('stamps confirmed_at with the time of the payment, between created_at and expires_at', async () => {
    const { user, booking } = await pendingBooking();
    const before = Date.now();

    const response = await pay(user.key, booking.id);

    const confirmedAt = Date.parse(response.body.confirmed_at);
    expect(confirmedAt).toBeGreaterThanOrEqual(Math.max(Date.parse(booking.created_at), before - 2000));
    expect(confirmedAt).toBeLessThanOrEqual(Date.now() + 2000);
    expect(confirmedAt).toBeLessThan(Date.parse(booking.expires_at));
  });

  it('makes the confirmation visible to GET /bookings/{id}: the same booking as the payment response', async () => {
    const { user, booking } = await pendingBooking();
    const paid = await pay(user.key, booking.id);

    const fetched = await getBooking(user.key, booking.id);

    expect(fetched).toEqual(paid.body);
  });

  it('moves the tickets from held to sold and adds the amount to revenue, to the cent', async () => {
    const { event, user, booking } = await pendingBooking({ total_tickets: 50, ticket_price: '19.99' }, 3);
    const before = await eventStats(event.id);

    await pay(user.key, booking.id);

    const after = await eventStats(event.id);
    expect(before).toMatchObject({ tickets_held: 3, tickets_sold: 0, revenue: 0, bookings_pending: 1, bookings_confirmed: 0 });
    expect(after).toEqual({
      ...before,
      tickets_held: 0,
      tickets_sold: 3,
      tickets_available: 47,
      revenue: 59.97,
      bookings_pending: 0,
      bookings_confirmed: 1,
    });
  });

  it('sums the revenue of several payments exactly: three tickets paid at 0.1 are 0.3', async () => {
    const event = await createEvent({ ticket_price: 0.1 });
    const user = await createUser();
    const bookings = [await createBooking(user.key, event.id), await createBooking(user.key, event.id), await createBooking(user.key, event.id)];

    for (const booking of bookings) expect((await pay(user.key, booking.id)).status).toBe(200);

    expect(await eventStats(event.id)).toMatchObject({ revenue: 0.3, tickets_sold: 3, bookings_confirmed: 3 });
  });

  it('leaves available_tickets unchanged: paid tickets were already taken out when held', async () => {
    const { event, user, booking } = await pendingBooking({ total_tickets: 20 }, 4);

    await pay(user.key, booking.id);

    expect(await availableTickets(event.id)).toBe(16);
  });

  it('answers 409 invalid-booking-status when the booking is paid again, and charges nothing more', async () => {
    const { event, user, booking } = await pendingBooking({ ticket_price: 10 }, 2);
    const first = await pay(user.key, booking.id);

    const again = await pay(user.key, booking.id, 'tok_mastercard');

    expect(first.status).toBe(200);
    expectProblem(again, 409, 'invalid-booking-status');
    expect(await getBooking(user.key, booking.id)).toEqual(first.body);
    expect(await eventStats(event.id)).toMatchObject({ revenue: 20, tickets_sold: 2, bookings_confirmed: 1 });
  });

  it('answers 409 invalid-booking-status for a CANCELLED booking, and charges nothing', async () => {
    const { event, user, booking } = await pendingBooking({ total_tickets: 10 }, 2);
    const cancelled = await cancelBooking(user.key, booking.id);

    const response = await pay(user.key, booking.id);

    expectProblem(response, 409, 'invalid-booking-status');
    expect(await getBooking(user.key, booking.id)).toEqual(cancelled);
    expect(await eventStats(event.id)).toMatchObject({ revenue: 0, tickets_sold: 0, tickets_available: 10 });
  });

  it('confirms a booking once when ten payments of it race: one CONFIRMED booking, revenue counted once', async () => {
    const { event, user, booking } = await pendingBooking({ ticket_price: 7.77 }, 2);

    const responses = await Promise.all(Array.from({ length: 10 }, () => pay(user.key, booking.id)));

    const final = await getBooking(user.key, booking.id);
    expect(final.status).toBe('CONFIRMED');
    expect(responses.map((r) => r.status)).toContain(200);
    for (const response of responses) {
      if (response.status === 200) expect(response.body).toEqual(final);
      else expectProblem(response, 409, 'invalid-booking-status');
    }
    expect(await eventStats(event.id)).toMatchObject({ revenue: 15.54, tickets_sold: 2, tickets_held: 0, bookings_confirmed: 1 });
  });

  it('accepts any token of the form tok_[a-z0-9_]+', async () => {
    const event = await createEvent();
    const user = await createUser();
    const tokens = ['tok_visa', 'tok_0', 'tok_a_b_9', `tok_${'x'.repeat(200)}`];

    const statuses: number[] = [];
    for (const token of tokens) statuses.push((await pay(user.key, (await createBooking(user.key, event.id)).id, token)).status);

    expect(statuses).toEqual([200, 200, 200, 200]);
  });
});

describe('POST /bookings/{id}/payment: declined and failed payments', () => {
  it('answers 402 payment-declined for tok_declined', async () => {
    const { user, booking } = await pendingBooking();

    const response = await pay(user.key, booking.id, 'tok_declined');

    expectProblem(response, 402, 'payment-declined');
  });

  it('leaves a declined booking PENDING and unchanged', async () => {
    const { user, booking } = await pendingBooking();

    await pay(user.key, booking.id, 'tok_declined');

    expect(await getBooking(user.key, booking.id)).toEqual(booking);
  });

  it('leaves the statistics unchanged after a declined payment', async () => {
    const { event, user, booking } = await pendingBooking({ ticket_price: 15 }, 2);
    const before = await eventStats(event.id);

    await pay(user.key, booking.id, 'tok_declined');

    expect(await eventStats(event.id)).toEqual(before);
  });

  it('lets a declined booking be paid with another token: 200 CONFIRMED, revenue counted once', async () => {
    const { event, user, booking } = await pendingBooking({ ticket_price: 15 }, 2);
    await pay(user.key, booking.id, 'tok_declined');

    const response = await pay(user.key, booking.id, 'tok_visa');

    expect(response.status).toBe(200);
    expect(response.body.status).toBe('CONFIRMED');
    expect(await eventStats(event.id)).toMatchObject({ revenue: 30, tickets_sold: 2, tickets_held: 0 });
  });

  it('answers 502 payment-gateway-error for tok_error', async () => {
    const { user, booking } = await pendingBooking();

    const response = await pay(user.key, booking.id, 'tok_error');

    expectProblem(response, 502, 'payment-gateway-error');
  });

  it('leaves the booking and the statistics unchanged after a gateway error', async () => {
    const { event, user, booking } = await pendingBooking({ ticket_price: 15 }, 2);
    const before = await eventStats(event.id);

    await pay(user.key, booking.id, 'tok_error');

    expect(await getBooking(user.key, booking.id)).toEqual(booking);
    expect(await eventStats(event.id)).toEqual(before);
  });

  it('lets a booking be paid after a gateway error', async () => {
    const { user, booking } = await pendingBooking();
    await pay(user.key, booking.id, 'tok_error');

    const response = await pay(user.key, booking.id, 'tok_visa');

    expect(response.status).toBe(200);
    expect(response.body.status).toBe('CONFIRMED');
  });
});

describe('POST /bookings/{id}/payment: invalid requests', () => {
  const invalidBodies: Array<[string, unknown, string]> = [
    ['the token does not start with tok_ ("visa")', { payment_token: 'visa' }, 'payment_token'],
    ['the token is only the prefix ("tok_")', { payment_token: 'tok_' }, 'payment_token'],
    ['the token is upper case ("TOK_X")', { payment_token: 'TOK_X' }, 'payment_token'],
    ['the token has a hyphen ("tok_a-b")', { payment_token: 'tok_a-b' }, 'payment_token'],
    ['the token has upper-case letters after the prefix ("tok_Visa")', { payment_token: 'tok_Visa' }, 'payment_token'],
    ['the token is an empty string', { payment_token: '' }, 'payment_token'],
    ['the token is missing', {}, 'payment_token'],
    ['the token is a number', { payment_token: 42 }, 'payment_token'],
    ['the token is null', { payment_token: null }, 'payment_token'],
    ['the body has an unknown field', { payment_token: 'tok_visa', amount: 1 }, 'amount'],
  ];

  it.each(invalidBodies)('answers 422 naming the field when %s', async (_case, body, path) => {
    const { user, booking } = await pendingBooking();

    const response = await postPayment(user.key, booking.id, body);

    expectFieldProblem(response, path);
  });

  it('leaves the booking PENDING and charges nothing when the body fails validation', async () => {
    const { event, user, booking } = await pendingBooking();

    await postPayment(user.key, booking.id, { payment_token: 'tok_visa', amount: 1 });

    expect(await getBooking(user.key, booking.id)).toEqual(booking);
    expect(await eventStats(event.id)).toMatchObject({ revenue: 0, tickets_sold: 0, bookings_confirmed: 0 });
  });

  it('answers 422 for a body that is a JSON array', async () => {
    const { user, booking } = await pendingBooking();

    const response = await postPayment(user.key, booking.id, ['tok_visa']);

    expectProblem(response, 422);
  });

  it('answers 400 malformed-json when the body is not valid JSON', async () => {
    const { user, booking } = await pendingBooking();

    const response = await api('POST', `/bookings/${booking.id}/payment`, {
      key: user.key,
      raw: '{"payment_token": ',
      headers: { 'content-type': 'application/json' },
    });

    expectProblem(response, 400, 'malformed-json');
  });

  it('answers 415 unsupported-media-type when the body is not sent as application/json', async () => {
    const { user, booking } = await pendingBooking();

    const response = await api('POST', `/bookings/${booking.id}/payment`, {
      key: user.key,
      raw: JSON.stringify({ payment_token: 'tok_visa' }),
      headers: { 'content-type': 'text/plain' },
    });

    expectProblem(response, 415, 'unsupported-media-type');
  });

  it('charges nothing when the body is refused as malformed or of the wrong content type', async () => {
    const { user, booking } = await pendingBooking();
    const path = `/bookings/${booking.id}/payment`;

    await api('POST', path, { key: user.key, raw: '{"payment_token": ', headers: { 'content-type': 'application/json' } });
    await api('POST', path, { key: user.key, raw: JSON.stringify({ payment_token: 'tok_visa' }), headers: { 'content-type': 'text/plain' } });

    expect(await getBooking(user.key, booking.id)).toEqual(booking);
  });
});

describe('POST /bookings/{id}/payment: who may pay', () => {
  it("answers 404 booking-not-found to another user, as if the booking did not exist", async () => {
    const { booking } = await pendingBooking();
    const stranger = await createUser();

    const response = await pay(stranger.key, booking.id);

    expectProblem(response, 404, 'booking-not-found');
  });

  it("leaves the booking PENDING and the revenue 0 when another user tries to pay it", async () => {
    const { event, user, booking } = await pendingBooking();
    const stranger = await createUser();

    await pay(stranger.key, booking.id);

    expect(await getBooking(user.key, booking.id)).toEqual(booking);
    expect(await eventStats(event.id)).toMatchObject({ revenue: 0, bookings_confirmed: 0 });
  });

  it('answers 403 forbidden for the admin key (only the owner pays)', async () => {
    const { user, booking } = await pendingBooking();

    const response = await pay(adminKey(), booking.id);

    expectProblem(response, 403, 'forbidden');
    expect((await getBooking(user.key, booking.id)).status).toBe('PENDING');
  });

  it('answers 401 unauthenticated without a key', async () => {
    const { booking } = await pendingBooking();

    const response = await api('POST', `/bookings/${booking.id}/payment`, { json: { payment_token: 'tok_visa' } });

    expectProblem(response, 401, 'unauthenticated');
  });

  it('answers 401 unauthenticated for a key that was never issued', async () => {
    const { booking } = await pendingBooking();

    const response = await pay('not-a-real-key', booking.id);

    expectProblem(response, 401, 'unauthenticated');
  });

  it('answers 404 booking-not-found for an unknown booking', async () => {
    const user = await createUser();

    const response = await pay(user.key, UNKNOWN_ID);

    expectProblem(response, 404, 'booking-not-found');
  });
});

describe('POST /bookings/{id}/payment: Idempotency-Key', () => {
  it('replays the first response for a retry with the same key and body: same status and body', async () => {
    const { user, booking } = await pendingBooking();

    const first = await pay(user.key, booking.id, 'tok_visa', 'pay-retry-1');
    const retry = await pay(user.key, booking.id, 'tok_visa', 'pay-retry-1');

    expect(first.status).toBe(200);
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(first.body);
  });

  it('charges once for retries with the same key and body: one payment_id, the revenue counted once', async () => {
    const { event, user, booking } = await pendingBooking({ ticket_price: 12.34 }, 2);

    const responses = [];
    for (let i = 0; i < 3; i++) responses.push(await pay(user.key, booking.id, 'tok_visa', 'pay-once'));

    expect(new Set(responses.map((r) => r.body.payment_id)).size).toBe(1);
    expect(await eventStats(event.id)).toMatchObject({ revenue: 24.68, tickets_sold: 2, bookings_confirmed: 1 });
  });

  it('answers 422 idempotency-key-reused for the same key with another token', async () => {
    const { user, booking } = await pendingBooking();
    await pay(user.key, booking.id, 'tok_visa', 'pay-reused');

    const response = await pay(user.key, booking.id, 'tok_mastercard', 'pay-reused');

    expectProblem(response, 422, 'idempotency-key-reused');
  });

  it('replays a declined first attempt as 402 for the same key and body', async () => {
    const { user, booking } = await pendingBooking();
    const first = await pay(user.key, booking.id, 'tok_declined', 'pay-declined');

    const retry = await pay(user.key, booking.id, 'tok_declined', 'pay-declined');

    expectProblem(first, 402, 'payment-declined');
    expect({ status: retry.status, body: retry.body }).toEqual({ status: first.status, body: first.body });
  });

  it('lets a booking declined under one key be paid under a new key', async () => {
    const { user, booking } = await pendingBooking();
    await pay(user.key, booking.id, 'tok_declined', 'pay-declined-then');

    const response = await pay(user.key, booking.id, 'tok_visa', 'pay-declined-then-new');

    expect(response.status).toBe(200);
    expect(response.body.status).toBe('CONFIRMED');
  });

  it('replays the 200 of a paid booking even after it was cancelled, and charges nothing more', async () => {
    const { event, user, booking } = await pendingBooking({ ticket_price: 10 });
    const first = await pay(user.key, booking.id, 'tok_visa', 'pay-then-cancel');
    await cancelBooking(user.key, booking.id);

    const retry = await pay(user.key, booking.id, 'tok_visa', 'pay-then-cancel');

    expect({ status: retry.status, body: retry.body }).toEqual({ status: 200, body: first.body });
    expect(await eventStats(event.id)).toMatchObject({ revenue: 0, tickets_sold: 0, bookings_confirmed: 0 });
  });

  const invalidKeys: Array<[string, string]> = [
    ['256 characters long', 'k'.repeat(256)],
    ['made of spaces', '   '],
    ['not ASCII', 'clé'],
  ];

  it.each(invalidKeys)('answers 422 for an Idempotency-Key that is %s, and charges nothing', async (_case, key) => {
    const { user, booking } = await pendingBooking();

    const response = await pay(user.key, booking.id, 'tok_visa', key);

    expectProblem(response, 422);
    expect((await getBooking(user.key, booking.id)).status).toBe('PENDING');
  });
});

describe('POST /bookings/{id}/cancel of a CONFIRMED booking (a refund)', () => {
  it('answers 200 with the booking CANCELLED by the user', async () => {
    const { user, booking } = await pendingBooking();
    const paid = (await pay(user.key, booking.id)).body;

    const response = await api('POST', `/bookings/${booking.id}/cancel`, { key: user.key });

    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      ...paid,
      status: 'CANCELLED',
      cancelled_at: expect.stringMatching(UTC_TIMESTAMP),
      cancel_reason: 'USER_CANCELLED',
    });
  });

  it('takes the tickets out of tickets_sold and the amount out of revenue, and puts the tickets back on sale', async () => {
    const event = await createEvent({ total_tickets: 30, ticket_price: '19.99' });
    const user = await createUser();
    const kept = await createBooking(user.key, event.id, 2);
    const refunded = await createBooking(user.key, event.id, 3);
    await pay(user.key, kept.id);
    await pay(user.key, refunded.id);

    await cancelBooking(user.key, refunded.id);

    expect(await eventStats(event.id)).toEqual({
      event_id: event.id,
      total_tickets: 30,
      tickets_sold: 2,
      tickets_held: 0,
      tickets_available: 28,
      revenue: 39.98,
      bookings_confirmed: 1,
      bookings_pending: 0,
      bookings_cancelled: 1,
      waitlist_waiting: 0,
      waitlist_tickets: 0,
    });
  });

  it('lets another user book the refunded tickets', async () => {
    const { event, user, booking } = await pendingBooking({ total_tickets: 4 }, 4);
    await pay(user.key, booking.id);
    await cancelBooking(user.key, booking.id);
    const other = await createUser();

    const response = await postBooking(other.key, { event_id: event.id, quantity: 4 });

    expect(response.status).toBe(201);
  });

  it('lets the admin cancel a CONFIRMED booking, with the same refund', async () => {
    const { event, user, booking } = await pendingBooking({ total_tickets: 10, ticket_price: 5 }, 2);
    await pay(user.key, booking.id);

    const response = await api('POST', `/bookings/${booking.id}/cancel`, { key: adminKey() });

    expect(response.status).toBe(200);
    expect(response.body.status).toBe('CANCELLED');
    expect(await eventStats(event.id)).toMatchObject({ tickets_sold: 0, revenue: 0, tickets_available: 10 });
  });

  it('answers 409 invalid-booking-status for cancelling the refunded booking again', async () => {
    const { user, booking } = await pendingBooking();
    await pay(user.key, booking.id);
    await cancelBooking(user.key, booking.id);

    const response = await api('POST', `/bookings/${booking.id}/cancel`, { key: user.key });

    expectProblem(response, 409, 'invalid-booking-status');
  });
});

describe('GET /openapi.json: payment', () => {
  it('documents POST /bookings/{id}/payment', async () => {
    const response = await api('GET', '/openapi.json');

    expect(response.status).toBe(200);
    expect(response.body.paths['/bookings/{id}/payment']).toEqual(expect.objectContaining({ post: expect.any(Object) }));
  });

  it('documents the 200, 402, 404, 409 and 502 responses of the payment', async () => {
    const response = await api('GET', '/openapi.json');

    const documented = Object.keys(response.body.paths['/bookings/{id}/payment'].post.responses);

    expect(documented).toEqual(expect.arrayContaining(['200', '402', '404', '409', '502']));
  });

  it('documents payment_token as the one required field of the request body', async () => {
    const response = await api('GET', '/openapi.json');
    const document = response.body;
    const content = document.paths['/bookings/{id}/payment'].post.requestBody.content['application/json'].schema;
    const schema = content.$ref ? document.components.schemas[content.$ref.split('/').pop()] : content;

    expect(schema.required).toEqual(['payment_token']);
    expect(Object.keys(schema.properties)).toEqual(['payment_token']);
  });
});

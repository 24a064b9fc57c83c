import { expectProblem } from '../support/expectations';
import { UNKNOWN_ID } from '../support/fixtures';
import { inBatches } from '../support/batches';
import { statsFromBookings } from '../support/recount';
import { ONE_EVENT_CONCURRENCY } from '../support/under-the-model';
import { adminKey, api, availableTickets, cancelBooking, createBooking, createEvent, createUser, eventStats, postBooking, walkPages } from './client';

/** What the statistics must say, recounted from the admin's listing of the event's bookings. */
async function recount(event: { id: string; total_tickets: number }) {
  const { items } = await walkPages(`/bookings?event_id=${event.id}`, adminKey(), 100);
  return statsFromBookings(event, items);
}

/** Time enough for a burst of concurrent requests on a small machine. */
const CONCURRENT_TEST_TIMEOUT = 120_000;

const patchTotal = (eventId: string, total: number) =>
  api('PATCH', `/events/${eventId}`, { key: adminKey(), json: { total_tickets: total } });

describe('GET /events/{id}/stats', () => {
  it('returns every statistic of a new event: nothing sold or held, every ticket available', async () => {
    const event = await createEvent({ total_tickets: 120 });

    const response = await api('GET', `/events/${event.id}/stats`, { key: adminKey() });

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(response.body).toEqual({
      event_id: event.id,
      total_tickets: 120,
      tickets_sold: 0,
      tickets_held: 0,
      tickets_available: 120,
      revenue: 0,
      bookings_confirmed: 0,
      bookings_pending: 0,
      bookings_cancelled: 0,
      waitlist_waiting: 0,
      waitlist_tickets: 0,
    });
  });

  it('counts the tickets of PENDING bookings as held, not sold, with revenue 0', async () => {
    const event = await createEvent({ total_tickets: 50, ticket_price: 9.99 });
    const alice = await createUser();
    const bob = await createUser();
    await createBooking(alice.key, event.id, 3);
    await createBooking(bob.key, event.id, 4);

    const stats = await eventStats(event.id);

    expect(stats).toEqual({
      event_id: event.id,
      total_tickets: 50,
      tickets_sold: 0,
      tickets_held: 7,
      tickets_available: 43,
      revenue: 0,
      bookings_confirmed: 0,
      bookings_pending: 2,
      bookings_cancelled: 0,
      waitlist_waiting: 0,
      waitlist_tickets: 0,
    });
  });

  it('moves a cancelled booking from pending to cancelled and its tickets from held to available', async () => {
    const event = await createEvent({ total_tickets: 50 });
    const user = await createUser();
    await createBooking(user.key, event.id, 2);
    const dropped = await createBooking(user.key, event.id, 5);
    await cancelBooking(user.key, dropped.id);

    const stats = await eventStats(event.id);

    expect(stats).toMatchObject({ tickets_held: 2, tickets_available: 48, bookings_pending: 1, bookings_cancelled: 1 });
  });

  it('agrees with a recount of the admin listing after bookings and cancels by several users', async () => {
    const event = await createEvent({ total_tickets: 200, ticket_price: 12.5 });
    const users = [await createUser(), await createUser(), await createUser()];
    const made: Array<{ id: string; key: string }> = [];
    for (const [i, user] of users.entries()) {
      for (const quantity of [1, 2, 3 + i]) made.push({ id: (await createBooking(user.key, event.id, quantity)).id, key: user.key });
    }
    await cancelBooking(made[0]!.key, made[0]!.id);
    await cancelBooking(adminKey(), made[4]!.id);
    await cancelBooking(made[8]!.key, made[8]!.id);

    const stats = await eventStats(event.id);
    const expected = await recount(event);

    expect(stats).toEqual(expected);
    expect(expected).toMatchObject({ bookings_pending: 6, bookings_cancelled: 3 });
  });

  it('keeps tickets_sold + tickets_held + tickets_available equal to total_tickets through bookings, cancels and a PATCH', async () => {
    const event = await createEvent({ total_tickets: 30 });
    const user = await createUser();
    const invariant = async () => {
      const stats = await eventStats(event.id);
      return stats.tickets_sold + stats.tickets_held + stats.tickets_available - stats.total_tickets;
    };
    const booking = await createBooking(user.key, event.id, 6);
    const afterBooking = await invariant();
    await createBooking(user.key, event.id, 4);
    await cancelBooking(user.key, booking.id);
    const afterCancel = await invariant();
    expect((await patchTotal(event.id, 45)).status).toBe(200);

    const afterPatch = await invariant();

    expect([afterBooking, afterCancel, afterPatch]).toEqual([0, 0, 0]);
  });

  it('reports revenue 0 while no booking is CONFIRMED', async () => {
    const event = await createEvent({ ticket_price: 100 });
    const user = await createUser();
    await createBooking(user.key, event.id, 5);

    const stats = await eventStats(event.id);

    expect(stats.revenue).toBe(0);
    expect(stats.tickets_sold).toBe(0);
  });

  it('matches the available_tickets of the event', async () => {
    const event = await createEvent({ total_tickets: 40 });
    const user = await createUser();
    await createBooking(user.key, event.id, 9);

    const stats = await eventStats(event.id);

    expect(stats.tickets_available).toBe(await availableTickets(event.id));
  });

  it('answers 403 forbidden for a user key', async () => {
    const event = await createEvent();
    const user = await createUser();

    const response = await api('GET', `/events/${event.id}/stats`, { key: user.key });

    expectProblem(response, 403, 'forbidden');
  });

  it('answers 401 unauthenticated without a key', async () => {
    const event = await createEvent();

    const response = await api('GET', `/events/${event.id}/stats`);

    expectProblem(response, 401, 'unauthenticated');
  });

  it('answers 401 unauthenticated for a key that was never issued', async () => {
    const event = await createEvent();

    const response = await api('GET', `/events/${event.id}/stats`, { key: 'not-a-real-key' });

    expectProblem(response, 401, 'unauthenticated');
  });

  it('answers 404 event-not-found for an unknown event', async () => {
    const response = await api('GET', `/events/${UNKNOWN_ID}/stats`, { key: adminKey() });

    expectProblem(response, 404, 'event-not-found');
  });
});

describe('events with bookings', () => {
  it('refuses DELETE with 409 event-has-bookings while a PENDING booking exists', async () => {
    const event = await createEvent();
    const user = await createUser();
    await createBooking(user.key, event.id);

    const response = await api('DELETE', `/events/${event.id}`, { key: adminKey() });

    expectProblem(response, 409, 'event-has-bookings');
    expect((await api('GET', `/events/${event.id}`)).status).toBe(200);
  });

  it('deletes the event (204) once its only booking is cancelled', async () => {
    const event = await createEvent();
    const user = await createUser();
    const booking = await createBooking(user.key, event.id);
    await cancelBooking(user.key, booking.id);

    const response = await api('DELETE', `/events/${event.id}`, { key: adminKey() });

    expect(response.status).toBe(204);
    expectProblem(await api('GET', `/events/${event.id}`), 404, 'event-not-found');
  });

  it('refuses a PATCH of total_tickets below the tickets held with 409 tickets-committed, changing nothing', async () => {
    const event = await createEvent({ total_tickets: 10 });
    const user = await createUser();
    await createBooking(user.key, event.id, 6);

    const response = await patchTotal(event.id, 5);

    expectProblem(response, 409, 'tickets-committed');
    expect(await eventStats(event.id)).toMatchObject({ total_tickets: 10, tickets_held: 6, tickets_available: 4 });
  });

  it('accepts a PATCH of total_tickets down to exactly the tickets held, leaving none available', async () => {
    const event = await createEvent({ total_tickets: 10 });
    const user = await createUser();
    await createBooking(user.key, event.id, 6);

    const response = await patchTotal(event.id, 6);

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ total_tickets: 6, available_tickets: 0 });
  });

  it('moves available_tickets by the same delta when total_tickets is raised while bookings exist', async () => {
    const event = await createEvent({ total_tickets: 10 });
    const user = await createUser();
    await createBooking(user.key, event.id, 4);

    const response = await patchTotal(event.id, 15);

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ total_tickets: 15, available_tickets: 11 });
    expect(await eventStats(event.id)).toMatchObject({ total_tickets: 15, tickets_held: 4, tickets_available: 11 });
  });

  it('moves available_tickets by the same delta when total_tickets is lowered while bookings exist', async () => {
    const event = await createEvent({ total_tickets: 10 });
    const user = await createUser();
    await createBooking(user.key, event.id, 4);

    const response = await patchTotal(event.id, 8);

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ total_tickets: 8, available_tickets: 4 });
  });

  it('sells exactly 20 tickets to 60 concurrent requests from 6 users: 20 201s and 40 409 insufficient-tickets', async () => {
    const event = await createEvent({ total_tickets: 20 });
    const users = await Promise.all(Array.from({ length: 6 }, () => createUser()));

    const responses = await Promise.all(
      Array.from({ length: 60 }, (_, i) => postBooking(users[i % 6]!.key, { event_id: event.id, quantity: 1 })),
    );

    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(statuses.filter((s) => s === 201)).toHaveLength(20);
    expect(statuses.filter((s) => s === 409)).toHaveLength(40);
    for (const refused of responses.filter((r) => r.status !== 201)) expectProblem(refused, 409, 'insufficient-tickets');
  }, CONCURRENT_TEST_TIMEOUT);

  it('shows 20 tickets held and none available after 60 concurrent requests for an event of 20', async () => {
    const event = await createEvent({ total_tickets: 20 });
    const users = await Promise.all(Array.from({ length: 6 }, () => createUser()));

    await Promise.all(Array.from({ length: 60 }, (_, i) => postBooking(users[i % 6]!.key, { event_id: event.id, quantity: 1 })));

    expect(await eventStats(event.id)).toMatchObject({ total_tickets: 20, tickets_held: 20, tickets_available: 0, bookings_pending: 20 });
    expect(await recount(event)).toMatchObject({ tickets_held: 20, bookings_pending: 20 });
  }, CONCURRENT_TEST_TIMEOUT);

  it(`sells a storm exactly, ${ONE_EVENT_CONCURRENCY} at a time, while the admin changes the shards and the total, the statistics equal to a recount`, async () => {
    const event = await createEvent({ total_tickets: 150, stock_shards: 3 });
    const users = await Promise.all(Array.from({ length: 10 }, () => createUser()));
    // The lowered total may come too late (the tickets held already); the last change always applies.
    const changes = [{ stock_shards: 12 }, { total_tickets: 170 }, { total_tickets: 160, stock_shards: 5 }, { total_tickets: 180, stock_shards: 9 }];

    const [responses, patches] = await Promise.all([
      inBatches(Array.from({ length: 240 }, (_, i) => i), ONE_EVENT_CONCURRENCY, (i) => postBooking(users[i % 10]!.key, { event_id: event.id, quantity: 1 })),
      (async () => {
        const answers = [];
        for (const json of changes) answers.push(await api('PATCH', `/events/${event.id}`, { key: adminKey(), json }));
        return answers;
      })(),
    ]);

    // A PATCH may be refused (a total below the tickets held), never fail.
    for (const patch of patches) expect([200, 409]).toContain(patch.status);
    const statuses = responses.map((r) => r.status);
    expect(responses.filter((r) => r.status !== 201 && r.status !== 409).map((r) => r.body)).toEqual([]);
    for (const refused of responses.filter((r) => r.status === 409)) expectProblem(refused, 409, 'insufficient-tickets');
    const stats = await eventStats(event.id);
    expect(stats).toEqual(await recount({ id: event.id, total_tickets: stats.total_tickets }));
    expect(stats.tickets_held).toBe(statuses.filter((s) => s === 201).length);
    expect(stats.tickets_held + stats.tickets_available).toBe(stats.total_tickets);
    expect((await api('GET', `/events/${event.id}`)).body.stock_shards).toBe(9);
  }, CONCURRENT_TEST_TIMEOUT);
});

import { type IsolatedStack, startIsolatedStack } from '../../localstack/isolated-stack';
import { expectFieldProblem, expectProblem, UTC_TIMESTAMP } from '../support/expectations';
import { UNKNOWN_ID } from '../support/fixtures';
import { lambdaInvoker } from '../support/lambdas';
import { CLEAR_OF_SWEEP_TIMEOUT_MS, clearOfScheduledSweep, sleep, STACK_START_TIMEOUT } from '../support/time';
import { ONE_EVENT_CONCURRENCY, UNDER_THE_MODEL } from '../support/under-the-model';
import { type ApiResponse, type StackClient, stackClient } from './client';

/**
 * The waiting list (API.md, "Waiting list (v1.1)"), end to end over HTTP: joining,
 * reading, listing and leaving the line, and the offers that tickets coming back
 * make to it (a cancel, an offer that runs out, an offered entry that leaves).
 * This file runs its own stack, under the model of AWS, with the ordinary hold
 * (so that the bookings a test cancels do not run out on their own) and a short
 * offer (WAITLIST_OFFER_SECONDS), so that offers run out during the tests; its
 * output goes to .data/waitlist-stack.log.
 */

const OFFER_SECONDS = 6;
/** "Within seconds": how long an offer, or the end of an offer, may take before a test gives up on it. */
const DEADLINE_MS = 15_000;
/** A test that waits for an offer to run out, and for the next one. */
const FLOW_TIMEOUT_MS = 90_000;

const SWEEP_LINES_FUNCTION = 'ticket-booking-dev-sweepWaitingLists';

let stack: IsolatedStack;
let client: StackClient;
let lambda: ReturnType<typeof lambdaInvoker>;

beforeAll(async () => {
  stack = await startIsolatedStack('waitlist-stack', { waitlistOfferSeconds: OFFER_SECONDS, likeAws: UNDER_THE_MODEL });
  client = stackClient(stack);
  lambda = lambdaInvoker(stack);
}, STACK_START_TIMEOUT);

afterAll(async () => {
  lambda?.destroy();
  await stack?.stop();
});

interface Entry {
  id: string;
  event_id: string;
  user_id: string;
  quantity: number;
  status: 'WAITING' | 'OFFERED' | 'ACCEPTED' | 'EXPIRED' | 'LEFT';
  position: number | null;
  booking_id: string | null;
  offer_expires_at: string | null;
  created_at: string;
  updated_at: string;
}

type User = { id: string; key: string };

const join = (key: string, eventId: string, body: unknown = { quantity: 1 }): Promise<ApiResponse<Entry>> =>
  client.api('POST', `/events/${eventId}/waitlist`, { key, json: body });

/** A WAITING entry, or a thrown error. */
async function joined(user: User, eventId: string, quantity: number): Promise<Entry> {
  const response = await join(user.key, eventId, { quantity });
  if (response.status !== 201) throw new Error(`join: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

const getEntry = (key: string, id: string): Promise<ApiResponse<Entry>> => client.api('GET', `/waitlist/${id}`, { key });
const leave = (key: string, id: string): Promise<ApiResponse> => client.api('DELETE', `/waitlist/${id}`, { key });
const cancel = (key: string, bookingId: string): Promise<ApiResponse> => client.api('POST', `/bookings/${bookingId}/cancel`, { key });
const pay = (key: string, bookingId: string): Promise<ApiResponse> => client.postPayment(key, bookingId, { payment_token: 'tok_ok' });

async function entry(id: string): Promise<Entry> {
  const response = await getEntry(client.adminKey, id);
  if (response.status !== 200) throw new Error(`GET /waitlist/${id}: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

/** Every entry the caller sees for `query` (GET /waitlist), walked `limit` at a time, with the pages. */
async function listAll(key: string, query = '', limit = 100): Promise<{ items: Entry[]; pages: number }> {
  const items: Entry[] = [];
  let cursor: string | null = null;
  for (let pages = 1; pages < 500; pages++) {
    const separator = query === '' ? '?' : '&';
    const path: string = `/waitlist${query}${separator}limit=${limit}` + (cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`);
    const response = await client.api('GET', path, { key });
    if (response.status !== 200) throw new Error(`GET ${path}: ${response.status} ${JSON.stringify(response.body)}`);
    items.push(...response.body.items);
    cursor = response.body.next_cursor;
    if (cursor === null) return { items, pages };
  }
  throw new Error(`GET /waitlist${query} kept returning a next_cursor`);
}

/** Reads the entry until `done` says so, or `deadlineMs` from now, and returns what it read last: the caller asserts on that. */
async function until(id: string, done: (e: Entry) => boolean, deadlineMs = DEADLINE_MS): Promise<Entry> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const current = await entry(id);
    if (done(current) || Date.now() > deadline) return current;
    await sleep(200);
  }
}

/** Reads the event's statistics until `done` says so, or DEADLINE_MS from now; returns what it read last. */
async function statsUntil(eventId: string, done: (s: any) => boolean): Promise<any> {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const stats = await client.eventStats(eventId);
    if (done(stats) || Date.now() > deadline) return stats;
    await sleep(200);
  }
}

const balanced = (s: { tickets_sold: number; tickets_held: number; tickets_available: number; total_tickets: number }) =>
  s.tickets_sold + s.tickets_held + s.tickets_available === s.total_tickets;

/** An event of `total` tickets, all held by a PENDING booking of user A: sold out. */
async function soldOut(total: number, fields: Record<string, unknown> = {}) {
  const event = await client.createEvent({ total_tickets: total, max_per_booking: Math.max(total, 10), ...fields });
  const a = await client.createUser('A');
  const booking = await client.createBooking(a.key, event.id, total);
  return { event, a, booking };
}

type Users<N extends number, T extends User[] = []> = T['length'] extends N ? T : Users<N, [...T, User]>;

/** `n` new users. */
const users = async <N extends number>(n: N): Promise<Users<N>> =>
  (await Promise.all(Array.from({ length: n }, (_, i) => client.createUser(`Waiter ${i + 1}`)))) as unknown as Users<N>;

describe('POST /events/{id}/waitlist', () => {
  it('puts the user in line: 201, Location /waitlist/{id}, WAITING, position 1, 2, 3 in the order they joined', async () => {
    const { event } = await soldOut(2);
    const [u1, u2, u3] = await users(3);

    const responses: ApiResponse<Entry>[] = [];
    for (const [user, quantity] of [[u1, 1], [u2, 2], [u3, 1]] as const) responses.push(await join(user.key, event.id, { quantity }));

    for (const r of responses) {
      expect(r.status).toBe(201);
      expect(r.headers.get('content-type')).toContain('application/json');
      expect(r.headers.get('location')).toBe(`/waitlist/${r.body.id}`);
    }
    expect(responses[0]!.body).toEqual({
      id: expect.any(String),
      event_id: event.id,
      user_id: u1.id,
      quantity: 1,
      status: 'WAITING',
      position: 1,
      booking_id: null,
      offer_expires_at: null,
      created_at: expect.stringMatching(UTC_TIMESTAMP),
      updated_at: expect.stringMatching(UTC_TIMESTAMP),
    });
    expect(responses.map((r) => [r.body.user_id, r.body.quantity, r.body.position])).toEqual([
      [u1.id, 1, 1],
      [u2.id, 2, 2],
      [u3.id, 1, 3],
    ]);
    const fetched = await client.api('GET', responses[2]!.headers.get('location')!, { key: u3.key });
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(responses[2]!.body);
  });

  it('answers 409 tickets-available while that many tickets are on sale (book them instead)', async () => {
    const event = await client.createEvent({ total_tickets: 10 });
    const user = await client.createUser();

    const response = await join(user.key, event.id, { quantity: 2 });

    expectProblem(response, 409, 'tickets-available');
    expect((await listAll(user.key)).items).toEqual([]);
  });

  it('lets the user wait for more tickets than are on sale', async () => {
    const event = await client.createEvent({ total_tickets: 3 });
    const [a, b] = await users(2);
    await client.createBooking(a.key, event.id, 2);

    const response = await join(b.key, event.id, { quantity: 2 });

    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ status: 'WAITING', quantity: 2, position: 1 });
  });

  it('answers 409 already-waiting to a second join of the same user, whatever the quantity', async () => {
    const { event } = await soldOut(2);
    const user = await client.createUser();
    const first = await joined(user, event.id, 1);

    const again = await join(user.key, event.id, { quantity: 2 });

    expectProblem(again, 409, 'already-waiting');
    expect((await listAll(user.key)).items.map((e) => e.id)).toEqual([first.id]);
  });

  it('answers 404 event-not-found for an unknown event', async () => {
    const user = await client.createUser();

    expectProblem(await join(user.key, UNKNOWN_ID, { quantity: 1 }), 404, 'event-not-found');
  });

  it("answers 422 naming quantity for more than the event's max_per_booking", async () => {
    const { event } = await soldOut(2, { max_per_booking: 2 });
    const user = await client.createUser();

    expectFieldProblem(await join(user.key, event.id, { quantity: 3 }), 'quantity');
    expect((await listAll(user.key)).items).toEqual([]);
  });

  const invalidBodies: Array<[string, unknown, string]> = [
    ['the body has an unknown field', { quantity: 1, seat: 'A1' }, 'seat'],
    ['the body sets the read-only status', { quantity: 1, status: 'OFFERED' }, 'status'],
    ['quantity is 0', { quantity: 0 }, 'quantity'],
    ['quantity is 101', { quantity: 101 }, 'quantity'],
    ['quantity is 1.5', { quantity: 1.5 }, 'quantity'],
    ['quantity is missing', {}, 'quantity'],
  ];

  it.each(invalidBodies)('answers 422 naming the field when %s', async (_case, body, path) => {
    const { event } = await soldOut(1);
    const user = await client.createUser();

    expectFieldProblem(await join(user.key, event.id, body), path);
  });

  it("answers 409 per-user-limit when the tickets wanted would take the user over the event's max_per_user", async () => {
    const event = await client.createEvent({ total_tickets: 2, max_per_user: 2 });
    const user = await client.createUser();
    await client.createBooking(user.key, event.id, 2);

    expectProblem(await join(user.key, event.id, { quantity: 1 }), 409, 'per-user-limit');
  });

  it('answers 409 event-started once the event has started', async () => {
    const event = await client.createEvent({ total_tickets: 1, date_time: new Date(Date.now() + 3_000).toISOString() });
    const user = await client.createUser();
    await sleep(Math.max(0, Date.parse(event.date_time) - Date.now()) + 200);

    expectProblem(await join(user.key, event.id, { quantity: 1 }), 409, 'event-started');
  });

  it('answers 401 unauthenticated without a key', async () => {
    const { event } = await soldOut(1);

    expectProblem(await client.api('POST', `/events/${event.id}/waitlist`, { json: { quantity: 1 } }), 401, 'unauthenticated');
  });

  it('answers 403 forbidden to the admin, who has no user account to queue with', async () => {
    const { event } = await soldOut(1);

    expectProblem(await join(client.adminKey, event.id, { quantity: 1 }), 403, 'forbidden');
    expect(await client.eventStats(event.id)).toMatchObject({ waitlist_waiting: 0, waitlist_tickets: 0 });
  });
});

describe('GET /waitlist/{id}', () => {
  it('shows the entry to its owner and to the admin; 404 waitlist-entry-not-found to anyone else and for an unknown id', async () => {
    const { event } = await soldOut(1);
    const [owner, other] = await users(2);
    const mine = await joined(owner, event.id, 1);

    const byOwner = await getEntry(owner.key, mine.id);
    const byAdmin = await getEntry(client.adminKey, mine.id);

    expect(byOwner.status).toBe(200);
    expect(byOwner.body).toEqual(mine);
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body).toEqual(mine);
    expectProblem(await getEntry(other.key, mine.id), 404, 'waitlist-entry-not-found');
    expectProblem(await getEntry(owner.key, UNKNOWN_ID), 404, 'waitlist-entry-not-found');
    expectProblem(await client.api('GET', `/waitlist/${mine.id}`), 401, 'unauthenticated');
  });
});

describe('GET /waitlist', () => {
  let events: any[];
  let u1: User;
  let u2: User;
  /** u1's entries for both events, u2's for the first (its second one LEFT), in the order they joined. */
  let entries: Entry[];

  beforeAll(async () => {
    events = [(await soldOut(1)).event, (await soldOut(1)).event];
    [u1, u2] = await users(2);
    entries = [];
    entries.push(await joined(u1, events[0].id, 1));
    entries.push(await joined(u2, events[0].id, 1));
    entries.push(await joined(u1, events[1].id, 1));
    entries.push(await joined(u2, events[1].id, 1));
    const left = await leave(u2.key, entries[3]!.id);
    if (left.status !== 204) throw new Error(`leave: ${left.status} ${JSON.stringify(left.body)}`);
  }, 60_000);

  it("shows a user their own entries only, newest first", async () => {
    const response = await client.api('GET', '/waitlist', { key: u1.key });

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ items: [await entry(entries[2]!.id), await entry(entries[0]!.id)], next_cursor: null });
    expect((await listAll(u2.key)).items.map((e) => [e.id, e.status])).toEqual([
      [entries[3]!.id, 'LEFT'],
      [entries[1]!.id, 'WAITING'],
    ]);
  });

  it('lets a user filter their own entries by event and status', async () => {
    expect((await listAll(u2.key, `?event_id=${events[0].id}`)).items.map((e) => e.id)).toEqual([entries[1]!.id]);
    expect((await listAll(u2.key, '?status=LEFT')).items.map((e) => e.id)).toEqual([entries[3]!.id]);
    expect((await listAll(u1.key, `?event_id=${events[1].id}&status=LEFT`)).items).toEqual([]);
  });

  it("shows the admin everyone's entries, filtered by ?event_id= and ?status=", async () => {
    const all = (await listAll(client.adminKey)).items.map((e) => e.id);
    const ofFirst = (await listAll(client.adminKey, `?event_id=${events[0].id}`)).items;
    const waitingOfSecond = (await listAll(client.adminKey, `?event_id=${events[1].id}&status=WAITING`)).items;
    const left = (await listAll(client.adminKey, '?status=LEFT')).items;

    expect(all).toEqual(expect.arrayContaining(entries.map((e) => e.id)));
    expect(ofFirst.map((e) => e.id)).toEqual([entries[1]!.id, entries[0]!.id]);
    expect(ofFirst.map((e) => e.position)).toEqual([2, 1]);
    expect(waitingOfSecond.map((e) => e.id)).toEqual([entries[2]!.id]);
    expect(left.map((e) => e.id)).toContain(entries[3]!.id);
    expect(left.filter((e) => e.status !== 'LEFT')).toEqual([]);
  });

  it('pages: ?limit= entries a page, the next_cursor to the next, every entry once, newest first', async () => {
    const { items, pages } = await listAll(client.adminKey, `?event_id=${events[0].id}`, 1);
    const admin = await listAll(client.adminKey, '', 2);
    const user = await listAll(u2.key, '', 1);

    expect(items.map((e) => e.id)).toEqual([entries[1]!.id, entries[0]!.id]);
    expect(pages).toBe(2);
    expect(user.items.map((e) => e.id)).toEqual([entries[3]!.id, entries[1]!.id]);
    expect(new Set(admin.items.map((e) => e.id)).size).toBe(admin.items.length);
    expect(admin.items.map((e) => e.id)).toEqual(expect.arrayContaining(entries.map((e) => e.id)));
    expect(admin.items.every((e, i) => i === 0 || admin.items[i - 1]!.created_at >= e.created_at)).toBe(true);
  });

  it('answers 422 for an unknown status or a limit out of range, and 401 without a key', async () => {
    expectFieldProblem(await client.api('GET', '/waitlist?status=SOMEWHERE', { key: u1.key }), 'status');
    expectFieldProblem(await client.api('GET', '/waitlist?limit=101', { key: u1.key }), 'limit');
    expectProblem(await client.api('GET', '/waitlist'), 401, 'unauthenticated');
  });
});

describe('a crowd joining at once', () => {
  it(`puts ${ONE_EVENT_CONCURRENCY} users joining one event at once in line, each once, at positions 1..${ONE_EVENT_CONCURRENCY}; deleting the event ends them all`, async () => {
    const { event, a, booking } = await soldOut(1);
    const crowd = await users(ONE_EVENT_CONCURRENCY);

    const responses = await Promise.all(crowd.map((user) => join(user.key, event.id, { quantity: 2 })));

    expect(responses.map((r) => r.status)).toEqual(crowd.map(() => 201));
    const entries = await Promise.all(responses.map((r) => entry(r.body.id)));
    expect(entries.map((e) => e.position).sort((x, y) => x! - y!)).toEqual(crowd.map((_, i) => i + 1));
    expect(await client.eventStats(event.id)).toMatchObject({ waitlist_waiting: ONE_EVENT_CONCURRENCY, waitlist_tickets: 2 * ONE_EVENT_CONCURRENCY });

    await cancel(a.key, booking.id);
    const deleted = await client.api('DELETE', `/events/${event.id}`, { key: client.adminKey });

    expect(deleted.status).toBe(204);
    const ended = await Promise.all(responses.map((r) => entry(r.body.id)));
    expect(ended.filter((e) => e.status !== 'LEFT').map((e) => [e.id, e.status])).toEqual([]);
  }, FLOW_TIMEOUT_MS);
});

describe('DELETE /waitlist/{id}', () => {
  it('ends a WAITING entry: 204, LEFT, the ones behind move up; 409 waitlist-entry-ended after', async () => {
    const { event } = await soldOut(2);
    const [u1, u2, u3] = await users(3);
    const first = await joined(u1, event.id, 1);
    const second = await joined(u2, event.id, 2);
    const third = await joined(u3, event.id, 1);

    const response = await leave(u1.key, first.id);

    expect(response.status).toBe(204);
    expect(response.body).toBeUndefined();
    expect(await entry(first.id)).toMatchObject({ status: 'LEFT', position: null, booking_id: null });
    expect([(await entry(second.id)).position, (await entry(third.id)).position]).toEqual([1, 2]);
    expect(await client.eventStats(event.id)).toMatchObject({ waitlist_waiting: 2, waitlist_tickets: 3 });
    expectProblem(await leave(u1.key, first.id), 409, 'waitlist-entry-ended');
  });

  it('lets the user join again once they have left', async () => {
    const { event } = await soldOut(1);
    const user = await client.createUser();
    const first = await joined(user, event.id, 1);
    await leave(user.key, first.id);

    const again = await join(user.key, event.id, { quantity: 1 });

    expect(again.status).toBe(201);
    expect(again.body).toMatchObject({ status: 'WAITING', position: 1 });
    expect(again.body.id).not.toBe(first.id);
  });

  it("lets the admin end anyone's entry; 404 waitlist-entry-not-found to another user", async () => {
    const { event } = await soldOut(1);
    const [owner, other] = await users(2);
    const mine = await joined(owner, event.id, 1);

    expectProblem(await leave(other.key, mine.id), 404, 'waitlist-entry-not-found');
    expect((await entry(mine.id)).status).toBe('WAITING');
    expect((await leave(client.adminKey, mine.id)).status).toBe(204);
    expect((await entry(mine.id)).status).toBe('LEFT');
    expectProblem(await leave(owner.key, UNKNOWN_ID), 404, 'waitlist-entry-not-found');
  });
});

describe('GET /events/{id}/stats', () => {
  it('counts the WAITING entries and the tickets they want; sold + held + available == total', async () => {
    const { event } = await soldOut(3, { max_per_booking: 3 });
    const [u1, u2] = await users(2);
    const before = await client.eventStats(event.id);
    await joined(u1, event.id, 2);
    await joined(u2, event.id, 3);

    const stats = await client.eventStats(event.id);

    expect(before).toMatchObject({ waitlist_waiting: 0, waitlist_tickets: 0 });
    expect(stats).toMatchObject({ total_tickets: 3, tickets_sold: 0, tickets_held: 3, tickets_available: 0, waitlist_waiting: 2, waitlist_tickets: 5 });
    expect(balanced(stats)).toBe(true);
  });
});

describe('tickets coming back', () => {
  it('offers a cancelled booking’s tickets to the first in line, whom nobody outside can outbuy; paid, the entry is ACCEPTED', async () => {
    const { event, a, booking } = await soldOut(2);
    const [b, c] = await users(2);
    const waiting = await joined(b, event.id, 2);

    const cancelled = await cancel(a.key, booking.id);
    const outsider = await client.postBooking(c.key, { event_id: event.id, quantity: 1 });
    const between = await client.eventStats(event.id);
    const offered = await until(waiting.id, (e) => e.status === 'OFFERED');

    expect(cancelled.status).toBe(200);
    expectProblem(outsider, 409, 'insufficient-tickets');
    expect(between).toMatchObject({ tickets_held: 2, tickets_available: 0 });
    expect(balanced(between)).toBe(true);
    expect(offered).toEqual({
      ...waiting,
      status: 'OFFERED',
      position: null,
      booking_id: expect.any(String),
      offer_expires_at: expect.stringMatching(UTC_TIMESTAMP),
      updated_at: expect.stringMatching(UTC_TIMESTAMP),
    });
    const offer = await client.getBooking(b.key, offered.booking_id!);
    expect(offer).toMatchObject({ event_id: event.id, user_id: b.id, quantity: 2, status: 'PENDING', expires_at: offered.offer_expires_at });
    expect(Date.parse(offer.expires_at) - Date.parse(offer.created_at)).toBe(OFFER_SECONDS * 1000);
    expectProblem(await client.postBooking(c.key, { event_id: event.id, quantity: 1 }), 409, 'insufficient-tickets');
    expectProblem(await join(b.key, event.id, { quantity: 1 }), 409, 'already-waiting');
    const whileOffered = await client.eventStats(event.id);
    expect(whileOffered).toMatchObject({ tickets_held: 2, tickets_available: 0, bookings_pending: 1, waitlist_waiting: 0, waitlist_tickets: 0 });
    expect(balanced(whileOffered)).toBe(true);

    const paid = await pay(b.key, offer.id);

    expect(paid.status).toBe(200);
    expect(paid.body).toMatchObject({ id: offer.id, status: 'CONFIRMED' });
    expect(await entry(waiting.id)).toMatchObject({ status: 'ACCEPTED', booking_id: offer.id, position: null });
    const after = await client.eventStats(event.id);
    expect(after).toMatchObject({ tickets_sold: 2, tickets_held: 0, tickets_available: 0, bookings_confirmed: 1, bookings_pending: 0 });
    expect(balanced(after)).toBe(true);
    expectProblem(await leave(b.key, waiting.id), 409, 'waitlist-entry-ended');
  }, FLOW_TIMEOUT_MS);

  it('ends an offer that runs out unpaid (EXPIRED, its booking PAYMENT_TIMEOUT) and offers the tickets to the next in line', async () => {
    const { event, a, booking } = await soldOut(2);
    const [b, d] = await users(2);
    const first = await joined(b, event.id, 2);
    const second = await joined(d, event.id, 2);

    await cancel(a.key, booking.id);
    const offered = await until(first.id, (e) => e.status === 'OFFERED');
    const behind = await entry(second.id);
    const expired = await until(first.id, (e) => e.status !== 'OFFERED', Math.max(0, Date.parse(offered.offer_expires_at ?? '') - Date.now()) + DEADLINE_MS);
    const next = await until(second.id, (e) => e.status === 'OFFERED');

    expect(offered.status).toBe('OFFERED');
    expect(behind).toMatchObject({ status: 'WAITING', position: 1 });
    expect(expired).toMatchObject({ status: 'EXPIRED', booking_id: offered.booking_id, position: null });
    expect(await client.getBooking(b.key, offered.booking_id!)).toMatchObject({ status: 'CANCELLED', cancel_reason: 'PAYMENT_TIMEOUT' });
    expectProblem(await pay(b.key, offered.booking_id!), 409);
    expect(next).toMatchObject({ status: 'OFFERED', booking_id: expect.any(String) });
    expect(next.booking_id).not.toBe(offered.booking_id);
    expect(await client.getBooking(d.key, next.booking_id!)).toMatchObject({ user_id: d.id, quantity: 2, status: 'PENDING' });
    const stats = await client.eventStats(event.id);
    expect(stats).toMatchObject({ tickets_held: 2, tickets_available: 0, bookings_pending: 1, waitlist_waiting: 0 });
    expect(balanced(stats)).toBe(true);
    // The line is done with B: B may wait again, behind nobody.
    expect((await join(b.key, event.id, { quantity: 2 })).body).toMatchObject({ status: 'WAITING', position: 1 });
    expectProblem(await leave(b.key, first.id), 409, 'waitlist-entry-ended');
  }, FLOW_TIMEOUT_MS);

  it('cancels the booking of an OFFERED entry that leaves, and offers its tickets to the next in line; the last to leave puts them back on sale', async () => {
    const { event, a, booking } = await soldOut(2);
    const [b, d, c] = await users(3);
    const first = await joined(b, event.id, 2);
    const second = await joined(d, event.id, 2);
    await cancel(a.key, booking.id);
    const offered = await until(first.id, (e) => e.status === 'OFFERED');

    const left = await leave(b.key, first.id);
    const next = await until(second.id, (e) => e.status === 'OFFERED');

    expect(left.status).toBe(204);
    expect(await entry(first.id)).toMatchObject({ status: 'LEFT', booking_id: offered.booking_id, position: null });
    expect(await client.getBooking(b.key, offered.booking_id!)).toMatchObject({ status: 'CANCELLED', cancel_reason: 'USER_CANCELLED' });
    expect(next).toMatchObject({ status: 'OFFERED', booking_id: expect.any(String) });

    // Nobody waits any more: the tickets the last offer gives back go on sale again.
    expect((await leave(d.key, second.id)).status).toBe(204);
    expect(await client.getBooking(d.key, next.booking_id!)).toMatchObject({ status: 'CANCELLED' });
    const stats = await statsUntil(event.id, (s) => s.tickets_available === 2);
    expect(stats).toMatchObject({ tickets_available: 2, tickets_held: 0, bookings_pending: 0, waitlist_waiting: 0 });
    expect(balanced(stats)).toBe(true);
    const resold = await client.createBooking(c.key, event.id, 2);
    expect(resold).toMatchObject({ status: 'PENDING' });

    // The line, closed once nobody waited, opens again with the next to join.
    const e = await client.createUser();
    const newcomer = await joined(e, event.id, 2);
    await cancel(c.key, resold.id);
    expect(newcomer.position).toBe(1);
    expect(await until(newcomer.id, (x) => x.status === 'OFFERED')).toMatchObject({ status: 'OFFERED' });
  }, FLOW_TIMEOUT_MS);

  it('ends an OFFERED entry whose booking is cancelled (EXPIRED); with nobody else in line, its tickets go back on sale', async () => {
    const { event, a, booking } = await soldOut(1);
    const b = await client.createUser();
    const waiting = await joined(b, event.id, 1);
    await cancel(a.key, booking.id);
    const offered = await until(waiting.id, (e) => e.status === 'OFFERED');

    const cancelled = await cancel(b.key, offered.booking_id!);

    expect(cancelled.status).toBe(200);
    expect(await entry(waiting.id)).toMatchObject({ status: 'EXPIRED', booking_id: offered.booking_id });
    expectProblem(await leave(b.key, waiting.id), 409, 'waitlist-entry-ended');
    const stats = await statsUntil(event.id, (x) => x.tickets_available === 1);
    expect(stats).toMatchObject({ tickets_available: 1, tickets_held: 0, bookings_pending: 0, waitlist_waiting: 0 });
    expect(balanced(stats)).toBe(true);
  }, FLOW_TIMEOUT_MS);

  it('skips an entry that does not fit for a smaller one behind it, and keeps the ticket from outside buyers', async () => {
    const event = await client.createEvent({ total_tickets: 3 });
    const [a, big, small, c] = await users(4);
    const held = await client.createBooking(a.key, event.id, 1);
    await client.createBooking(a.key, event.id, 2);
    const first = await joined(big, event.id, 3);
    const second = await joined(small, event.id, 1);

    await cancel(a.key, held.id);
    const offered = await until(second.id, (e) => e.status === 'OFFERED');

    expect(offered).toMatchObject({ status: 'OFFERED' });
    expect(await entry(first.id)).toMatchObject({ status: 'WAITING', position: 1 });
    expectProblem(await client.postBooking(c.key, { event_id: event.id, quantity: 1 }), 409, 'insufficient-tickets');
  }, FLOW_TIMEOUT_MS);

  it("skips an entry whose user would go over max_per_user, offers to the next, and sells on the rest", async () => {
    const event = await client.createEvent({ total_tickets: 4, max_per_user: 2 });
    const [a, z, x, y] = await users(4);
    const held = await client.createBooking(a.key, event.id, 2);
    await client.createBooking(z.key, event.id, 1);
    const capped = await joined(x, event.id, 2);
    // Joined with room for 2; one ticket bought since leaves room for 1.
    await client.createBooking(x.key, event.id, 1);
    const next = await joined(y, event.id, 1);

    await cancel(a.key, held.id);
    const offered = await until(next.id, (e) => e.status === 'OFFERED');
    const stats = await statsUntil(event.id, (st) => st.tickets_available === 1);

    expect(offered).toMatchObject({ status: 'OFFERED', quantity: 1 });
    expect(await entry(capped.id)).toMatchObject({ status: 'WAITING', position: 1, booking_id: null });
    expect(stats).toMatchObject({ tickets_available: 1, tickets_held: 3, bookings_pending: 3, waitlist_waiting: 1, waitlist_tickets: 2 });
    expect(balanced(stats)).toBe(true);
  }, FLOW_TIMEOUT_MS);

  it('puts tickets that no waiting entry fits back on sale', async () => {
    const { event, a, booking } = await soldOut(2);
    const [b, c] = await users(2);
    const waiting = await joined(b, event.id, 3);

    await cancel(a.key, booking.id);
    const stats = await statsUntil(event.id, (s) => s.tickets_available === 2);

    expect(stats).toMatchObject({ tickets_available: 2, tickets_held: 0, waitlist_waiting: 1, waitlist_tickets: 3 });
    expect(await entry(waiting.id)).toMatchObject({ status: 'WAITING', position: 1 });
    expect(await client.createBooking(c.key, event.id, 2)).toMatchObject({ status: 'PENDING' });
  }, FLOW_TIMEOUT_MS);

  // The release takes its shard's tickets on sale into the line's hands too (lib/store/stock.ts, countAction).
  it('keeps the tickets on sale that, with the ones released, make an entry fit, from anyone outside the line', async () => {
    const event = await client.createEvent({ total_tickets: 3 });
    const [a, x, b, c] = await users(4);
    const released = await client.createBooking(a.key, event.id, 1);
    await client.createBooking(x.key, event.id, 1);
    const waiting = await joined(b, event.id, 2);

    await cancel(a.key, released.id);
    const outsider = await client.postBooking(c.key, { event_id: event.id, quantity: 1 });
    const offered = await until(waiting.id, (e) => e.status === 'OFFERED');

    expectProblem(outsider, 409, 'insufficient-tickets');
    expect(offered).toMatchObject({ status: 'OFFERED', quantity: 2 });
  }, FLOW_TIMEOUT_MS);

  it('offers the tickets a raised total_tickets adds to the line first', async () => {
    const { event } = await soldOut(2);
    const [b, c] = await users(2);
    const waiting = await joined(b, event.id, 2);

    const patched = await client.api('PATCH', `/events/${event.id}`, { key: client.adminKey, json: { total_tickets: 4 } });
    const outsider = await client.postBooking(c.key, { event_id: event.id, quantity: 1 });
    const offered = await until(waiting.id, (e) => e.status === 'OFFERED');

    expect(patched.status).toBe(200);
    expectProblem(outsider, 409, 'insufficient-tickets');
    expect(offered).toMatchObject({ status: 'OFFERED', booking_id: expect.any(String) });
    const stats = await client.eventStats(event.id);
    expect(stats).toMatchObject({ total_tickets: 4, tickets_held: 4, tickets_available: 0, bookings_pending: 2, waitlist_waiting: 0 });
    expect(balanced(stats)).toBe(true);
  }, FLOW_TIMEOUT_MS);

  it('offers released tickets within seconds from the stream alone, with no sweep', async () => {
    // Clear of the scheduled sweep (every minute): only the stream may make this offer.
    await clearOfScheduledSweep(DEADLINE_MS + 10_000);
    const { event, a, booking } = await soldOut(2);
    const b = await client.createUser();
    const waiting = await joined(b, event.id, 2);
    // The entry's own record starts an offer step too (the stream delivers it in about
    // 1.25 s): it must have come and gone, finding nothing to offer, before the release.
    await sleep(4_000);
    const before = await entry(waiting.id);

    await cancel(a.key, booking.id);
    const offered = await until(waiting.id, (e) => e.status === 'OFFERED');

    expect(before.status).toBe('WAITING');
    expect(offered).toMatchObject({ status: 'OFFERED', booking_id: expect.any(String) });
  }, CLEAR_OF_SWEEP_TIMEOUT_MS);

  it('makes one offer when the sweeper (the backstop) and the stream step race on one release', async () => {
    const { event, a, booking } = await soldOut(2);
    const b = await client.createUser();
    const waiting = await joined(b, event.id, 2);

    await cancel(a.key, booking.id);
    const swept = await Promise.all([lambda.invoke(SWEEP_LINES_FUNCTION, {}), lambda.invoke(SWEEP_LINES_FUNCTION, {})]);
    const offered = await until(waiting.id, (e) => e.status === 'OFFERED');
    const again = await lambda.invoke(SWEEP_LINES_FUNCTION, {});

    expect(swept.map((s) => s.error)).toEqual([undefined, undefined]);
    expect(swept[0]!.result).toEqual({ lines: expect.any(Number), offered: expect.any(Number), returned: expect.any(Number) });
    expect(again.error).toBeUndefined();
    expect(offered).toMatchObject({ status: 'OFFERED', booking_id: expect.any(String) });
    expect(await entry(waiting.id)).toEqual(offered);
    const pending = (await client.eventBookings(event.id)).filter((x) => x.status === 'PENDING');
    expect(pending.map((x) => [x.id, x.user_id, x.quantity])).toEqual([[offered.booking_id, b.id, 2]]);
    const stats = await client.eventStats(event.id);
    expect(stats).toMatchObject({ tickets_held: 2, tickets_available: 0, bookings_pending: 1, bookings_cancelled: 1 });
    expect(balanced(stats)).toBe(true);
  }, FLOW_TIMEOUT_MS);
});

describe('DELETE /events/{id}', () => {
  it('ends the WAITING entries of a deleted event (LEFT), once its bookings are cancelled', async () => {
    const { event, a, booking } = await soldOut(2);
    const [b, d] = await users(2);
    const first = await joined(b, event.id, 3);
    const second = await joined(d, event.id, 3);
    await cancel(a.key, booking.id);

    const deleted = await client.api('DELETE', `/events/${event.id}`, { key: client.adminKey });

    expect(deleted.status).toBe(204);
    expect(await entry(first.id)).toMatchObject({ status: 'LEFT', position: null });
    expect(await entry(second.id)).toMatchObject({ status: 'LEFT', position: null });
    expect((await listAll(client.adminKey, `?event_id=${event.id}&status=WAITING`)).items).toEqual([]);
    expectProblem(await leave(b.key, first.id), 409, 'waitlist-entry-ended');
  });
});

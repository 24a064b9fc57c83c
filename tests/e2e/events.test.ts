import { expectFieldProblem, expectProblem, UTC_TIMESTAMP } from '../support/expectations';
import { inDays, UNKNOWN_ID } from '../support/fixtures';
import { sleep } from '../support/time';
import { adminKey, api, baseUrl, createEvent, createUser, walkPages } from './client';

/** A year safely ahead of now, for dates written out by hand. */
const FUTURE_YEAR = new Date().getUTCFullYear() + 3;

/** A valid creation body, with overrides. */
const eventBody = (fields: Record<string, unknown> = {}) => ({
  name: 'Test concert',
  date_time: inDays(30),
  total_tickets: 100,
  ticket_price: 25,
  ...fields,
});

const postEvent = (body: unknown, key: string = adminKey()) => api('POST', '/events', { json: body, key });
const patchEvent = (id: string, body: unknown, key: string = adminKey()) => api('PATCH', `/events/${id}`, { json: body, key });

/** Every page of GET /events, following next_cursor until it is null. */
const walkEvents = (limit: number) => walkPages('/events', undefined, limit);

const isNonDecreasing = (dates: string[]) => dates.every((date, i) => i === 0 || Date.parse(dates[i - 1]!) <= Date.parse(date));

/** Everything but updated_at, to compare an event before and after a PATCH. */
const withoutUpdatedAt = (event: Record<string, unknown>) => {
  const rest = { ...event };
  delete rest.updated_at;
  return rest;
};

describe('POST /events', () => {
  it('creates an event: 201, Location /events/{id}, and every field of the Event', async () => {
    const dateTime = inDays(45);
    const response = await postEvent({
      name: 'Jazz night',
      description: 'Quartet and friends',
      date_time: dateTime,
      total_tickets: 250,
      ticket_price: 49.99,
      max_per_booking: 6,
      max_per_user: 12,
    });

    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(response.body).toEqual({
      id: expect.any(String),
      name: 'Jazz night',
      description: 'Quartet and friends',
      date_time: dateTime,
      total_tickets: 250,
      ticket_price: 49.99,
      available_tickets: 250,
      max_per_booking: 6,
      max_per_user: 12,
      // One stock shard per started 100 tickets when the admin does not choose.
      stock_shards: 3,
      created_at: expect.stringMatching(UTC_TIMESTAMP),
      updated_at: expect.stringMatching(UTC_TIMESTAMP),
    });
    expect(response.headers.get('location')).toBe(`/events/${response.body.id}`);
  });

  it('spreads the stock over the shards the admin chose, or over one per started 100 tickets, at most 100', async () => {
    const chosen = await postEvent(eventBody({ total_tickets: 10, stock_shards: 7 }));
    const small = await postEvent(eventBody({ total_tickets: 100 }));
    const large = await postEvent(eventBody({ total_tickets: 120_000 }));

    expect([chosen.status, small.status, large.status]).toEqual([201, 201, 201]);
    expect([chosen.body.stock_shards, small.body.stock_shards, large.body.stock_shards]).toEqual([7, 1, 100]);
    expect(chosen.body.available_tickets).toBe(10);
  });

  it('makes the created event readable at its Location', async () => {
    const created = await postEvent(eventBody());

    const fetched = await api('GET', created.headers.get('location')!);

    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(created.body);
  });

  it('defaults description to "", max_per_booking to 10 and max_per_user to null', async () => {
    const response = await postEvent({ name: 'Defaults', date_time: inDays(10), total_tickets: 5, ticket_price: 1 });

    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ description: '', max_per_booking: 10, max_per_user: null });
  });

  it('starts with every ticket available', async () => {
    const response = await postEvent(eventBody({ total_tickets: 777 }));

    expect(response.status).toBe(201);
    expect(response.body.available_tickets).toBe(777);
    expect(response.body.total_tickets).toBe(777);
  });

  it('accepts ticket_price as a decimal string', async () => {
    const response = await postEvent(eventBody({ ticket_price: '19.99' }));

    expect(response.status).toBe(201);
    expect(response.body.ticket_price).toBe(19.99);
  });

  it('accepts a free event with ticket_price 0', async () => {
    const response = await postEvent(eventBody({ ticket_price: 0 }));

    expect(response.status).toBe(201);
    expect(response.body.ticket_price).toBe(0);
  });

  it('accepts the maximum ticket_price of 1000000', async () => {
    const response = await postEvent(eventBody({ ticket_price: 1_000_000 }));

    expect(response.status).toBe(201);
    expect(response.body.ticket_price).toBe(1_000_000);
  });

  it('returns a ticket_price of 0.1 as exactly 0.1 in the JSON text', async () => {
    const created = await postEvent(eventBody({ ticket_price: 0.1 }));
    expect(created.status).toBe(201);

    const raw = await fetch(`${baseUrl()}/events/${created.body.id}`);
    const text = await raw.text();

    expect(created.body.ticket_price).toBe(0.1);
    expect(text).toMatch(/"ticket_price":0\.1[,}]/);
  });

  it('returns a date_time sent with an offset in UTC with a Z suffix', async () => {
    const response = await postEvent(eventBody({ date_time: `${FUTURE_YEAR}-05-01T21:30:00+02:00` }));

    expect(response.status).toBe(201);
    expect(response.body.date_time).toBe(`${FUTURE_YEAR}-05-01T19:30:00.000Z`);
  });

  it('accepts every field at its lower bound', async () => {
    const response = await postEvent(
      eventBody({ name: 'x', description: '', total_tickets: 1, ticket_price: 0, max_per_booking: 1, max_per_user: 1, stock_shards: 1 }),
    );

    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ name: 'x', description: '', total_tickets: 1, ticket_price: 0, max_per_booking: 1, max_per_user: 1, stock_shards: 1 });
  });

  it('accepts every field at its upper bound', async () => {
    const fields = {
      name: 'n'.repeat(200),
      description: 'd'.repeat(5000),
      total_tickets: 1_000_000,
      ticket_price: 1_000_000,
      max_per_booking: 100,
      max_per_user: 1000,
      stock_shards: 100,
    };

    const response = await postEvent(eventBody(fields));

    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ ...fields, available_tickets: 1_000_000 });
  });

  it('accepts max_per_user null explicitly', async () => {
    const response = await postEvent(eventBody({ max_per_user: null }));

    expect(response.status).toBe(201);
    expect(response.body.max_per_user).toBeNull();
  });

  it('answers 401 unauthenticated without a key', async () => {
    const response = await api('POST', '/events', { json: eventBody() });

    expectProblem(response, 401, 'unauthenticated');
  });

  it('answers 401 unauthenticated for a key that was never issued', async () => {
    const response = await postEvent(eventBody(), 'not-a-real-key');

    expectProblem(response, 401, 'unauthenticated');
  });

  it('answers 401 unauthenticated for the admin key under a non-Bearer scheme', async () => {
    const response = await api('POST', '/events', { json: eventBody(), headers: { authorization: `Basic ${adminKey()}` } });

    expectProblem(response, 401, 'unauthenticated');
  });

  it('answers 403 forbidden for a user key', async () => {
    const user = await createUser();

    const response = await postEvent(eventBody(), user.key);

    expectProblem(response, 403, 'forbidden');
  });

  const invalidFields: Array<[string, Record<string, unknown>, string]> = [
    ['date_time is in the past', { date_time: inDays(-1) }, 'date_time'],
    ['date_time is not a timestamp', { date_time: 'next friday' }, 'date_time'],
    ['date_time has no offset', { date_time: `${FUTURE_YEAR}-05-01T19:30:00` }, 'date_time'],
    ['date_time is not a real date (30 February)', { date_time: `${FUTURE_YEAR}-02-30T19:30:00Z` }, 'date_time'],
    ['total_tickets is 0', { total_tickets: 0 }, 'total_tickets'],
    ['total_tickets is 1000001', { total_tickets: 1_000_001 }, 'total_tickets'],
    ['total_tickets is 1.5', { total_tickets: 1.5 }, 'total_tickets'],
    ['total_tickets is the string "10"', { total_tickets: '10' }, 'total_tickets'],
    ['total_tickets is negative', { total_tickets: -5 }, 'total_tickets'],
    ['ticket_price has 3 decimals', { ticket_price: 19.999 }, 'ticket_price'],
    ['ticket_price is a string with 3 decimals', { ticket_price: '19.999' }, 'ticket_price'],
    ['ticket_price is negative', { ticket_price: -1 }, 'ticket_price'],
    ['ticket_price is a negative string', { ticket_price: '-1' }, 'ticket_price'],
    ['ticket_price is over 1000000', { ticket_price: 1_000_000.01 }, 'ticket_price'],
    ['ticket_price is a string over 1000000', { ticket_price: '1000001' }, 'ticket_price'],
    ['ticket_price is not a number', { ticket_price: 'twenty' }, 'ticket_price'],
    ['ticket_price is null', { ticket_price: null }, 'ticket_price'],
    ['max_per_booking is 0', { max_per_booking: 0 }, 'max_per_booking'],
    ['max_per_booking is 101', { max_per_booking: 101 }, 'max_per_booking'],
    ['max_per_booking is 2.5', { max_per_booking: 2.5 }, 'max_per_booking'],
    ['max_per_user is 0', { max_per_user: 0 }, 'max_per_user'],
    ['max_per_user is 1001', { max_per_user: 1001 }, 'max_per_user'],
    ['max_per_user is 1.5', { max_per_user: 1.5 }, 'max_per_user'],
    ['stock_shards is 0', { stock_shards: 0 }, 'stock_shards'],
    ['stock_shards is 101', { stock_shards: 101 }, 'stock_shards'],
    ['stock_shards is 2.5', { stock_shards: 2.5 }, 'stock_shards'],
    ['stock_shards is the string "3"', { stock_shards: '3' }, 'stock_shards'],
    ['stock_shards is null', { stock_shards: null }, 'stock_shards'],
    ['name is empty', { name: '' }, 'name'],
    ['name is 201 characters', { name: 'n'.repeat(201) }, 'name'],
    ['name is not a string', { name: 42 }, 'name'],
    ['description is 5001 characters', { description: 'd'.repeat(5001) }, 'description'],
    ['description is null', { description: null }, 'description'],
    ['the body has an unknown field', { colour: 'red' }, 'colour'],
    ['the body sets the read-only available_tickets', { available_tickets: 5 }, 'available_tickets'],
    ['the body sets the read-only id', { id: 'my-own-id' }, 'id'],
  ];

  it.each(invalidFields)('answers 422 naming the field when %s', async (_case, fields, path) => {
    const response = await postEvent(eventBody(fields));

    expectFieldProblem(response, path);
  });

  it.each(['name', 'date_time', 'total_tickets', 'ticket_price'])('answers 422 naming %s when it is missing', async (field) => {
    const body: Record<string, unknown> = eventBody();
    delete body[field];

    const response = await postEvent(body);

    expectFieldProblem(response, field);
  });

  it('answers 422 naming every required field for an empty object', async () => {
    const response = await postEvent({});

    expectProblem(response, 422, 'validation-failed');
    const paths = (response.body.errors as Array<{ path: string }>).map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['name', 'date_time', 'total_tickets', 'ticket_price']));
  });

  it('answers 400 malformed-json when the body is not valid JSON', async () => {
    const response = await api('POST', '/events', {
      key: adminKey(),
      raw: '{"name": "Broken",',
      headers: { 'content-type': 'application/json' },
    });

    expectProblem(response, 400, 'malformed-json');
  });

  it('answers 415 unsupported-media-type when the body is not sent as application/json', async () => {
    const response = await api('POST', '/events', {
      key: adminKey(),
      raw: JSON.stringify(eventBody()),
      headers: { 'content-type': 'text/plain' },
    });

    expectProblem(response, 415, 'unsupported-media-type');
  });

  it('answers 413 payload-too-large for a body over 64 KiB', async () => {
    const response = await postEvent(eventBody({ description: 'd'.repeat(70_000) }));

    expectProblem(response, 413, 'payload-too-large');
  });
});

describe('GET /events', () => {
  it('is public and returns a page of items with a next_cursor', async () => {
    await createEvent();

    const response = await api('GET', '/events');

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(Object.keys(response.body).sort()).toEqual(['items', 'next_cursor']);
    expect(response.body.items.length).toBeGreaterThan(0);
  });

  it('lists events with every field of the Event', async () => {
    const created = await createEvent({ name: 'Listed in full', description: 'All fields', max_per_user: 3 });

    const { items } = await walkEvents(100);

    expect(items.find((item) => item.id === created.id)).toEqual(created);
  });

  it('orders events by date_time, earliest first, whatever the order of creation', async () => {
    const tag = `order-${Date.now()}`;
    const dates = [inDays(403), inDays(401), inDays(404), inDays(402)];
    for (const [i, date] of dates.entries()) await createEvent({ name: `${tag}-${i}`, date_time: date });

    const { items } = await walkEvents(100);

    expect(isNonDecreasing(items.map((item) => item.date_time))).toBe(true);
    const ours = items.filter((item) => String(item.name).startsWith(tag)).map((item) => item.date_time);
    expect(ours).toEqual([...dates].sort());
  });

  it('walks every page with limit and next_cursor without duplicates or gaps, in date order', async () => {
    const tag = `walk-${Date.now()}`;
    const created: any[] = [];
    for (const days of [503, 500, 504, 501, 502]) created.push(await createEvent({ name: `${tag}-${days}`, date_time: inDays(days) }));

    const { pages, items } = await walkEvents(2);

    for (const page of pages) {
      expect(page.body.items.length).toBeGreaterThan(0);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
    }
    const ids = items.map((item) => item.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(isNonDecreasing(items.map((item) => item.date_time))).toBe(true);
    const expectedOrder = [...created].sort((a, b) => Date.parse(a.date_time) - Date.parse(b.date_time)).map((e) => e.id);
    expect(ids.filter((id) => expectedOrder.includes(id))).toEqual(expectedOrder);
  });

  it('returns the same events page by page as in one large page', async () => {
    await createEvent({ date_time: inDays(600) });
    await createEvent({ date_time: inDays(601) });

    const small = await walkEvents(3);
    const large = await walkEvents(100);

    // Other test files may add events between the two walks: every event of the first walk is in the second, in the same order.
    const largeIds = large.items.map((item) => item.id);
    const smallIds = small.items.map((item) => item.id);
    expect(largeIds.filter((id) => smallIds.includes(id))).toEqual(smallIds);
  });

  it('ends with next_cursor null on the page that holds the latest event', async () => {
    const latest = await createEvent({ name: 'The very last event', date_time: '9999-12-31T23:59:59.999Z' });

    const { pages } = await walkEvents(3);

    const lastPage = pages.at(-1)!;
    expect(lastPage.body.next_cursor).toBeNull();
    expect(lastPage.body.items.map((item: any) => item.id)).toContain(latest.id);
  });

  it('returns one event and a cursor with limit=1 while more events exist', async () => {
    await createEvent();
    await createEvent();

    const response = await api('GET', '/events?limit=1');

    expect(response.status).toBe(200);
    expect(response.body.items).toHaveLength(1);
    expect(response.body.next_cursor).toEqual(expect.any(String));
  });

  it('returns at most 20 events by default, with a cursor to the rest', async () => {
    for (let i = 0; i < 21; i++) await createEvent({ name: `default-page-${i}`, date_time: inDays(700 + i) });

    const response = await api('GET', '/events');

    expect(response.status).toBe(200);
    expect(response.body.items).toHaveLength(20);
    expect(response.body.next_cursor).toEqual(expect.any(String));
  });

  it('accepts limit=100', async () => {
    const response = await api('GET', '/events?limit=100');

    expect(response.status).toBe(200);
    expect(response.body.items.length).toBeLessThanOrEqual(100);
  });

  it.each(['0', '101', 'abc', '-1', '2.5'])('answers 422 naming limit for limit=%s', async (limit) => {
    const response = await api('GET', `/events?limit=${limit}`);

    expectFieldProblem(response, 'limit');
  });

  it('answers 422 naming cursor for a garbage cursor', async () => {
    const response = await api('GET', '/events?cursor=this-is-not-a-cursor');

    expectFieldProblem(response, 'cursor');
  });

  it('answers 422 naming cursor for a base64url JSON cursor of the wrong shape', async () => {
    const forged = Buffer.from(JSON.stringify({ pk: 'USER#someone', sk: 'USER' }), 'utf8').toString('base64url');

    const response = await api('GET', `/events?cursor=${forged}`);

    expectFieldProblem(response, 'cursor');
  });
});

describe('GET /events/{id}', () => {
  it('is public and returns the event', async () => {
    const created = await createEvent({ name: 'Readable by anyone' });

    const response = await api('GET', `/events/${created.id}`);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(response.body).toEqual(created);
  });

  it('answers 404 event-not-found for an unknown id', async () => {
    const response = await api('GET', `/events/${UNKNOWN_ID}`);

    expectProblem(response, 404, 'event-not-found');
  });

  it('answers 404 event-not-found for an id too long to exist', async () => {
    const response = await api('GET', `/events/${'x'.repeat(300)}`);

    expectProblem(response, 404, 'event-not-found');
  });
});

describe('PATCH /events/{id}', () => {
  it('changes only the fields sent and returns the event', async () => {
    const created = await createEvent({ name: 'Before', description: 'Stays' });

    const response = await patchEvent(created.id, { name: 'After' });

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(withoutUpdatedAt(response.body)).toEqual({ ...withoutUpdatedAt(created), name: 'After' });
  });

  it('changes every writable field at once', async () => {
    const created = await createEvent();
    const changes = {
      name: 'Renamed',
      description: 'New description',
      date_time: inDays(90),
      total_tickets: 300,
      ticket_price: 12.5,
      max_per_booking: 4,
      max_per_user: 8,
      stock_shards: 5,
    };

    const response = await patchEvent(created.id, changes);

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ ...created, ...changes, available_tickets: 300, updated_at: expect.stringMatching(UTC_TIMESTAMP) });
  });

  it('persists the change: GET returns the patched event', async () => {
    const created = await createEvent();
    const patched = await patchEvent(created.id, { description: 'Persisted' });

    const fetched = await api('GET', `/events/${created.id}`);

    expect(fetched.body).toEqual(patched.body);
    expect(fetched.body.description).toBe('Persisted');
  });

  it('changes the number of stock shards, keeping every ticket on sale', async () => {
    const created = await createEvent({ total_tickets: 100 });

    const grown = await patchEvent(created.id, { stock_shards: 8 });
    const shrunk = await patchEvent(created.id, { stock_shards: 2, total_tickets: 90 });

    expect(grown.status).toBe(200);
    expect(grown.body).toMatchObject({ stock_shards: 8, total_tickets: 100, available_tickets: 100 });
    expect(shrunk.status).toBe(200);
    expect(shrunk.body).toMatchObject({ stock_shards: 2, total_tickets: 90, available_tickets: 90 });
    expect((await api('GET', `/events/${created.id}`)).body).toEqual(shrunk.body);
  });

  it('raises available_tickets by the same amount when total_tickets goes up', async () => {
    const created = await createEvent({ total_tickets: 100 });

    const response = await patchEvent(created.id, { total_tickets: 150 });

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ total_tickets: 150, available_tickets: 150 });
  });

  it('lowers available_tickets by the same amount when total_tickets goes down', async () => {
    const created = await createEvent({ total_tickets: 100 });

    const response = await patchEvent(created.id, { total_tickets: 60 });

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ total_tickets: 60, available_tickets: 60 });
  });

  it('changes the ticket_price, given as a decimal string', async () => {
    const created = await createEvent({ ticket_price: 25 });

    const response = await patchEvent(created.id, { ticket_price: '30.05' });

    expect(response.status).toBe(200);
    expect(response.body.ticket_price).toBe(30.05);
  });

  it('sets max_per_user back to null (no limit)', async () => {
    const created = await createEvent({ max_per_user: 5 });

    const response = await patchEvent(created.id, { max_per_user: null });

    expect(response.status).toBe(200);
    expect(response.body.max_per_user).toBeNull();
  });

  it('allows a date_time in the past (the future is required only at creation)', async () => {
    const created = await createEvent();
    const past = inDays(-2);

    const response = await patchEvent(created.id, { date_time: past });

    expect(response.status).toBe(200);
    expect(response.body.date_time).toBe(past);
  });

  it('returns a date_time sent with an offset in UTC with a Z suffix', async () => {
    const created = await createEvent();

    const response = await patchEvent(created.id, { date_time: `${FUTURE_YEAR}-08-15T08:00:00-05:00` });

    expect(response.status).toBe(200);
    expect(response.body.date_time).toBe(`${FUTURE_YEAR}-08-15T13:00:00.000Z`);
  });

  it('moves the event to its new place in the date order when date_time changes', async () => {
    const tag = `moved-${Date.now()}`;
    const first = await createEvent({ name: `${tag}-first`, date_time: inDays(800) });
    const second = await createEvent({ name: `${tag}-second`, date_time: inDays(801) });
    await patchEvent(first.id, { date_time: inDays(802) });

    const { items } = await walkEvents(100);

    expect(items.filter((item) => String(item.name).startsWith(tag)).map((item) => item.id)).toEqual([second.id, first.id]);
  });

  it('accepts an empty object and leaves the event unchanged', async () => {
    const created = await createEvent();

    const response = await patchEvent(created.id, {});

    expect(response.status).toBe(200);
    expect(withoutUpdatedAt(response.body)).toEqual(withoutUpdatedAt(created));
  });

  it('changes updated_at and keeps created_at', async () => {
    const created = await createEvent();
    await sleep(20);

    const response = await patchEvent(created.id, { name: 'Touched' });

    expect(response.status).toBe(200);
    expect(response.body.created_at).toBe(created.created_at);
    expect(response.body.updated_at).toMatch(UTC_TIMESTAMP);
    expect(Date.parse(response.body.updated_at)).toBeGreaterThan(Date.parse(created.updated_at));
  });

  it('answers 404 event-not-found for an unknown id', async () => {
    const response = await patchEvent(UNKNOWN_ID, { name: 'Nobody' });

    expectProblem(response, 404, 'event-not-found');
  });

  it('answers 401 unauthenticated without a key', async () => {
    const created = await createEvent();

    const response = await api('PATCH', `/events/${created.id}`, { json: { name: 'Anonymous' } });

    expectProblem(response, 401, 'unauthenticated');
  });

  it('answers 401 unauthenticated for a key that was never issued', async () => {
    const created = await createEvent();

    const response = await patchEvent(created.id, { name: 'Bad key' }, 'not-a-real-key');

    expectProblem(response, 401, 'unauthenticated');
  });

  it('answers 403 forbidden for a user key', async () => {
    const created = await createEvent();
    const user = await createUser();

    const response = await patchEvent(created.id, { name: 'User' }, user.key);

    expectProblem(response, 403, 'forbidden');
  });

  it('leaves the event unchanged when refused for a user key', async () => {
    const created = await createEvent({ name: 'Untouchable' });
    const user = await createUser();
    await patchEvent(created.id, { name: 'Hijacked' }, user.key);

    const fetched = await api('GET', `/events/${created.id}`);

    expect(fetched.body).toEqual(created);
  });

  const invalidChanges: Array<[string, Record<string, unknown>, string]> = [
    ['total_tickets is 0', { total_tickets: 0 }, 'total_tickets'],
    ['total_tickets is 1000001', { total_tickets: 1_000_001 }, 'total_tickets'],
    ['total_tickets is 1.5', { total_tickets: 1.5 }, 'total_tickets'],
    ['total_tickets is the string "10"', { total_tickets: '10' }, 'total_tickets'],
    ['ticket_price has 3 decimals', { ticket_price: 1.234 }, 'ticket_price'],
    ['ticket_price is negative', { ticket_price: -5 }, 'ticket_price'],
    ['ticket_price is over 1000000', { ticket_price: 1_000_000.01 }, 'ticket_price'],
    ['max_per_booking is 0', { max_per_booking: 0 }, 'max_per_booking'],
    ['max_per_booking is 101', { max_per_booking: 101 }, 'max_per_booking'],
    ['max_per_booking is null', { max_per_booking: null }, 'max_per_booking'],
    ['max_per_user is 0', { max_per_user: 0 }, 'max_per_user'],
    ['max_per_user is 1001', { max_per_user: 1001 }, 'max_per_user'],
    ['stock_shards is 0', { stock_shards: 0 }, 'stock_shards'],
    ['stock_shards is 101', { stock_shards: 101 }, 'stock_shards'],
    ['stock_shards is null', { stock_shards: null }, 'stock_shards'],
    ['name is empty', { name: '' }, 'name'],
    ['name is 201 characters', { name: 'n'.repeat(201) }, 'name'],
    ['name is null', { name: null }, 'name'],
    ['description is 5001 characters', { description: 'd'.repeat(5001) }, 'description'],
    ['description is null', { description: null }, 'description'],
    ['date_time is not a timestamp', { date_time: 'tomorrow' }, 'date_time'],
    ['date_time has no offset', { date_time: `${FUTURE_YEAR}-05-01T19:30:00` }, 'date_time'],
    ['the body has an unknown field', { colour: 'red' }, 'colour'],
    ['the body sets the read-only available_tickets', { available_tickets: 1 }, 'available_tickets'],
    ['the body sets the read-only created_at', { created_at: inDays(-5) }, 'created_at'],
  ];

  it.each(invalidChanges)('answers 422 naming the field when %s', async (_case, changes, path) => {
    const created = await createEvent();

    const response = await patchEvent(created.id, changes);

    expectFieldProblem(response, path);
  });

  it('applies nothing when one of several fields is invalid', async () => {
    const created = await createEvent({ name: 'Intact' });
    await patchEvent(created.id, { name: 'Half applied', total_tickets: 0 });

    const fetched = await api('GET', `/events/${created.id}`);

    expect(fetched.body).toEqual(created);
  });

  it('answers 400 malformed-json when the body is not valid JSON', async () => {
    const created = await createEvent();

    const response = await api('PATCH', `/events/${created.id}`, {
      key: adminKey(),
      raw: '{"name": ',
      headers: { 'content-type': 'application/json' },
    });

    expectProblem(response, 400, 'malformed-json');
  });

  it('answers 415 unsupported-media-type when the body is not sent as application/json', async () => {
    const created = await createEvent();

    const response = await api('PATCH', `/events/${created.id}`, {
      key: adminKey(),
      raw: JSON.stringify({ name: 'Plain' }),
      headers: { 'content-type': 'text/plain' },
    });

    expectProblem(response, 415, 'unsupported-media-type');
  });
});

describe('DELETE /events/{id}', () => {
  it('answers 204 with no body', async () => {
    const created = await createEvent();

    const response = await api('DELETE', `/events/${created.id}`, { key: adminKey() });

    expect(response.status).toBe(204);
    expect(response.body).toBeUndefined();
  });

  it('makes the event unreadable afterwards: GET is 404', async () => {
    const created = await createEvent();
    await api('DELETE', `/events/${created.id}`, { key: adminKey() });

    const response = await api('GET', `/events/${created.id}`);

    expectProblem(response, 404, 'event-not-found');
  });

  it('removes the event from the list', async () => {
    const created = await createEvent();
    await api('DELETE', `/events/${created.id}`, { key: adminKey() });

    const { items } = await walkEvents(100);

    expect(items.map((item) => item.id)).not.toContain(created.id);
  });

  it('answers 404 event-not-found to a second DELETE', async () => {
    const created = await createEvent();
    expect((await api('DELETE', `/events/${created.id}`, { key: adminKey() })).status).toBe(204);

    const response = await api('DELETE', `/events/${created.id}`, { key: adminKey() });

    expectProblem(response, 404, 'event-not-found');
  });

  it('answers 404 event-not-found for an unknown id', async () => {
    const response = await api('DELETE', `/events/${UNKNOWN_ID}`, { key: adminKey() });

    expectProblem(response, 404, 'event-not-found');
  });

  it('answers 401 unauthenticated without a key', async () => {
    const created = await createEvent();

    const response = await api('DELETE', `/events/${created.id}`);

    expectProblem(response, 401, 'unauthenticated');
  });

  it('answers 401 unauthenticated for a key that was never issued', async () => {
    const created = await createEvent();

    const response = await api('DELETE', `/events/${created.id}`, { key: 'not-a-real-key' });

    expectProblem(response, 401, 'unauthenticated');
  });

  it('answers 403 forbidden for a user key', async () => {
    const created = await createEvent();
    const user = await createUser();

    const response = await api('DELETE', `/events/${created.id}`, { key: user.key });

    expectProblem(response, 403, 'forbidden');
  });

  it('keeps the event when a user key tries to delete it', async () => {
    const created = await createEvent();
    const user = await createUser();
    await api('DELETE', `/events/${created.id}`, { key: user.key });

    const response = await api('GET', `/events/${created.id}`);

    expect(response.status).toBe(200);
    expect(response.body).toEqual(created);
  });
});

import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ZERO_COUNTERS } from '../../lib/domain/booking';
import {
  EventHasBookingsError,
  NotFoundError,
  ServiceUnavailableError,
  TicketsCommittedError,
  ValidationError,
} from '../../lib/domain/errors';
import type { CreateEventInput, Event } from '../../lib/domain/event';
import { eventStore } from '../../lib/store/events';
import { keys } from '../../lib/store/keys';
import { encodeCursor } from '../../lib/store/pagination';
import { createEvent, deleteEvent, getEvent, listEvents, updateEvent } from '../../lib/usecases/events';
import { testTable } from '../support/table';

/**
 * The events store against a real DynamoDB Local, through the use cases. Every test
 * of this file shares one table and the events list is global, so each test gives
 * its events far-future dates of its own and asserts only on its own ids.
 */
const table = testTable();
const store = eventStore(table);

afterAll(() => table.close());

/** A distinct far-future date for every call: year 2100 onwards, one day apart. */
let dayCounter = 0;
function futureDate(): string {
  dayCounter += 1;
  return new Date(Date.UTC(2100, 0, 1 + dayCounter, 19, 30)).toISOString();
}

function eventInput(overrides: Partial<CreateEventInput> = {}): CreateEventInput {
  return {
    name: 'Concert',
    description: 'An evening of music',
    date_time: futureDate(),
    total_tickets: 100,
    ticket_price: 4999,
    max_per_booking: 10,
    max_per_user: null,
    ...overrides,
  };
}

function create(overrides: Partial<CreateEventInput> = {}): Promise<Event> {
  return createEvent(store, eventInput(overrides), new Date());
}

/** Every page of the list, first to last. */
async function allPages(limit: number): Promise<{ items: Event[]; next_cursor: string | null }[]> {
  const pages: { items: Event[]; next_cursor: string | null }[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await listEvents(store, { limit, cursor });
    pages.push(page);
    if (page.next_cursor === null) return pages;
    cursor = page.next_cursor;
  }
}

/** The ids of `mine`, in the order the whole list returns them. */
async function listedOrderOf(mine: string[]): Promise<string[]> {
  const pages = await allPages(100);
  return pages.flatMap((page) => page.items.map((event) => event.id)).filter((id) => mine.includes(id));
}

/**
 * What a booking transaction does to the event item when it holds tickets: takes
 * them from available_tickets and adds them to tickets_held, only while enough are
 * available. The bookings store does not exist yet, so the tests write it directly.
 */
function holdTickets(eventId: string, quantity: number): Promise<unknown> {
  return table.client.send(
    new UpdateCommand({
      TableName: table.name,
      Key: keys.stock(eventId, 0),
      UpdateExpression: 'SET available_tickets = available_tickets - :n, tickets_held = tickets_held + :n',
      ConditionExpression: 'available_tickets >= :n',
      ExpressionAttributeValues: { ':n': quantity },
    }),
  );
}

/** What a booking transaction does when it opens a PENDING booking: counts it on the event's (only) shard. */
function countPendingBooking(eventId: string): Promise<unknown> {
  return table.client.send(
    new UpdateCommand({
      TableName: table.name,
      Key: keys.stock(eventId, 0),
      UpdateExpression: 'SET bookings_pending = bookings_pending + :one',
      ExpressionAttributeValues: { ':one': 1 },
    }),
  );
}

// Runs first, with a fresh set of its own, so the list holds as few others as possible.
describe('listing events', () => {
  const created: Event[] = [];

  beforeAll(async () => {
    // Created out of date order, so that the order of the list cannot come from creation order.
    const dates = [futureDate(), futureDate(), futureDate(), futureDate(), futureDate()];
    for (const index of [3, 0, 4, 1, 2]) {
      created.push(await create({ name: `Listed ${index}`, date_time: dates[index]! }));
    }
  });

  const byDate = () => [...created].sort((a, b) => a.date_time.localeCompare(b.date_time)).map((event) => event.id);

  it('returns the events in pages of at most two, every page full except the last', async () => {
    const pages = await allPages(2);

    const sizes = pages.map((page) => page.items.length);
    expect(sizes.slice(0, -1).every((size) => size === 2)).toBe(true);
    expect(sizes.at(-1)).toBeGreaterThanOrEqual(1);
    expect(sizes.at(-1)).toBeLessThanOrEqual(2);
  });

  it('gives every page but the last a cursor, and the last page a null cursor', async () => {
    const pages = await allPages(2);

    expect(pages.length).toBeGreaterThanOrEqual(3);
    expect(pages.slice(0, -1).every((page) => typeof page.next_cursor === 'string')).toBe(true);
    expect(pages.at(-1)!.next_cursor).toBeNull();
  });

  it('returns every event exactly once across the pages', async () => {
    const ids = (await allPages(2)).flatMap((page) => page.items.map((event) => event.id));

    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(created.map((event) => event.id)));
  });

  it('orders the events by date_time, earliest first', async () => {
    const ids = (await allPages(2)).flatMap((page) => page.items.map((event) => event.id));

    expect(ids.filter((id) => created.some((event) => event.id === id))).toEqual(byDate());
  });

  it('orders the whole list by date_time, not only the events of this test', async () => {
    const dates = (await allPages(2)).flatMap((page) => page.items.map((event) => event.date_time));

    expect(dates).toEqual([...dates].sort());
  });

  it('lists each event with the same fields as reading it', async () => {
    const listed = (await allPages(100)).flatMap((page) => page.items).find((event) => event.id === created[0]!.id);

    expect(listed).toEqual(await getEvent(store, created[0]!.id));
  });

  it.each([
    ['a garbage string', 'not-a-cursor!!'],
    ['base64 of something that is not JSON', Buffer.from('{"d":', 'utf8').toString('base64url')],
    ['JSON of the wrong shape', encodeCursor({ x: '1' })],
    ['a position with an extra field', encodeCursor({ d: '2100-01-01T00:00:00.000Z', i: 'x', pk: 'USER#x' })],
    ['a position with an empty id', encodeCursor({ d: '2100-01-01T00:00:00.000Z', i: '' })],
  ])('refuses %s as a cursor with a ValidationError', async (_what, cursor) => {
    await expect(listEvents(store, { limit: 2, cursor })).rejects.toBeInstanceOf(ValidationError);
  });

  it('refuses a cursor truncated by the client with a ValidationError', async () => {
    const [first] = await allPages(2);
    const cursor = first!.next_cursor!;

    await expect(listEvents(store, { limit: 2, cursor: cursor.slice(0, -3) })).rejects.toBeInstanceOf(ValidationError);
  });

  it('moves a well-formed forged cursor only within the events list', async () => {
    const sorted = byDate();
    const second = created.find((event) => event.id === sorted[1])!;
    const cursor = encodeCursor({ d: second.date_time, i: second.id });

    const page = await listEvents(store, { limit: 100, cursor });

    const ids = page.items.map((event) => event.id);
    expect(ids.filter((id) => sorted.includes(id))).toEqual(sorted.slice(2));
  });
});

describe('creating and reading an event', () => {
  it('reads back every field it was created with', async () => {
    const input = eventInput({
      name: 'Opening night',
      description: 'First show',
      total_tickets: 250,
      ticket_price: 1999,
      max_per_booking: 6,
      max_per_user: 12,
    });
    const now = new Date();

    const created = await createEvent(store, input, now);
    const read = await getEvent(store, created.id);

    expect(read).toEqual({
      id: created.id,
      name: 'Opening night',
      description: 'First show',
      date_time: input.date_time,
      total_tickets: 250,
      ticket_price_cents: 1999,
      ...ZERO_COUNTERS,
      available_tickets: 250,
      max_per_booking: 6,
      max_per_user: 12,
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
      version: 1,
      stock_shards: 3,
      stock_span: 3,
    });
  });

  it('returns the stored event from createEvent', async () => {
    const created = await create();

    expect(await getEvent(store, created.id)).toEqual(created);
  });

  it('starts every counter at zero and every ticket available', async () => {
    const created = await create({ total_tickets: 40 });

    const read = await getEvent(store, created.id);

    expect(read).toMatchObject({
      ...ZERO_COUNTERS,
      available_tickets: 40,
    });
  });

  it('keeps a null max_per_user as null', async () => {
    const created = await create({ max_per_user: null });

    expect((await getEvent(store, created.id)).max_per_user).toBeNull();
  });

  it('keeps an empty description as an empty string', async () => {
    const created = await create({ description: '' });

    expect((await getEvent(store, created.id)).description).toBe('');
  });

  it('keeps the price as integer cents', async () => {
    const created = await create({ ticket_price: 10 });

    expect((await getEvent(store, created.id)).ticket_price_cents).toBe(10);
  });

  it('throws NotFoundError for an unknown id', async () => {
    await expect(getEvent(store, 'no-such-event')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses a date_time in the past with a ValidationError and stores nothing', async () => {
    const before = (await allPages(100)).flatMap((page) => page.items).length;

    await expect(createEvent(store, eventInput({ date_time: '2001-01-01T00:00:00.000Z' }), new Date())).rejects.toBeInstanceOf(
      ValidationError,
    );

    const after = (await allPages(100)).flatMap((page) => page.items).length;
    expect(after).toBe(before);
  });
});

describe('updating an event', () => {
  it('changes only the fields given', async () => {
    const created = await create({ name: 'Before', description: 'Kept', max_per_booking: 4 });

    const updated = await updateEvent(store, created.id, { name: 'After', ticket_price: 2500 }, new Date());

    expect(updated).toEqual({
      ...created,
      name: 'After',
      ticket_price_cents: 2500,
      updated_at: updated.updated_at,
      version: created.version + 1,
    });
  });

  it('stores the change, so a later read returns it', async () => {
    const created = await create();

    const updated = await updateEvent(store, created.id, { description: 'Changed', max_per_user: 3 }, new Date());

    expect(await getEvent(store, created.id)).toEqual(updated);
  });

  it('sets updated_at to the time of the update and keeps created_at', async () => {
    const created = await create();
    const later = new Date(Date.now() + 60_000);

    const updated = await updateEvent(store, created.id, { name: 'Renamed' }, later);

    expect(updated.updated_at).toBe(later.toISOString());
    expect(updated.created_at).toBe(created.created_at);
  });

  it('can set max_per_user back to null', async () => {
    const created = await create({ max_per_user: 5 });

    const updated = await updateEvent(store, created.id, { max_per_user: null }, new Date());

    expect(updated.max_per_user).toBeNull();
    expect((await getEvent(store, created.id)).max_per_user).toBeNull();
  });

  it('moves the event in the list when date_time changes', async () => {
    const first = await create({ name: 'First' });
    const second = await create({ name: 'Second' });
    expect(await listedOrderOf([first.id, second.id])).toEqual([first.id, second.id]);

    await updateEvent(store, first.id, { date_time: futureDate() }, new Date());

    expect(await listedOrderOf([first.id, second.id])).toEqual([second.id, first.id]);
  });

  it('lists an event once, at its new date, after date_time changes', async () => {
    const created = await create();
    const newDate = futureDate();

    await updateEvent(store, created.id, { date_time: newDate }, new Date());

    const listed = (await allPages(100)).flatMap((page) => page.items).filter((event) => event.id === created.id);
    expect(listed).toHaveLength(1);
    expect(listed[0]!.date_time).toBe(newDate);
  });

  it('raises available_tickets by the amount total_tickets rises', async () => {
    const created = await create({ total_tickets: 100 });
    await holdTickets(created.id, 30);

    const updated = await updateEvent(store, created.id, { total_tickets: 150 }, new Date());

    expect(updated.total_tickets).toBe(150);
    expect(updated.available_tickets).toBe(120);
  });

  it('lowers available_tickets by the amount total_tickets falls', async () => {
    const created = await create({ total_tickets: 100 });
    await holdTickets(created.id, 30);

    const updated = await updateEvent(store, created.id, { total_tickets: 60 }, new Date());

    expect(updated.total_tickets).toBe(60);
    expect(updated.available_tickets).toBe(30);
  });

  it('allows lowering total_tickets to exactly the tickets committed', async () => {
    const created = await create({ total_tickets: 100 });
    await holdTickets(created.id, 30);

    const updated = await updateEvent(store, created.id, { total_tickets: 30 }, new Date());

    expect(updated).toMatchObject({ total_tickets: 30, available_tickets: 0, tickets_held: 30 });
  });

  it('refuses to lower total_tickets below the tickets committed with TicketsCommittedError', async () => {
    // 30 tickets held by a (simulated) booking transaction: the floor for total_tickets.
    const created = await create({ total_tickets: 100 });
    await holdTickets(created.id, 30);

    await expect(updateEvent(store, created.id, { total_tickets: 29 }, new Date())).rejects.toBeInstanceOf(TicketsCommittedError);
  });

  it('leaves the event unchanged when lowering total_tickets is refused', async () => {
    const created = await create({ total_tickets: 100 });
    await holdTickets(created.id, 30);
    const before = await getEvent(store, created.id);

    await updateEvent(store, created.id, { total_tickets: 10, name: 'Not applied' }, new Date()).catch(() => undefined);

    expect(await getEvent(store, created.id)).toEqual(before);
  });

  it('throws NotFoundError for an unknown id', async () => {
    await expect(updateEvent(store, 'no-such-event', { name: 'x' }, new Date())).rejects.toBeInstanceOf(NotFoundError);
  });

  it('does not create an event when updating an unknown id', async () => {
    await updateEvent(store, 'no-such-event-either', { name: 'x', total_tickets: 5 }, new Date()).catch(() => undefined);

    expect(await store.get('no-such-event-either')).toBeUndefined();
  });
});

describe('updating total_tickets while bookings hold tickets concurrently', () => {
  const UPDATES = 25;
  const HOLDS = 25;
  let event: Event;
  let updateResults: PromiseSettledResult<Event>[];
  let holdResults: PromiseSettledResult<unknown>[];

  beforeAll(async () => {
    event = await create({ total_tickets: 40 });
    // Totals from 15 to 39: some below the 25 tickets the holds will commit, so some
    // updates must be refused, depending on how they interleave with the holds.
    const totals = Array.from({ length: UPDATES }, (_, index) => 15 + index);
    const updates: Promise<Event>[] = [];
    const holds: Promise<unknown>[] = [];
    // Started interleaved (update, hold, update, hold, ...), all in flight at once.
    for (let index = 0; index < Math.max(UPDATES, HOLDS); index++) {
      if (index < UPDATES) updates.push(updateEvent(store, event.id, { total_tickets: totals[index]! }, new Date()));
      if (index < HOLDS) holds.push(holdTickets(event.id, 1));
    }
    [updateResults, holdResults] = await Promise.all([Promise.allSettled(updates), Promise.allSettled(holds)]);
  });

  it('keeps total_tickets - available_tickets equal to tickets_held', async () => {
    const after = await getEvent(store, event.id);

    expect(after.total_tickets - after.available_tickets).toBe(after.tickets_held);
  });

  it('never lets available_tickets fall below zero', async () => {
    const after = await getEvent(store, event.id);

    expect(after.available_tickets).toBeGreaterThanOrEqual(0);
  });

  it('counts exactly the holds that succeeded in tickets_held', async () => {
    const after = await getEvent(store, event.id);

    expect(after.tickets_held).toBe(holdResults.filter((result) => result.status === 'fulfilled').length);
  });

  it('fails updates only with TicketsCommittedError or ServiceUnavailableError', () => {
    const reasons = updateResults.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));

    const unexpected = reasons.filter(
      (reason) => !(reason instanceof TicketsCommittedError) && !(reason instanceof ServiceUnavailableError),
    );
    expect(unexpected).toEqual([]);
  });

  it('gives up with ServiceUnavailableError at most a few times', () => {
    const unavailable = updateResults.filter(
      (result) => result.status === 'rejected' && result.reason instanceof ServiceUnavailableError,
    );

    expect(unavailable.length).toBeLessThanOrEqual(3);
  });

  it('leaves total_tickets at the value of one of the updates that succeeded', async () => {
    const after = await getEvent(store, event.id);
    const applied = updateResults.flatMap((result) =>
      result.status === 'fulfilled' ? [result.value.total_tickets] : [],
    );

    expect(applied).toContain(after.total_tickets);
  });
});

describe('deleting an event', () => {
  it('deletes the event, so reading it throws NotFoundError', async () => {
    const created = await create();

    await deleteEvent(store, created.id);

    await expect(getEvent(store, created.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('removes the event from the list', async () => {
    const created = await create();

    await deleteEvent(store, created.id);

    expect(await listedOrderOf([created.id])).toEqual([]);
  });

  it('throws NotFoundError for an unknown id', async () => {
    await expect(deleteEvent(store, 'no-such-event')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('throws NotFoundError when the event was already deleted', async () => {
    const created = await create();
    await deleteEvent(store, created.id);

    await expect(deleteEvent(store, created.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses an event with a PENDING booking with EventHasBookingsError', async () => {
    const created = await create();
    await countPendingBooking(created.id);

    await expect(deleteEvent(store, created.id)).rejects.toBeInstanceOf(EventHasBookingsError);
  });

  it('keeps an event with a PENDING booking when deleting it is refused', async () => {
    const created = await create();
    await countPendingBooking(created.id);

    await deleteEvent(store, created.id).catch(() => undefined);

    expect(await getEvent(store, created.id)).toMatchObject({ id: created.id, bookings_pending: 1 });
  });
});

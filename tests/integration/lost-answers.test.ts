import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Booking } from '../../lib/domain/booking';
import { AppError } from '../../lib/domain/errors';
import { CreateUserBody } from '../../lib/domain/user';
import { type Complete, idempotently, requestFingerprint } from '../../lib/http/idempotency';
import { bookingStore } from '../../lib/store/bookings';
import type { Table } from '../../lib/store/client';
import { eventStore } from '../../lib/store/events';
import { idempotencyStore, type StoredResponse } from '../../lib/store/idempotency';
import { keys } from '../../lib/store/keys';
import { NO_COPY, recentEvents } from '../../lib/store/recent-events';
import { SDK_MAX_ATTEMPTS } from '../../lib/store/retry';
import { userStore } from '../../lib/store/users';
import { type BookingDeps, cancelBooking, createBooking } from '../../lib/usecases/bookings';
import { deleteEvent, getEvent, updateEvent } from '../../lib/usecases/events';
import { expireHold, payBooking } from '../../lib/usecases/holds';
import { registerUser } from '../../lib/usecases/users';
import { storedEvent } from '../support/events';
import { uniqueEmail } from '../support/fixtures';
import { type ModelUnderTest, startModel } from '../support/like-aws';
import * as recount from '../support/recount';
import { recordingGateway } from '../support/recording-gateway';
import { testTable } from '../support/table';
import { waitlistStore } from '../../lib/store/waitlist';
import { joinWaitlist, leaveWaitlist, offerTickets, type WaitlistDeps } from '../../lib/usecases/waitlist';
import { httpWebhookSender } from '../../lib/adapters/webhook-sender';
import type { DeliveryMessage, WebhookQueue } from '../../lib/ports';
import { webhookStore } from '../../lib/store/webhooks';
import { publishChanges, subscribe, unsubscribe, type WebhookDeps } from '../../lib/usecases/webhooks';

/*
 * Answers get lost: DynamoDB applies a write and the answer never arrives (the SDK
 * sees a 500 or a timeout). These run the use cases against DynamoDB Local through
 * the model of AWS (localstack/like-aws/dynamodb.ts), which applies a chosen write
 * and answers it with a 500 `InternalServerError`, as AWS may.
 *
 * A client with `maxAttempts: 1` is the SDK having given up (every resend lost
 * too): the use case itself must then find out what happened, by reading. A client
 * with the SDK's own resend (SDK_MAX_ATTEMPTS) shows the resend: a transaction
 * resent with its ClientRequestToken is not applied twice, a plain Put or Delete
 * resent finds its own write.
 */

type Body = Record<string, unknown>;
type DynamoValue = { S?: string; M?: Record<string, DynamoValue> };
type TransactItem = { Put?: { Item: Record<string, DynamoValue> }; Update?: { ExpressionAttributeValues?: Record<string, DynamoValue> } };

const transactItems = (body: Body) => (body.TransactItems ?? []) as TransactItem[];
const putsType = (body: Body, type: string) => transactItems(body).some((item) => item.Put?.Item.type?.S === type);
const movesBookingTo = (body: Body, status: string) => transactItems(body)[0]?.Update?.ExpressionAttributeValues?.[':next']?.S === status;
const plainPutOf = (operation: string, body: Body, type: string) =>
  operation === 'PutItem' && (body.Item as Record<string, DynamoValue> | undefined)?.type?.S === type;
type Keyed = { Update?: { Key?: { pk?: { S?: string }; sk?: { S?: string } } } };
/** A PATCH's transaction: the event item, with the stock it moves. */
const patchesEvent = (operation: string, body: Body) =>
  operation === 'TransactWriteItems' && (transactItems(body)[0] as Keyed | undefined)?.Update?.Key?.sk?.S === 'EVENT';
/** A move of stock between two shards (a reshard spreading it). */
const movesStock = (operation: string, body: Body) =>
  operation === 'TransactWriteItems' &&
  transactItems(body).length === 2 &&
  transactItems(body).every((item) => (item as Keyed).Update?.Key?.sk?.S === 'STOCK');
/** The plain UpdateItem of one shard whose condition names `marker` (a roll-forward, a close). */
const updatesShard = (operation: string, body: Body, marker: string) =>
  operation === 'UpdateItem' && (body.Key as Record<string, DynamoValue> | undefined)?.sk?.S === 'STOCK' && String(body.ConditionExpression).includes(marker);

/** Loses the answer of the first `count` applied writes that `matches` picks. */
function loseFirst(count: number, matches: (operation: string, body: Body) => boolean) {
  let lost = 0;
  return {
    rule: (operation: string, body: Body) => (lost < count && matches(operation, body) ? (lost++, true) : false),
    lost: () => lost,
  };
}

let model: ModelUnderTest;
let losing: (operation: string, body: Body) => boolean = () => false;
const direct = testTable();

beforeAll(async () => {
  model = await startModel({ models: ['conflicts', 'tokens', 'lost-answers'] }, { loseAnswer: (operation, body) => losing(operation, body) });
});
afterEach(() => {
  losing = () => false;
});
afterAll(async () => {
  await model.stop();
  direct.close();
});

/** The table through the model; `maxAttempts: 1` is an SDK that has given up on its resends. */
const throughModel = (maxAttempts: number): Table => ({ client: model.client({ maxAttempts }), name: model.tableName });


function depsOn(table: Table, clock = () => new Date()): BookingDeps {
  const events = eventStore(table);
  return { events: recentEvents(events, NO_COPY), bookings: bookingStore(table), stock: events.stock, waitlist: waitlistStore(table), holdSeconds: 60, clock };
}

const userBookings = async (eventId: string, userId: string) => (await recount.bookingsOf(direct, eventId)).filter((b) => b.user_id === userId);

describe('a booking whose transaction was applied and every answer lost', () => {
  it('is one booking under one Idempotency-Key, read back as stored', async () => {
    const table = throughModel(1);
    const event = await storedEvent(eventStore(direct), { total_tickets: 5 });
    const user = `lost-create-${randomUUID()}`;
    const lose = loseFirst(1, (operation, body) => operation === 'TransactWriteItems' && putsType(body, 'booking'));
    losing = lose.rule;
    const idempotency = idempotencyStore(table);
    const scope = { user_id: user, operation: 'POST /bookings', key: `k-${randomUUID()}` };
    const respond = (booking: Booking): StoredResponse => ({ status: 201, body: { id: booking.id } });

    const response = await idempotently(idempotency, scope, requestFingerprint('/bookings', { q: 2 }), 'req-1', async (complete?: Complete) =>
      respond(await createBooking(depsOn(table), { user_id: user, event_id: event.id, quantity: 2 }, complete && ((b) => complete(respond(b))))),
    );

    const booked = await userBookings(event.id, user);
    expect(lose.lost()).toBe(1);
    expect(booked.map((b) => b.id)).toEqual([(response.body as { id: string }).id]);
    await recount.expectCountersMatchRecount(direct, event.id, [user]);
  });

  it('is one booking without a key too', async () => {
    const table = throughModel(1);
    const event = await storedEvent(eventStore(direct), { total_tickets: 5 });
    const user = `lost-create-${randomUUID()}`;
    losing = loseFirst(2, (operation, body) => operation === 'TransactWriteItems' && putsType(body, 'booking')).rule;

    const booking = await createBooking(depsOn(table), { user_id: user, event_id: event.id, quantity: 1 });

    expect((await userBookings(event.id, user)).map((b) => b.id)).toEqual([booking.id]);
    await recount.expectCountersMatchRecount(direct, event.id, [user]);
  });
});

describe('an Idempotency-Key', () => {
  it('whose claim was applied and its answer lost is claimed by the request that resent it', async () => {
    const idempotency = idempotencyStore(throughModel(SDK_MAX_ATTEMPTS));
    const lose = loseFirst(1, (operation, body) => plainPutOf(operation, body, 'idempotency'));
    losing = lose.rule;

    const claimed = await idempotency.claim({ user_id: 'u-claim', operation: 'POST /bookings', key: randomUUID() }, 'fp', new Date());

    expect(lose.lost()).toBe(1);
    expect(claimed.kind).toBe('claimed');
  });

  it('completed by a transaction whose answer was lost is kept: the retry replays instead of booking again', async () => {
    const table = throughModel(1);
    const event = await storedEvent(eventStore(direct), { total_tickets: 5 });
    const user = `lost-release-${randomUUID()}`;
    const idempotency = idempotencyStore(table);
    const scope = { user_id: user, operation: 'POST /bookings', key: `k-${randomUUID()}` };
    const fingerprint = requestFingerprint('/bookings', { q: 1 });
    // The work's transaction (booking and key completion together) is applied, and
    // the request then fails with the lost answer, as it would after its retries.
    losing = loseFirst(1, (operation, body) => operation === 'TransactWriteItems' && putsType(body, 'booking')).rule;
    const booking = { id: randomUUID(), event_id: event.id, user_id: user, quantity: 1, unit_price_cents: 1250, amount_cents: 1250, status: 'PENDING' as const, created_at: new Date().toISOString(), expires_at: new Date(Date.now() + 60_000).toISOString(), confirmed_at: null, cancelled_at: null, cancel_reason: null };

    const first = idempotently(idempotency, scope, fingerprint, 'req-1', async (complete) => {
      await bookingStore(table).create(booking, { eventVersion: event.version, maxPerUser: null, takes: [{ shard: 0, quantity: 1 }] }, complete?.({ status: 201, body: { id: booking.id } }));
      return { status: 201, body: { id: booking.id } };
    });
    await expect(first).rejects.toMatchObject({ name: 'InternalServerError' });
    const retry = await idempotency.claim(scope, fingerprint, new Date());

    expect(retry).toEqual({ kind: 'replay', response: { status: 201, body: { id: booking.id } } });
  });
});

describe('a payment whose confirmation was applied and its answer lost', () => {
  it('is the success it is, never refunded, even when every later attempt loses a race', async () => {
    // A transaction holds its items for 3 s here, so every attempt after the lost
    // one conflicts with it until the attempts run out: the outcome is unknown
    // until the booking is read.
    const slow = await startModel({ models: ['conflicts', 'tokens', 'lost-answers'], transactionMs: 3000 }, {
      loseAnswer: (operation, body) => operation === 'TransactWriteItems' && movesBookingTo(body, 'CONFIRMED'),
    });
    try {
      const event = await storedEvent(eventStore(direct), { total_tickets: 5 });
      const booking = await createBooking(depsOn(direct), { user_id: `lost-pay-${randomUUID()}`, event_id: event.id, quantity: 2 });
      const gateway = recordingGateway();

      const paid = await payBooking({ ...depsOn({ client: slow.client({ maxAttempts: 1 }), name: slow.tableName }), gateway }, booking.id, { role: 'user', user_id: booking.user_id }, 'tok_visa');

      expect(paid).toMatchObject({ id: booking.id, status: 'CONFIRMED' });
      expect({ charges: gateway.charges.length, refunds: gateway.refunds }).toEqual({ charges: 1, refunds: [] });
      await recount.expectCountersMatchRecount(direct, event.id, [booking.user_id]);
    } finally {
      await slow.stop();
    }
  });
});

describe('a change of status applied and its answer lost', () => {
  it('cancel: is the cancellation it made, not a 409 for cancelling twice', async () => {
    const event = await storedEvent(eventStore(direct), { total_tickets: 5 });
    const booking = await createBooking(depsOn(direct), { user_id: `lost-cancel-${randomUUID()}`, event_id: event.id, quantity: 2 });
    losing = loseFirst(1, (operation, body) => operation === 'TransactWriteItems' && movesBookingTo(body, 'CANCELLED')).rule;

    const cancelled = await cancelBooking(depsOn(throughModel(1)), booking.id, { role: 'user', user_id: booking.user_id });

    expect(cancelled).toMatchObject({ id: booking.id, status: 'CANCELLED', cancel_reason: 'USER_CANCELLED' });
    await recount.expectCountersMatchRecount(direct, event.id, [booking.user_id]);
  });

  it('expire: ends the hold once and says so', async () => {
    const event = await storedEvent(eventStore(direct), { total_tickets: 5 });
    const booking = await createBooking(depsOn(direct), { user_id: `lost-expire-${randomUUID()}`, event_id: event.id, quantity: 2 });
    const later = () => new Date(Date.parse(booking.expires_at) + 1000);
    losing = loseFirst(1, (operation, body) => operation === 'TransactWriteItems' && movesBookingTo(body, 'CANCELLED')).rule;

    const result = await expireHold(depsOn(throughModel(1), later), booking.id);

    expect(result).toBe('expired');
    await recount.expectCountersMatchRecount(direct, event.id, [booking.user_id]);
  });
});

/** A transaction whose first action updates a waiting-list entry: an offer (it also puts a booking) or a leave. */
const changesEntry = (operation: string, body: Body) =>
  operation === 'TransactWriteItems' && String((transactItems(body)[0] as Keyed | undefined)?.Update?.Key?.pk?.S).startsWith('WAITLIST#');

describe('the waiting list with answers lost', () => {
  const waitlistDepsOn = (table: Table): WaitlistDeps => ({
    events: eventStore(table),
    bookings: bookingStore(table),
    stock: eventStore(table).stock,
    waitlist: waitlistStore(table),
    offerSeconds: 60,
    clock: () => new Date(),
  });
  const soldOutEvent = async () => {
    const event = await storedEvent(eventStore(direct), { total_tickets: 2 });
    const holder = await createBooking(depsOn(direct), { user_id: `lost-holder-${randomUUID()}`, event_id: event.id, quantity: 2 });
    return { event, holder };
  };

  it('a join is one entry in one place, not a 409 for its own guard', async () => {
    const { event } = await soldOutEvent();
    const lose = loseFirst(1, (operation, body) => operation === 'TransactWriteItems' && putsType(body, 'waitlist'));
    losing = lose.rule;
    const user = `lost-join-${randomUUID()}`;

    const { entry, position } = await joinWaitlist(waitlistDepsOn(throughModel(1)), { user_id: user, event_id: event.id, quantity: 1 });

    expect(lose.lost()).toBe(1);
    expect(position).toBe(1);
    expect(await waitlistStore(direct).get(entry.id)).toMatchObject({ status: 'WAITING' });
    expect((await waitlistStore(direct).blocks(event.id)).reduce((n, b) => n + b.waiting, 0)).toBe(1);
  });

  it('an offer applied whose answer was lost is made once: one booking, the counters equal to a recount', async () => {
    const { event, holder } = await soldOutEvent();
    const deps = waitlistDepsOn(direct);
    const { entry } = await joinWaitlist(deps, { user_id: `lost-offer-${randomUUID()}`, event_id: event.id, quantity: 2 });
    await cancelBooking(depsOn(direct), holder.id, { role: 'admin' });
    const lose = loseFirst(1, (operation, body) => changesEntry(operation, body) && putsType(body, 'booking'));
    losing = lose.rule;

    await offerTickets(waitlistDepsOn(throughModel(1)), event.id);

    expect(lose.lost()).toBe(1);
    const offered = (await waitlistStore(direct).get(entry.id))!;
    expect(offered.status).toBe('OFFERED');
    const theirs = await userBookings(event.id, entry.user_id);
    expect(theirs.map((b) => b.id)).toEqual([offered.booking_id]);
    await recount.expectCountersMatchRecount(direct, event.id, [entry.user_id]);
  });

  it('leaving, applied and its answer lost, is LEFT, not a 409 for an entry that ended', async () => {
    const { event } = await soldOutEvent();
    const { entry } = await joinWaitlist(waitlistDepsOn(direct), { user_id: `lost-leave-${randomUUID()}`, event_id: event.id, quantity: 1 });
    const lose = loseFirst(1, changesEntry);
    losing = lose.rule;

    await leaveWaitlist(waitlistDepsOn(throughModel(1)), entry.id, { role: 'user', user_id: entry.user_id });

    expect(lose.lost()).toBe(1);
    expect(await waitlistStore(direct).get(entry.id)).toMatchObject({ status: 'LEFT' });
    expect((await waitlistStore(direct).blocks(event.id)).reduce((n, b) => n + b.waiting, 0)).toBe(0);
  });

  it("a cancel that gave its tickets to the line, its answer lost, gives them once", async () => {
    const { event, holder } = await soldOutEvent();
    await joinWaitlist(waitlistDepsOn(direct), { user_id: `lost-release-${randomUUID()}`, event_id: event.id, quantity: 1 });
    losing = loseFirst(1, (operation, body) => operation === 'TransactWriteItems' && movesBookingTo(body, 'CANCELLED')).rule;

    await cancelBooking(depsOn(throughModel(1)), holder.id, { role: 'admin' });

    const shards = await eventStore(direct).stock.shards((await eventStore(direct).terms(event.id))!);
    expect(shards.reduce((n, s) => n + s.line_tickets, 0)).toBe(2);
    await recount.expectCountersMatchRecount(direct, event.id, [holder.user_id]);
  });
});

describe('webhooks with answers lost', () => {
  const sender = httpWebhookSender({ allowPrivate: true });
  const queued: DeliveryMessage[] = [];
  const queue: WebhookQueue = { enqueue: async (messages) => void queued.push(...messages) };
  const depsOn = (table: Table): WebhookDeps => ({ store: webhookStore(table), queue, sender, clock: () => new Date(), retry: { baseSeconds: 5, retryForSeconds: 3600 } });

  it('subscribing is the subscription it made, not an error for its own Put', async () => {
    const lose = loseFirst(1, (operation, body) => plainPutOf(operation, body, 'webhook'));
    losing = lose.rule;

    const subscription = await subscribe(depsOn(throughModel(SDK_MAX_ATTEMPTS)), { url: 'http://127.0.0.1:9/lost' });

    expect(lose.lost()).toBe(1);
    expect(await webhookStore(direct).getSubscription(subscription.id)).toEqual(subscription);
    await unsubscribe(webhookStore(direct), subscription.id);
  });

  it('unsubscribing is a deletion, not a 404 for its own Delete', async () => {
    const subscription = await subscribe(depsOn(direct), { url: 'http://127.0.0.1:9/lost' });
    const lose = loseFirst(1, (operation, body) => operation === 'DeleteItem' && String((body.Key as Record<string, DynamoValue>).pk?.S).startsWith('WEBHOOK#'));
    losing = lose.rule;

    await unsubscribe(webhookStore(throughModel(SDK_MAX_ATTEMPTS)), subscription.id);

    expect(lose.lost()).toBe(1);
    expect(await webhookStore(direct).getSubscription(subscription.id)).toBeUndefined();
  });

  it('a delivery written, its answer lost, is one delivery, queued', async () => {
    const subscription = await subscribe(depsOn(direct), { url: 'http://127.0.0.1:9/lost', events: ['booking.created'] });
    const lose = loseFirst(1, (operation, body) => plainPutOf(operation, body, 'delivery'));
    losing = lose.rule;
    queued.length = 0;
    const made = { type: 'booking', id: `b-${randomUUID()}`, event_id: 'e', user_id: 'u', quantity: 1, unit_price_cents: 100, amount_cents: 100, status: 'PENDING', created_at: new Date().toISOString(), expires_at: new Date().toISOString(), confirmed_at: null, cancelled_at: null, cancel_reason: null };

    const published = await publishChanges(depsOn(throughModel(SDK_MAX_ATTEMPTS)), [{ recordId: `lost-${randomUUID()}`, at: new Date(), change: { new: made } }]);

    expect(lose.lost()).toBe(1);
    expect(published).toEqual({ deliveries: 1, failed: [] });
    const deliveries = (await webhookStore(direct).listDeliveries(subscription.id, { limit: 10 })).items;
    expect(deliveries.map((d) => d.id)).toEqual(queued.map((m) => m.delivery_id));
    await unsubscribe(webhookStore(direct), subscription.id);
  });
});

describe('other writes applied and their answers lost', () => {
  it('registering a user is the user it registered, not a 409 for its own email', async () => {
    losing = loseFirst(1, (operation, body) => operation === 'TransactWriteItems' && putsType(body, 'user')).rule;
    const email = uniqueEmail('lost');

    const user = await registerUser(userStore(throughModel(1)), CreateUserBody.parse({ name: 'Lost', email }), new Date());

    const guard = await direct.client.send(new GetCommand({ TableName: direct.name, Key: keys.email(email.toLowerCase()) }));
    expect(guard.Item?.user_id).toBe(user.id);
  });

  it('creating an event is the event it created, when the SDK resent its Put', async () => {
    const lose = loseFirst(1, (operation, body) => plainPutOf(operation, body, 'event'));
    losing = lose.rule;

    const event = await storedEvent(eventStore(throughModel(SDK_MAX_ATTEMPTS)));

    expect(lose.lost()).toBe(1);
    expect(await getEvent(eventStore(direct), event.id)).toEqual(event);
  });

  it.each([
    ['resent by the SDK with its token', SDK_MAX_ATTEMPTS],
    ['planned again after the SDK gave up', 1],
  ])('raising total_tickets moves the tickets once, %s', async (_case, attempts) => {
    const event = await storedEvent(eventStore(direct), { total_tickets: 10, stock_shards: 2 });
    const lose = loseFirst(1, patchesEvent);
    losing = lose.rule;

    await updateEvent(eventStore(throughModel(attempts)), event.id, { total_tickets: 15 }, new Date());

    expect(lose.lost()).toBe(1);
    expect(await recount.expectCountersMatchRecount(direct, event.id)).toMatchObject({ total_tickets: 15, available_tickets: 15 });
  });

  it('lowering total_tickets takes the tickets away once, after the SDK gave up', async () => {
    const event = await storedEvent(eventStore(direct), { total_tickets: 10, stock_shards: 2 });
    const lose = loseFirst(1, patchesEvent);
    losing = lose.rule;

    await updateEvent(eventStore(throughModel(1)), event.id, { total_tickets: 4 }, new Date());

    expect(lose.lost()).toBe(1);
    expect(await recount.expectCountersMatchRecount(direct, event.id)).toMatchObject({ total_tickets: 4, available_tickets: 4 });
  });

  it('a move of stock to a new shard is made once, and every ticket stays on sale', async () => {
    const event = await storedEvent(eventStore(direct), { total_tickets: 40, stock_shards: 1 });
    const lose = loseFirst(1, movesStock);
    losing = lose.rule;

    const grown = await updateEvent(eventStore(throughModel(1)), event.id, { stock_shards: 4 }, new Date());

    expect(lose.lost()).toBe(1);
    expect(grown).toMatchObject({ stock_shards: 4, available_tickets: 40 });
    expect(await recount.expectCountersMatchRecount(direct, event.id)).toMatchObject({ total_tickets: 40, available_tickets: 40 });
  });

  it("a shard's roll-forward to a new price is done once: the next booking sells at that price", async () => {
    const event = await storedEvent(eventStore(direct), { total_tickets: 10, stock_shards: 3, ticket_price: '10.00' });
    const lose = loseFirst(1, (operation, body) => updatesShard(operation, body, 'version < :version'));
    losing = lose.rule;

    await updateEvent(eventStore(throughModel(1)), event.id, { ticket_price: 2500 }, new Date());

    expect(lose.lost()).toBe(1);
    const booking = await createBooking(depsOn(direct), { user_id: `rolled-${randomUUID()}`, event_id: event.id, quantity: 1 });
    expect(booking.unit_price_cents).toBe(2500);
  });

  it('deleting an event is a deletion, not a 404 for its own Delete', async () => {
    const event = await storedEvent(eventStore(direct));
    const lose = loseFirst(1, (operation) => operation === 'DeleteItem');
    losing = lose.rule;

    await deleteEvent(eventStore(throughModel(SDK_MAX_ATTEMPTS)), event.id);

    expect(lose.lost()).toBe(1);
    expect(await eventStore(direct).get(event.id)).toBeUndefined();
  });

  it('deleting an event whose shard was closed and the answer lost still deletes it, shards and all', async () => {
    const event = await storedEvent(eventStore(direct), { total_tickets: 30, stock_shards: 3 });
    const lose = loseFirst(1, (operation, body) => updatesShard(operation, body, 'bookings_pending = :pending'));
    losing = lose.rule;

    await deleteEvent(eventStore(throughModel(1)), event.id);

    expect(lose.lost()).toBe(1);
    expect(await eventStore(direct).get(event.id)).toBeUndefined();
    for (let i = 0; i < 3; i++) {
      expect((await direct.client.send(new GetCommand({ TableName: direct.name, Key: keys.stock(event.id, i), ConsistentRead: true }))).Item).toBeUndefined();
    }
  });
});

describe('a storm of bookings, payments and cancels with a fifth of all answers lost', () => {
  it('keeps one booking per key, one charge per payment, no refund of a confirmed booking, counters equal to a recount, and no 500', async () => {
    const stormy = await startModel({ models: ['conflicts', 'tokens', 'lost-answers'], lostAnswers: 0.2 });
    try {
      const table: Table = { client: stormy.client({ maxAttempts: SDK_MAX_ATTEMPTS }), name: stormy.tableName };
      const event = await storedEvent(eventStore(direct), { total_tickets: 40 });
      const deps = depsOn(table);
      const idempotency = idempotencyStore(table);
      const gateway = recordingGateway();
      const users = Array.from({ length: 20 }, (_, i) => `storm-${i}-${randomUUID()}`);
      const faults: unknown[] = [];
      const keep = (error: unknown) => {
        if (!(error instanceof AppError)) faults.push(error);
      };

      // Each user books with a key, and sends the same request again (a client retry).
      const booked = await Promise.all(
        users.map(async (user) => {
          const scope = { user_id: user, operation: 'POST /bookings', key: `storm-${user}` };
          const fingerprint = requestFingerprint('/bookings', { event: event.id, q: 2 });
          const once = () =>
            idempotently(idempotency, scope, fingerprint, randomUUID(), async (complete) => {
              const respond = (b: Booking): StoredResponse => ({ status: 201, body: { id: b.id } });
              return respond(await createBooking(deps, { user_id: user, event_id: event.id, quantity: 2 }, complete && ((b) => complete(respond(b)))));
            }).catch((error: unknown) => (keep(error), undefined));
          const [first, second] = [await once(), await once()];
          return { user, ids: [first, second].flatMap((r) => (r?.status === 201 ? [(r.body as { id: string }).id] : [])) };
        }),
      );
      // Half pay, a quarter cancel, all at once.
      await Promise.all(
        booked.flatMap(({ user, ids }, i) => {
          const id = ids[0];
          if (!id) return [];
          const caller = { role: 'user', user_id: user } as const;
          if (i % 2 === 0) return [payBooking({ ...deps, gateway }, id, caller, 'tok_visa').catch(keep)];
          if (i % 4 === 1) return [cancelBooking(deps, id, caller).catch(keep)];
          return [];
        }),
      );

      const all = await recount.bookingsOf(direct, event.id);
      const perUser = users.map((user) => all.filter((b) => b.user_id === user).length);
      const refundedConfirmed = all.filter((b) => b.status === 'CONFIRMED' && gateway.refunds.includes(b.payment_id ?? ''));
      const chargesPerBooking = new Set(gateway.charges.map((c) => c.reference)).size === gateway.charges.length;
      expect({ faults, perUser: perUser.filter((n) => n > 1), refundedConfirmed, chargesPerBooking }).toEqual({
        faults: [],
        perUser: [],
        refundedConfirmed: [],
        chargesPerBooking: true,
      });
      expect(stormy.model.stats().lostAnswers).toBeGreaterThan(0);
      await recount.expectCountersMatchRecount(direct, event.id, users);
    } finally {
      await stormy.stop();
    }
  }, 60_000);
});

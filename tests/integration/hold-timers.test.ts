import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DeleteTableCommand, DescribeTableCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { localClient } from '../../localstack/dynamodb-local';
import { type CfnTable, readService, tableOf } from '../../localstack/service';
import { ensureTable } from '../../localstack/table';
import type { Booking } from '../../lib/domain/booking';
import { bookingStore } from '../../lib/store/bookings';
import { eventStore } from '../../lib/store/events';
import { recentEvents } from '../../lib/store/recent-events';
import { type BookingDeps, createBooking } from '../../lib/usecases/bookings';
import { expireHolds } from '../../lib/usecases/hold-timers';
import { payBooking } from '../../lib/usecases/holds';
import { storedEvent } from '../support/events';
import { recordingGateway } from '../support/recording-gateway';
import * as recount from '../support/recount';
import { testTable } from '../support/table';
import { waitlistStore } from '../../lib/store/waitlist';

/*
 * The expiry of a batch of holds (the expire Lambda's use case) against a real
 * DynamoDB Local under the model of AWS, and the local table brought up to
 * serverless.yml (its stream and its indexes). The stream, the consumer and the
 * executions are exercised end to end in tests/e2e/hold-timers.test.ts.
 */

const table = testTable();
afterAll(() => table.close());

const stores = { events: eventStore(table), bookings: bookingStore(table) };
const HOLD_SECONDS = 60;

function depsAt(now: () => Date): BookingDeps {
  return { events: recentEvents(stores.events), bookings: stores.bookings, stock: stores.events.stock, waitlist: waitlistStore(table), holdSeconds: HOLD_SECONDS, clock: now };
}

describe('ending a batch of holds', () => {
  let clock = new Date();
  const deps = depsAt(() => clock);
  let eventId: string;
  let unpaid: Booking[];
  let paid: Booking;
  let later: Booking;

  beforeAll(async () => {
    const start = clock;
    const event = await storedEvent(stores.events, { name: 'Batch expiry', total_tickets: 40 });
    eventId = event.id;
    const made: Booking[] = [];
    for (let i = 0; i < 7; i++) made.push(await createBooking(deps, { user_id: `batch-${i}-${event.id}`, event_id: event.id, quantity: 2 }));
    [paid, ...unpaid] = made as [Booking, ...Booking[]];
    await payBooking({ ...deps, gateway: recordingGateway() }, paid.id, { role: 'user', user_id: paid.user_id }, 'tok_visa');
    clock = new Date(start.getTime() + 30_000);
    later = await createBooking(deps, { user_id: `later-${event.id}`, event_id: event.id, quantity: 1 });
    // The first seven have run out; the later one has half a minute left.
    clock = new Date(start.getTime() + HOLD_SECONDS * 1000 + 1000);
  });

  it('ends each unpaid hold that is due, leaves the paid one and the one not yet due, and names a booking that does not exist', async () => {
    const unknown = randomUUID();

    const { results, failures } = await expireHolds(deps, [...unpaid.map((b) => b.id), paid.id, later.id, unknown]);

    expect(failures).toEqual([]);
    expect(results).toEqual({
      ...Object.fromEntries(unpaid.map((b) => [b.id, 'expired'])),
      [paid.id]: 'already-final',
      [later.id]: 'not-yet-due',
      [unknown]: 'not-found',
    });
  });

  it('puts the tickets of the ended holds back, the counters equal to a recount', async () => {
    const after = await recount.expectCountersMatchRecount(table, eventId);

    expect(after.available_tickets).toBe(40 - 2 - 1);
  });

  it('changes nothing when the batch is ended again', async () => {
    const before = await recount.expectCountersMatchRecount(table, eventId);

    const { results } = await expireHolds(deps, [...unpaid.map((b) => b.id), paid.id]);

    expect(new Set(Object.values(results))).toEqual(new Set(['already-final']));
    expect(await recount.expectCountersMatchRecount(table, eventId)).toEqual(before);
  });

  it('reports a hold whose expiry fails and still ends the others', async () => {
    const more: Booking[] = [];
    clock = new Date();
    for (let i = 0; i < 3; i++) more.push(await createBooking(deps, { user_id: `more-${i}-${eventId}`, event_id: eventId, quantity: 1 }));
    clock = new Date(Date.parse(more[2]!.expires_at) + 1);
    const broken = more[1]!.id;
    const failing: BookingDeps = {
      ...deps,
      bookings: { ...stores.bookings, get: async (id) => (id === broken ? Promise.reject(new Error('unreadable')) : stores.bookings.get(id)) },
    };

    const { results, failures } = await expireHolds(failing, more.map((b) => b.id));

    expect(failures.map((f) => f.booking_id)).toEqual([broken]);
    expect(results).toEqual({ [more[0]!.id]: 'expired', [more[2]!.id]: 'expired' });
  });
});

describe('the local table brought up to serverless.yml', () => {
  const endpoint = process.env.TEST_DYNAMODB_LOCAL_ENDPOINT!;
  const client = localClient(endpoint);
  let definition: CfnTable;
  afterAll(() => client.destroy());

  beforeAll(async () => {
    definition = { ...tableOf(await readService()), TableName: `upgrade-${process.pid}-${Date.now()}` };
    // The table as an older serverless.yml made it: no stream, and no gsi4.
    await client.send(
      new CreateTableCommand({
        TableName: definition.TableName,
        AttributeDefinitions: definition.AttributeDefinitions!.filter((a) => !a.AttributeName!.startsWith('gsi4')),
        KeySchema: definition.KeySchema,
        GlobalSecondaryIndexes: definition.GlobalSecondaryIndexes!.filter((i) => i.IndexName !== 'gsi4'),
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await client.send(new PutItemCommand({ TableName: definition.TableName, Item: { pk: { S: 'KEPT' }, sk: { S: 'KEPT' } } }));
  }, 30_000);

  afterAll(() => client.send(new DeleteTableCommand({ TableName: definition.TableName })));

  it('switches the stream on and creates the missing index, keeping the data', async () => {
    const created = await ensureTable(endpoint, definition);

    const { Table } = await client.send(new DescribeTableCommand({ TableName: definition.TableName }));
    expect(created).toBe(false);
    expect(Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    expect(Table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === 'gsi4')).toMatchObject({ IndexStatus: 'ACTIVE', Projection: { ProjectionType: 'KEYS_ONLY' } });
    expect((await client.send(new GetItemCommand({ TableName: definition.TableName, Key: { pk: { S: 'KEPT' }, sk: { S: 'KEPT' } } }))).Item).toBeDefined();
  });

  it('leaves a table that is up to date as it is', async () => {
    const before = (await client.send(new DescribeTableCommand({ TableName: definition.TableName }))).Table;

    await ensureTable(endpoint, definition);

    const after = (await client.send(new DescribeTableCommand({ TableName: definition.TableName }))).Table;
    expect({ stream: after?.LatestStreamArn, indexes: after?.GlobalSecondaryIndexes?.length }).toEqual({ stream: before?.LatestStreamArn, indexes: before?.GlobalSecondaryIndexes?.length });
  });
});

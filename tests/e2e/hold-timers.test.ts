import { randomUUID } from 'node:crypto';
import { DescribeExecutionCommand, type ExecutionListItem, ListExecutionsCommand, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { type IsolatedStack, startIsolatedStack } from '../../localstack/isolated-stack';
import { batchId } from '../../lib/usecases/hold-timers';
import { AWS_LOCAL, lambdaInvoker, SWEEP_FUNCTION } from '../support/lambdas';
import { waitForLogLine } from '../support/log';
import { statsFromBookings } from '../support/recount';
import { settled as settledBooking, sleep, STACK_START_TIMEOUT, untilExpiry } from '../support/time';
import { UNDER_THE_MODEL } from '../support/under-the-model';
import { type StackClient, stackClient } from './client';

/**
 * The hold timers started from the table's stream (README, "How holds are timed"):
 * the stack delivers each new booking's record to the startHoldTimers function,
 * which starts one booking-hold execution per batch of holds that run out in the
 * same second. This file runs its own stack, under the model of AWS, with a
 * 4 s hold (time for the stream to deliver before the holds run out); its output
 * goes to .data/hold-timers-stack.log.
 */

const HOLD_SECONDS = 4;
const START_FUNCTION = 'ticket-booking-dev-startHoldTimers';
/** "Within seconds": how long after expires_at a hold may take to end. */
const EXPIRY_DEADLINE_MS = 10_000;

let stack: IsolatedStack;
let client: StackClient;
let sfn: SFNClient;
let lambda: ReturnType<typeof lambdaInvoker>;

beforeAll(async () => {
  stack = await startIsolatedStack('hold-timers-stack', { holdSeconds: HOLD_SECONDS, likeAws: UNDER_THE_MODEL });
  client = stackClient(stack);
  sfn = new SFNClient({ ...AWS_LOCAL, endpoint: stack.stepFunctionsEndpoint });
  lambda = lambdaInvoker(stack);
}, STACK_START_TIMEOUT);

afterAll(async () => {
  sfn?.destroy();
  lambda?.destroy();
  await stack?.stop();
});

interface Booking {
  id: string;
  status: string;
  expires_at: string;
  cancelled_at: string | null;
  cancel_reason: string | null;
}

/** Every execution of the booking-hold state machine. */
async function executions(): Promise<ExecutionListItem[]> {
  const all: ExecutionListItem[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn: stack.holdStateMachineArn, nextToken, maxResults: 1000 }));
    all.push(...(page.executions ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return all;
}

/** The executions that time batches of holds, with the booking ids of each (from its input). */
async function batchTimers(): Promise<{ arn: string; name: string; booking_ids: string[] }[]> {
  const batches = (await executions()).filter((e) => e.name?.startsWith('holds-'));
  return Promise.all(
    batches.map(async (e) => {
      const described = await sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn }));
      return { arn: e.executionArn!, name: e.name!, booking_ids: (JSON.parse(described.input!) as { booking_ids: string[] }).booking_ids };
    }),
  );
}

/** The batch timers of these bookings once each is timed (or after `deadlineMs`), and the ids they time. */
async function timersOf(bookings: { id: string }[], deadlineMs: number) {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const batches = (await batchTimers()).filter((b) => b.booking_ids.some((id) => bookings.some((booking) => booking.id === id)));
    const inBatches = new Set(batches.flatMap((b) => b.booking_ids));
    if (bookings.every((b) => inBatches.has(b.id)) || Date.now() > deadline) return { batches, inBatches };
    await sleep(200);
  }
}

/** Polls the booking until it has left PENDING, or EXPIRY_DEADLINE_MS after its expires_at. */
const settled = (key: string, booking: Booking): Promise<Booking> => settledBooking(() => client.getBooking(key, booking.id), booking, EXPIRY_DEADLINE_MS);

/** A stream record of a new hold, as the event source mapping delivers it to startHoldTimers. */
function newHoldRecord(sequence: number, id: string, expiresAt: string) {
  return {
    eventID: randomUUID(),
    eventName: 'INSERT',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    eventSourceARN: 'arn:aws:dynamodb:us-east-1:000000000000:table/ticket-booking-dev/stream/2030-01-01T00:00:00.000',
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
      Keys: { pk: { S: `BOOKING#${id}` }, sk: { S: 'BOOKING' } },
      NewImage: { pk: { S: `BOOKING#${id}` }, sk: { S: 'BOOKING' }, type: { S: 'booking' }, id: { S: id }, status: { S: 'PENDING' }, expires_at: { S: expiresAt } },
      SequenceNumber: String(sequence).padStart(21, '0'),
      SizeBytes: 200,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

describe('a burst of bookings', () => {
  const EVENTS = 6;
  const PER_EVENT = 4;
  let bookings: (Booking & { key: string; event_id: string })[];
  let events: { id: string; total_tickets: number }[];
  let timers: Awaited<ReturnType<typeof timersOf>>;
  let ended: Booking[];

  beforeAll(async () => {
    events = await Promise.all(Array.from({ length: EVENTS }, () => client.createEvent({ total_tickets: 10 })));
    const users = await Promise.all(Array.from({ length: PER_EVENT }, () => client.createUser()));
    // Every event's bookings at once (no more than the suites send one event at once).
    const made = await Promise.all(
      events.flatMap((event) =>
        users.map(async (user) => ({ ...((await client.createBooking(user.key, event.id, 1)) as Booking), key: user.key, event_id: event.id })),
      ),
    );
    bookings = made;
    timers = await timersOf(bookings, (HOLD_SECONDS - 1) * 1000);
    ended = await Promise.all(bookings.map((b) => settled(b.key, b)));
  }, 60_000);

  it('is timed by fewer executions than bookings: one per batch of holds that run out within two seconds', async () => {
    const timing = (id: string) => timers.batches.filter((b) => b.booking_ids.includes(id)).length;

    expect(bookings.filter((b) => timing(b.id) !== 1).map((b) => ({ id: b.id, timers: timing(b.id) }))).toEqual([]);
    expect(timers.batches.length).toBeGreaterThan(0);
    expect(timers.batches.length).toBeLessThan(bookings.length);
    expect((await executions()).filter((e) => !e.name?.startsWith('holds-')).map((e) => e.name)).toEqual([]);
  });

  it("waits in each batch execution until the latest expires_at of its holds", async () => {
    for (const batch of timers.batches) {
      const described = await sfn.send(new DescribeExecutionCommand({ executionArn: batch.arn }));
      const latest = Math.max(...batch.booking_ids.map((id) => Date.parse(bookings.find((b) => b.id === id)!.expires_at)));
      expect(JSON.parse(described.input!)).toEqual({ booking_ids: [...batch.booking_ids].sort(), expires_at: new Date(latest).toISOString() });
    }
  });

  it('ends every hold within seconds after its own expires_at, never before: CANCELLED, PAYMENT_TIMEOUT', () => {
    const late = ended
      .map((b, i) => ({ id: b.id, status: b.status, reason: b.cancel_reason, after: Date.parse(b.cancelled_at ?? '') - Date.parse(bookings[i]!.expires_at) }))
      .filter((b) => b.status !== 'CANCELLED' || b.reason !== 'PAYMENT_TIMEOUT' || !(b.after >= 0 && b.after < EXPIRY_DEADLINE_MS));

    expect(late).toEqual([]);
  });

  it('puts every ticket back on sale, the statistics equal to a recount', async () => {
    for (const event of events) {
      const stats = await client.eventStats(event.id);
      expect(stats).toEqual(statsFromBookings(event, await client.eventBookings(event.id)));
      expect(stats).toMatchObject({ tickets_available: 10, tickets_held: 0, bookings_pending: 0, bookings_cancelled: PER_EVENT });
    }
  });

  it('ends each batch execution SUCCEEDED, its holds counted once', async () => {
    const outputs = await Promise.all(
      timers.batches.map(async (b) => {
        const deadline = Date.now() + 15_000;
        for (;;) {
          const described = await sfn.send(new DescribeExecutionCommand({ executionArn: b.arn }));
          if (described.status !== 'RUNNING' || Date.now() > deadline) return { status: described.status, output: JSON.parse(described.output ?? 'null') };
          await sleep(200);
        }
      }),
    );

    expect(outputs.map((o) => o.status)).toEqual(timers.batches.map(() => 'SUCCEEDED'));
    expect(outputs.reduce((sum, o) => sum + o.output.holds, 0)).toBe(timers.inBatches.size);
  });
});

describe('a stream batch delivered again', () => {
  it('starts its timer once, however often and however concurrently it is delivered', async () => {
    const expiresAt = new Date(Math.ceil(Date.now() / 1000) * 1000 + 60_000);
    const ids: string[] = [randomUUID(), randomUUID(), randomUUID()];
    const event = { Records: ids.map((id, i) => newHoldRecord(i + 1, id, new Date(expiresAt.getTime() + i * 100).toISOString())) };

    const answers = [...(await Promise.all([lambda.invoke(START_FUNCTION, event), lambda.invoke(START_FUNCTION, event)])), await lambda.invoke(START_FUNCTION, event)];

    const name = batchId(expiresAt.getTime(), ids);
    const started = (await batchTimers()).filter((b) => b.booking_ids.some((id) => ids.includes(id)));
    expect(answers).toEqual(answers.map(() => ({ error: undefined, result: { batchItemFailures: [] } })));
    expect(started.map((b) => ({ name: b.name, booking_ids: b.booking_ids }))).toEqual([{ name, booking_ids: [...ids].sort() }]);
    await sfn.send(new StopExecutionCommand({ executionArn: started[0]!.arn }));
  });

  it('answers a record that is no new hold as done, and starts nothing for it', async () => {
    const record = newHoldRecord(1, randomUUID(), new Date(Date.now() + 60_000).toISOString());
    const modify = { ...record, eventName: 'MODIFY' };
    const before = (await executions()).length;

    const answer = await lambda.invoke(START_FUNCTION, { Records: [modify] });

    expect(answer).toEqual({ error: undefined, result: { batchItemFailures: [] } });
    expect((await executions()).length).toBe(before);
  });

  it('refuses an event that is no stream batch, in one sentence', async () => {
    const answer = await lambda.invoke(START_FUNCTION, { booking_id: 'x' });

    expect(answer.error).toBeDefined();
    expect(answer.result.errorMessage).toMatch(/^This function expects .*Records.*; it was invoked with something else\.$/);
  });
});

describe('the consumer failing: Step Functions down when the holds are made', () => {
  it('leaves the holds to the sweeper, which ends them; the timers started late change nothing', async () => {
    const event = await client.createEvent({ total_tickets: 6 });
    const user = await client.createUser();
    const bookings: Booking[] = await Promise.all([client.createBooking(user.key, event.id, 2), client.createBooking(user.key, event.id, 1)]);
    // Before the stream delivers them (its batches wait up to a second): every
    // execution is lost and no timer can be started.
    await stack.faults.stopStepFunctions();
    const stoppedAt = new Date().toISOString();
    try {
      await waitForLogLine(stack.logFile, 'of timers not started', (entry) => String(entry.message).startsWith('hold timers not started') && String(entry.timestamp) >= stoppedAt);
      await untilExpiry(bookings.reduce((a, b) => (a.expires_at > b.expires_at ? a : b)), 500);
      const beforeSweep = await Promise.all(bookings.map((b) => client.getBooking(user.key, b.id)));

      const swept = await lambda.invoke(SWEEP_FUNCTION, {});

      expect(beforeSweep.map((b) => b.status)).toEqual(['PENDING', 'PENDING']);
      expect(swept.error).toBeUndefined();
      for (const b of bookings) expect(await client.getBooking(user.key, b.id)).toMatchObject({ status: 'CANCELLED', cancel_reason: 'PAYMENT_TIMEOUT' });
    } finally {
      await stack.faults.startStepFunctions();
    }
    // The stream delivers the records again until their timer starts: late, it finds nothing to end.
    const { inBatches } = await timersOf(bookings, 30_000);
    expect(bookings.filter((b) => !inBatches.has(b.id)).map((b) => b.id)).toEqual([]);
    const stats = await client.eventStats(event.id);
    expect(stats).toEqual(statsFromBookings(event, await client.eventBookings(event.id)));
    expect(stats).toMatchObject({ tickets_available: 6, tickets_held: 0, bookings_cancelled: 2 });
  }, 90_000);
});

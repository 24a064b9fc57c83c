/**
 * Part 5. Scale: booking latency and stats latency with 1,000 and with 200,000
 * bookings already in the table. Two tables of the same definition on the same
 * DynamoDB Local, seeded with BatchWriteItem with realistic booking items (the
 * store's key layout: lib/store/keys.ts), then measured in alternating blocks, so
 * that both sizes see the same machine at the same time.
 */
import { randomUUID } from 'node:crypto';
import { BatchWriteItemCommand, type DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { type Booking, type BookingStatus, toEventStats } from '../../lib/domain/booking';
import type { EventWithStock } from '../../lib/domain/event';
import { eventStore } from '../../lib/store/events';
import { keys } from '../../lib/store/keys';
import { NO_COPY } from '../../lib/store/recent-events';
import { createBooking, listBookings } from '../../lib/usecases/bookings';
import { getEvent } from '../../lib/usecases/events';
import { bookingItem, rawBooking } from '../support/booking-shape';
import { benchTable, createTableCopy, deleteTable } from '../support/dynamo';
import { sleep } from '../support/load';
import { definePart } from '../support/part';
import { check, fmt, table, target } from '../support/report';
import { median, round, summarize } from '../support/stats';
import { bookingDepsOn, createFutureEvent } from '../support/wiring';

const SIZES = [1_000, 200_000];
const EVENTS = 100;
/** Share of the seeded bookings that belong to the event the bench books (its index partitions grow too). */
const HOT_SHARE = 0.5;
const USERS = 10_000;
const ROUNDS = 16;
const BLOCK = 25;
const SEED_CONCURRENCY = 8;
const LIMIT = 1.2;

interface Seeded {
  name: string;
  size: number;
  hot: EventWithStock;
  seedSeconds: number;
  pendingSeeded: number;
}

function seededBooking(event: EventWithStock, i: number, now: number): Booking {
  const r = (i * 2654435761) % 100; // a fixed, well-spread mix
  const status: BookingStatus = r < 70 ? 'CONFIRMED' : r < 95 ? 'CANCELLED' : 'PENDING';
  const created = status === 'PENDING' ? now - ((i % 600) + 1) * 1000 : now - ((i % (30 * 86_400)) + 900) * 1000;
  const quantity = 1 + (i % 4);
  const createdAt = new Date(created).toISOString();
  return {
    id: randomUUID(),
    event_id: event.id,
    user_id: `user-${(i * 7919) % USERS}`,
    quantity,
    unit_price_cents: event.ticket_price_cents,
    amount_cents: quantity * event.ticket_price_cents,
    status,
    created_at: createdAt,
    expires_at: new Date(created + 900_000).toISOString(),
    confirmed_at: status === 'CONFIRMED' ? new Date(created + 60_000).toISOString() : null,
    cancelled_at: status === 'CANCELLED' ? new Date(created + 120_000).toISOString() : null,
    cancel_reason: status === 'CANCELLED' ? (r % 2 === 0 ? 'USER_CANCELLED' : 'PAYMENT_TIMEOUT') : null,
    ...(status === 'CONFIRMED' ? { payment_id: `pay_${i.toString(16).padStart(24, '0')}` } : {}),
  };
}

async function batchWrite(client: DynamoDBClient, tableName: string, requests: WriteRequest[]): Promise<void> {
  let pending: WriteRequest[] = requests;
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > 10) throw new Error(`BatchWriteItem left ${pending.length} items unprocessed`);
    if (attempt > 0) await sleep(50 * attempt);
    const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }));
    pending = out.UnprocessedItems?.[tableName] ?? [];
  }
}

export const scale = definePart('scale', async (ctx) => {
  const dynamo = await ctx.dynamo();
  const tables = SIZES.map((size) => ({ size, name: `bench-scale-${size}`, t: benchTable(dynamo.endpoint, `bench-scale-${size}`) }));
  const made: Record<string, number> = {};

  try {
    // Seed both tables: events first (through the store), then the bookings.
    const seeded: Seeded[] = [];
    for (const { size, name, t } of tables) {
      await createTableCopy(dynamo, name);
      const events = await Promise.all(
        Array.from({ length: EVENTS }, (_, i) =>
          createFutureEvent(eventStore(t), { name: `Scale ${i}`, description: 'Seeded for the scale benchmark.', total_tickets: 1_000_000, ticket_price: '35.00' }, 10 + i),
        ),
      );
      const hot = events[0]!;
      const now = Date.now();
      const seedStart = performance.now();
      let next = 0;
      let pendingSeeded = 0;
      const hotCounters = { tickets_held: 0, tickets_sold: 0, revenue_cents: 0, bookings_pending: 0, bookings_confirmed: 0, bookings_cancelled: 0 };
      await Promise.all(
        Array.from({ length: SEED_CONCURRENCY }, async () => {
          while (next < size) {
            const from = next;
            next = Math.min(size, next + 25);
            const batch: WriteRequest[] = [];
            for (let i = from; i < next; i++) {
              const event = i % Math.round(1 / HOT_SHARE) === 0 ? hot : events[1 + (i % (EVENTS - 1))]!;
              const booking = seededBooking(event, i, now);
              if (booking.status === 'PENDING') pendingSeeded++;
              if (event === hot) {
                if (booking.status === 'PENDING') {
                  hotCounters.tickets_held += booking.quantity;
                  hotCounters.bookings_pending++;
                } else if (booking.status === 'CONFIRMED') {
                  hotCounters.tickets_sold += booking.quantity;
                  hotCounters.revenue_cents += booking.amount_cents;
                  hotCounters.bookings_confirmed++;
                } else {
                  hotCounters.bookings_cancelled++;
                }
              }
              batch.push({ PutRequest: { Item: marshall(bookingItem(booking), { removeUndefinedValues: true }) } });
            }
            await batchWrite(t.raw, name, batch);
          }
        }),
      );
      // The hot event's counters as its seeded bookings make them, on the shard they count on.
      await t.client.send(
        new UpdateCommand({
          TableName: name,
          Key: keys.stock(hot.id, 0),
          UpdateExpression:
            'SET tickets_held = :h, tickets_sold = :s, revenue_cents = :r, bookings_pending = :p, bookings_confirmed = :c, bookings_cancelled = :x, available_tickets = available_tickets - :a',
          ExpressionAttributeValues: {
            ':h': hotCounters.tickets_held,
            ':s': hotCounters.tickets_sold,
            ':r': hotCounters.revenue_cents,
            ':p': hotCounters.bookings_pending,
            ':c': hotCounters.bookings_confirmed,
            ':x': hotCounters.bookings_cancelled,
            ':a': hotCounters.tickets_held + hotCounters.tickets_sold,
          },
        }),
      );
      const seedSeconds = round((performance.now() - seedStart) / 1000, 1);
      ctx.log(`scale: ${name}: ${size.toLocaleString('en-US')} bookings seeded in ${seedSeconds} s (${Math.round(size / seedSeconds)}/s)`);
      seeded.push({ name, size, hot: (await getEvent(eventStore(t), hot.id))!, seedSeconds, pendingSeeded });
    }

    // Measure in alternating blocks: [small, big], [big, small], ...
    const samples = Object.fromEntries(tables.map(({ name }) => [name, { booking: [] as number[], stats: [] as number[], raw: [] as number[], list: [] as number[] }]));
    // Every booking reads its event (no copy kept), so that the read's latency is in the figure too.
    const eventsOf = Object.fromEntries(tables.map(({ name, t }) => [name, eventStore(t)]));
    const depsOf = Object.fromEntries(tables.map(({ name, t }) => [name, bookingDepsOn(t, { eventCopy: NO_COPY })]));
    const hotOf = Object.fromEntries(seeded.map((s) => [s.name, s.hot]));
    const timed = async (into: number[], work: () => Promise<unknown>) => {
      const start = performance.now();
      await work();
      into.push(performance.now() - start);
    };
    const block = async (name: string, t: (typeof tables)[number]['t']) => {
      const s = samples[name]!;
      const deps = depsOf[name]!;
      const hot = hotOf[name]!;
      for (let i = 0; i < BLOCK; i++) {
        await timed(s.booking, async () => {
          await createBooking(deps, { user_id: `bench-${randomUUID()}`, event_id: hot.id, quantity: 1 });
          made[name] = (made[name] ?? 0) + 1;
        });
        await timed(s.stats, async () => toEventStats(await getEvent(eventsOf[name]!, hot.id)));
        await timed(s.raw, async () => {
          await rawBooking(t.raw, name, hot, `raw-${randomUUID()}`);
          made[name] = (made[name] ?? 0) + 1;
        });
        if (i % 5 === 0) await timed(s.list, () => listBookings(deps.bookings, { role: 'admin' }, { event_id: hot.id }, { limit: 20 }));
      }
    };
    // Warm-up (JIT, sockets, SQLite pages), not counted.
    for (const { name, t } of tables) {
      const warm = samples[name]!;
      await block(name, t);
      warm.booking.length = 0;
      warm.stats.length = 0;
      warm.raw.length = 0;
      warm.list.length = 0;
    }
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? tables : [...tables].reverse();
      for (const { name, t } of order) await block(name, t);
    }
    // The sweeper's query (every PENDING booking of the table is read, every minute).
    const sweep: Record<string, number[]> = {};
    for (let r = 0; r < 3; r++) {
      for (const { name } of tables) {
        sweep[name] ??= [];
        await timed(sweep[name]!, () => depsOf[name]!.bookings.expiredPending(new Date(), 500));
      }
    }

    // The counters of the hot event equal its seeded bookings plus the ones made here.
    const countersOk: string[] = [];
    for (const s of seeded) {
      const after = await getEvent(eventsOf[s.name]!, s.hot.id);
      const want = s.hot.tickets_held + (made[s.name] ?? 0);
      if (after.tickets_held !== want || after.tickets_held + after.tickets_sold + after.available_tickets !== after.total_tickets) {
        countersOk.push(`${s.name}: held ${after.tickets_held}, expected ${want}`);
      }
    }

    const [small, big] = tables.map(({ name }) => samples[name]!);
    const med = (xs: number[]) => median(xs);
    const ratio = (f: (x: typeof small) => number[]) => med(f(big!)) / med(f(small!));
    const bookingRatio = ratio((x) => x!.booking);
    const statsRatio = ratio((x) => x!.stats);
    const rawRatio = ratio((x) => x!.raw);
    const listRatio = ratio((x) => x!.list);
    const sweepSmall = med(sweep[tables[0]!.name]!);
    const sweepBig = med(sweep[tables[1]!.name]!);
    const rows = (label: string, pick: (x: typeof small) => number[]) => {
      const a = summarize(pick(small!));
      const b = summarize(pick(big!));
      return [label, fmt.n(a.n), fmt.ms(a.p50, 2), fmt.ms(b.p50, 2), (b.p50 / a.p50).toFixed(3), fmt.ms(a.p95, 2), fmt.ms(b.p95, 2), `${(a.p50 / med(small!.raw)).toFixed(2)} / ${(b.p50 / med(big!.raw)).toFixed(2)}`];
    };
    console.log(
      table(
        `Latency with ${SIZES.map((s) => s.toLocaleString('en-US')).join(' vs ')} bookings in the table (${ROUNDS} alternating rounds of ${BLOCK}; ${HOT_SHARE * 100}% of the seeded bookings on the booked event)`,
        ['operation', 'samples', 'p50 1k', 'p50 200k', 'ratio', 'p95 1k', 'p95 200k', 'p50 in raw TWI (1k / 200k)'],
        [
          rows('booking (createBooking, lib)', (x) => x!.booking),
          rows('stats (getEvent, lib)', (x) => x!.stats),
          rows('raw TransactWriteItems (yardstick)', (x) => x!.raw),
          rows('admin list, first page of the event', (x) => x!.list),
        ],
      ),
    );
    console.log(
      `  the sweeper's query of the PENDING partition: ${fmt.ms(sweepSmall)} with ${seeded[0]!.pendingSeeded} live holds, ${fmt.ms(sweepBig)} with ${seeded[1]!.pendingSeeded} (it reads them all every minute)`,
    );

    return {
      figures: {
        sizes: SIZES,
        seeding: seeded.map((s) => ({ table: s.name, bookings: s.size, seconds: s.seedSeconds, per_second: Math.round(s.size / s.seedSeconds), pending: s.pendingSeeded })),
        rounds: ROUNDS,
        block: BLOCK,
        latency_ms: Object.fromEntries(
          tables.map(({ name, size }) => [
            size,
            { booking: summarize(samples[name]!.booking), stats: summarize(samples[name]!.stats), raw_twi: summarize(samples[name]!.raw), admin_list: summarize(samples[name]!.list) },
          ]),
        ),
        ratios_200k_over_1k: { booking: round(bookingRatio, 3), stats: round(statsRatio, 3), raw_twi: round(rawRatio, 3), admin_list: round(listRatio, 3) },
        booking_p50_in_raw_twi: { small: round(med(small!.booking) / med(small!.raw), 2), big: round(med(big!.booking) / med(big!.raw), 2) },
        sweeper_query_ms: { small: round(sweepSmall, 1), big: round(sweepBig, 1), pending_small: seeded[0]!.pendingSeeded, pending_big: seeded[1]!.pendingSeeded },
      },
      checks: [check('scale: the booked event\'s counters equal its bookings (seeded + made)', countersOk.length === 0, countersOk.join('; ') || 'held + sold + available == total on both tables')],
      targets: [
        target('booking latency 200k / 1k (median)', round(bookingRatio, 3), '', '<=', LIMIT),
        target('stats latency 200k / 1k (median)', round(statsRatio, 3), '', '<=', LIMIT),
      ],
      notes: [],
    };
  } finally {
    for (const { name, t } of tables) {
      t.close();
      await deleteTable(dynamo.endpoint, name).catch(() => undefined);
    }
  }
});

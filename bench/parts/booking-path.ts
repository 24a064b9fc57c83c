/**
 * Part 1. The booking path against the engine's limit: bookings per second
 * through the booking service (lib/usecases createBooking with the real stores,
 * no HTTP) beside raw TransactWriteItems per second of the same shape (the same
 * three writes, bench/support/booking-shape.ts) on the same DynamoDB Local.
 *
 * The headline: each alone at saturation (16 in flight), in short alternating
 * rounds (raw, service, service, raw, ...); the ratio is the median of the pairs'
 * ratios, so that someone else's burst of CPU on this shared machine spoils a pair,
 * not the figure.
 *
 * The diagnosis: side by side, three kinds at once with the same number of
 * workers each: the raw transaction, a consistent GetItem of the event before each
 * transaction made raw (what the service did before it kept a copy of the event,
 * lib/store/recent-events.ts), and the service. The service beats reads+TWI by
 * the reads its copy spares; what remains between it and the raw transaction is
 * the code around the calls, and the tally read where an event caps tickets per user.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Event } from '../../lib/domain/event';
import { ServiceUnavailableError } from '../../lib/domain/errors';
import { eventStore } from '../../lib/store/events';
import { keys } from '../../lib/store/keys';
import { createBooking } from '../../lib/usecases/bookings';
import { rawBooking, rawReadsThenBooking } from '../support/booking-shape';
import { benchTable } from '../support/dynamo';
import { type LoadResult, runFor } from '../support/load';
import { definePart } from '../support/part';
import { check, fmt, table, target } from '../support/report';
import { median, round, summarize } from '../support/stats';
import { bookingDepsOn, createFutureEvent } from '../support/wiring';

interface Variant {
  name: string;
  /** Workers per kind. */
  workers: number;
  /** How many events the bookings spread over (1: one hot event). */
  events: number;
  maxPerUser: number | null;
  windows: number;
  windowMs: number;
}

const VARIANTS: Variant[] = [
  { name: 'spread over 16 events', workers: 8, events: 16, maxPerUser: null, windows: 4, windowMs: 2000 },
  { name: 'one hot event', workers: 8, events: 1, maxPerUser: null, windows: 2, windowMs: 2000 },
  { name: 'events with max_per_user (tally read too)', workers: 8, events: 16, maxPerUser: 1000, windows: 2, windowMs: 2000 },
  { name: 'one worker per kind (latency-bound)', workers: 1, events: 16, maxPerUser: null, windows: 2, windowMs: 2000 },
];
/** The headline: each kind alone, at saturation, in alternating (ABBA) rounds; the median of the pairs' ratios. */
const ALONE = { concurrency: 16, pairs: 12, roundMs: 1200 };
const KINDS = ['raw', 'reads', 'service'] as const;
type Kind = (typeof KINDS)[number];

function merge(rounds: LoadResult[]): LoadResult {
  const ops = rounds.reduce((n, r) => n + r.ops, 0);
  const elapsedMs = rounds.reduce((n, r) => n + r.elapsedMs, 0);
  const errors: Record<string, number> = {};
  for (const r of rounds) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
  return { ops, elapsedMs, perSecond: (ops / elapsedMs) * 1000, latencies: rounds.flatMap((r) => r.latencies), errors };
}

export const bookingPath = definePart('booking-path', async (ctx, cpu) => {
  const dynamo = await ctx.dynamo();
  const t = benchTable(dynamo.endpoint, dynamo.tableName);
  const events = eventStore(t);
  const unexpected: string[] = [];
  let serviceUnavailable = 0;
  /** Every booking that succeeded, of every kind, warm-ups included. */
  let succeeded = 0;
  const deps = bookingDepsOn(t);
  const createdEvents: Event[] = [];
  const newEvent = async (maxPerUser: number | null) => {
    const event = await createFutureEvent(events, { name: 'Booking path bench', total_tickets: 1_000_000, ticket_price: '49.90', max_per_user: maxPerUser }, 30);
    createdEvents.push(event);
    return event;
  };
  const opsFor = (pool: Event[]): Record<Kind, (worker: number) => Promise<unknown>> => {
    const pick = (worker: number) => pool[(worker + Math.floor(Math.random() * pool.length)) % pool.length]!;
    return {
      raw: async (w) => {
        await rawBooking(t.raw, t.name, pick(w), `bench-user-${randomUUID()}`);
        succeeded++;
      },
      reads: async (w) => {
        await rawReadsThenBooking(t.raw, t.name, pick(w), `bench-user-${randomUUID()}`);
        succeeded++;
      },
      service: async (w) => {
        try {
          await createBooking(deps, { user_id: `bench-user-${randomUUID()}`, event_id: pick(w).id, quantity: 1 });
          succeeded++;
        } catch (error) {
          if (error instanceof ServiceUnavailableError) serviceUnavailable++;
          else unexpected.push(String(error));
          throw error;
        }
      },
    };
  };

  try {
    // Side by side.
    const rows = [];
    for (const variant of VARIANTS) {
      const ops = opsFor(await Promise.all(Array.from({ length: variant.events }, () => newEvent(variant.maxPerUser))));
      const windowOf = async (ms: number) => {
        const results = await Promise.all(KINDS.map((k) => runFor(ms, variant.workers, ops[k])));
        return Object.fromEntries(KINDS.map((k, i) => [k, results[i]!])) as Record<Kind, LoadResult>;
      };
      await windowOf(1500); // warm-up: JIT on both sides, sockets
      const windows: Record<Kind, LoadResult>[] = [];
      for (let w = 0; w < variant.windows; w++) windows.push(await windowOf(variant.windowMs));
      const all = Object.fromEntries(KINDS.map((k) => [k, merge(windows.map((w) => w[k]))])) as Record<Kind, LoadResult>;
      const ratios = (a: Kind, b: Kind) => windows.map((w) => w[a].perSecond / w[b].perSecond);
      const row = {
        variant,
        all,
        serviceOverRaw: median(ratios('service', 'raw')),
        readsOverRaw: median(ratios('reads', 'raw')),
        serviceOverReads: median(ratios('service', 'reads')),
        windowRatios: ratios('service', 'raw').map((r) => round(r, 3)),
      };
      rows.push(row);
      ctx.log(`booking path, ${variant.name}: service/raw ${row.serviceOverRaw.toFixed(3)} (windows ${row.windowRatios.join(' ')})`);
    }

    // Alone, for the record: raw and service each with all 16 workers, ABBA rounds.
    const aloneOps = opsFor(await Promise.all(Array.from({ length: 16 }, () => newEvent(null))));
    await runFor(1000, ALONE.concurrency, aloneOps.raw);
    await runFor(1000, ALONE.concurrency, aloneOps.service);
    const alone = { raw: [] as LoadResult[], service: [] as LoadResult[] };
    for (let p = 0; p < ALONE.pairs; p++) {
      const order: ('raw' | 'service')[] = p % 2 === 0 ? ['raw', 'service'] : ['service', 'raw'];
      for (const kind of order) alone[kind].push(await runFor(ALONE.roundMs, ALONE.concurrency, aloneOps[kind]));
    }
    const aloneRaw = merge(alone.raw);
    const aloneService = merge(alone.service);
    const alonePairRatios = alone.service.map((s, i) => round(s.perSecond / alone.raw[i]!.perSecond, 3));
    const aloneRatio = median(alonePairRatios);

    // Every successful booking is in the counters, and none more.
    const held = await Promise.all(
      createdEvents.map(async (e) => {
        const item = (await t.client.send(new GetCommand({ TableName: t.name, Key: keys.event(e.id), ConsistentRead: true }))).Item;
        return { held: Number(item?.tickets_held), available: Number(item?.available_tickets), total: Number(item?.total_tickets) };
      }),
    );
    const consistent = held.every((h) => h.held + h.available === h.total);
    const heldTotal = held.reduce((n, h) => n + h.held, 0);

    console.log(
      table(
        `Booking path vs raw TransactWriteItems, each alone at ${ALONE.concurrency} in flight (${ALONE.pairs} ABBA pairs of ${ALONE.roundMs / 1000} s, spread over 16 events)`,
        ['kind', 'per second', 'p50', 'p95', 'errors'],
        [
          ['raw TransactWriteItems (the engine\'s limit)', fmt.n(aloneRaw.perSecond), fmt.ms(summarize(aloneRaw.latencies).p50), fmt.ms(summarize(aloneRaw.latencies).p95), JSON.stringify(aloneRaw.errors)],
          ['booking service (createBooking)', fmt.n(aloneService.perSecond), fmt.ms(summarize(aloneService.latencies).p50), fmt.ms(summarize(aloneService.latencies).p95), JSON.stringify(aloneService.errors)],
        ],
      ),
    );
    console.log(`  service / raw: ${aloneRatio.toFixed(3)} (median of pairs; ratio of totals ${(aloneService.perSecond / aloneRaw.perSecond).toFixed(3)}; pairs: ${alonePairRatios.join(' ')})`);
    console.log(
      table(
        'Diagnosis, side by side on one DynamoDB Local: raw TWI, the service\'s calls made raw (reads+TWI), the service (ratios: median over windows)',
        ['variant', 'workers/kind', 'raw TWI/s', 'reads+TWI/s', 'service/s', 'service / raw', 'reads+TWI / raw', 'service / reads+TWI', 'p50 raw', 'p50 service', 'service / raw per window'],
        rows.map((r) => [
          r.variant.name,
          String(r.variant.workers),
          fmt.n(r.all.raw.perSecond),
          fmt.n(r.all.reads.perSecond),
          fmt.n(r.all.service.perSecond),
          r.serviceOverRaw.toFixed(3),
          r.readsOverRaw.toFixed(3),
          r.serviceOverReads.toFixed(3),
          fmt.ms(summarize(r.all.raw.latencies).p50),
          fmt.ms(summarize(r.all.service.latencies).p50),
          r.windowRatios.join(' '),
        ]),
      ),
    );
    console.log(`  CPU yardstick: ${fmt.ms(cpu.ms)}; the engine's limit alone, ${fmt.n(aloneRaw.perSecond)} raw TWI/s = ${((aloneRaw.perSecond * cpu.ms) / 1000).toFixed(1)} per yardstick`);

    return {
      figures: {
        side_by_side: rows.map((r) => ({
          name: r.variant.name,
          workers_per_kind: r.variant.workers,
          events: r.variant.events,
          max_per_user: r.variant.maxPerUser,
          windows: r.variant.windows,
          window_ms: r.variant.windowMs,
          per_second: Object.fromEntries(KINDS.map((k) => [k, round(r.all[k].perSecond, 1)])),
          latency_ms: Object.fromEntries(KINDS.map((k) => [k, summarize(r.all[k].latencies)])),
          errors: Object.fromEntries(KINDS.map((k) => [k, r.all[k].errors])),
          service_over_raw: round(r.serviceOverRaw, 3),
          reads_over_raw: round(r.readsOverRaw, 3),
          service_over_reads: round(r.serviceOverReads, 3),
          service_over_raw_per_window: r.windowRatios,
        })),
        alone: {
          concurrency: ALONE.concurrency,
          pairs: ALONE.pairs,
          round_ms: ALONE.roundMs,
          raw_per_second: round(aloneRaw.perSecond, 1),
          service_per_second: round(aloneService.perSecond, 1),
          ratio_median_of_pairs: round(aloneRatio, 3),
          ratio_of_totals: round(aloneService.perSecond / aloneRaw.perSecond, 3),
          pair_ratios: alonePairRatios,
          raw_latency_ms: summarize(aloneRaw.latencies),
          service_latency_ms: summarize(aloneService.latencies),
        },
        main_ratio: round(aloneRatio, 3),
        raw_per_second_alone_per_cpu_yardstick: round((aloneRaw.perSecond * cpu.ms) / 1000, 2),
        tickets_held_total: heldTotal,
      },
      checks: [
        check('booking path: no unexpected errors', unexpected.length === 0, unexpected.length === 0 ? `0 (503 busy: ${serviceUnavailable})` : unexpected.slice(0, 3).join('; ')),
        check(
          'booking path: every booking made is held, none more',
          consistent && heldTotal === succeeded,
          `${succeeded} bookings succeeded, ${heldTotal} tickets held over ${createdEvents.length} events (held + available == total: ${consistent})`,
        ),
      ],
      targets: [target('service / raw TWI throughput (alone, 16 in flight, median of ABBA pairs)', round(aloneRatio, 3), '', '>=', 0.9)],
      notes: [
        "reads+TWI is a consistent GetItem of the event (and of the tally with max_per_user) before every transaction, made raw: what the service did before it kept a copy of the event for up to five seconds (it still reads the tally). The hold timer is a no-op here (its StartExecution is measured over HTTP in the flash sale).",
      ],
    };
  } finally {
    t.close();
  }
});

/**
 * Part 9. The waiting list absorbing a burst: a sold-out event of 1,000 tickets
 * held by 1,000 one-ticket bookings, 1,100 people in line, and every booking
 * cancelled at once (24 at a time), through the model of AWS (conflicts, tokens,
 * partitions at AWS's limits). The offer step runs as the stream consumer would:
 * once a second (the mapping's batch window) while releases arrive, and until
 * the line is served. Measured: how long the cancels take, how long after the
 * last cancel the last offer lands, and the offers' rate against the cancels'.
 * Checked: every ticket offered once, to the first 1,000 in line, in order, and
 * the counters equal to a recount.
 */
import { randomUUID } from 'node:crypto';
import { startLikeAwsDynamoDb } from '../../localstack/like-aws/dynamodb';
import { likeAwsSettings } from '../../localstack/like-aws/settings';
import type { Booking } from '../../lib/domain/booking';
import type { WaitlistEntry } from '../../lib/domain/waitlist';
import { inParallel } from '../../lib/parallel';
import { eventStore } from '../../lib/store/events';
import { waitlistStore } from '../../lib/store/waitlist';
import { cancelBooking, createBooking } from '../../lib/usecases/bookings';
import { eventStats } from '../../lib/usecases/events';
import { joinWaitlist, offerTickets, type WaitlistDeps } from '../../lib/usecases/waitlist';
import { onCleanup } from '../support/cleanup';
import { benchTable } from '../support/dynamo';
import { sleep } from '../support/load';
import { definePart } from '../support/part';
import { check, fmt, table, target } from '../support/report';
import { round } from '../support/stats';
import { bookingDepsOn, createFutureEvent } from '../support/wiring';

const TICKETS = 1_000;
const LINE = 1_100;
const AT_ONCE = 24;
/** The offer mapping's batch window: how often the stream hands the step what came. */
const WINDOW_MS = 1_000;
/** "Within seconds": the last offer after the last release. */
const LAG_LIMIT_S = 5;

export const waitlist = definePart('waitlist', async (ctx) => {
  const dynamo = await ctx.dynamo();
  const model = await startLikeAwsDynamoDb({
    port: 0,
    upstream: dynamo.endpoint,
    table: dynamo.definition,
    settings: { ...likeAwsSettings({}), models: ['conflicts', 'tokens', 'partitions'] },
  });
  onCleanup('like-aws proxy (waitlist)', () => model.stop());
  const t = benchTable(model.endpoint, dynamo.tableName);
  try {
    const events = eventStore(t);
    const lines = waitlistStore(t);
    const bookingDeps = { ...bookingDepsOn(t), waitlist: lines };
    const deps: WaitlistDeps = { events, bookings: bookingDeps.bookings, stock: events.stock, waitlist: lines, offerSeconds: 900, clock: () => new Date() };
    const event = await createFutureEvent(events, { name: 'Waitlist burst', total_tickets: TICKETS, ticket_price: '20.00', max_per_booking: 2 }, 30);
    const run = randomUUID().slice(0, 8);

    ctx.log(`waitlist: selling out ${TICKETS} tickets, then ${LINE} joins`);
    const held: Booking[] = await inParallel(Array.from({ length: TICKETS }, (_, i) => i), AT_ONCE, (i) =>
      createBooking(bookingDeps, { user_id: `holder-${run}-${i}`, event_id: event.id, quantity: 1 }),
    );
    const joinStart = performance.now();
    const line: WaitlistEntry[] = [];
    // Joined in waves so that the order of the line is known: each wave after the last.
    for (let wave = 0; wave < LINE; wave += AT_ONCE) {
      const size = Math.min(AT_ONCE, LINE - wave);
      const joined = await inParallel(Array.from({ length: size }, (_, i) => wave + i), AT_ONCE, async (i) =>
        (await joinWaitlist(deps, { user_id: `waiter-${run}-${i}`, event_id: event.id, quantity: 1 })).entry,
      );
      line.push(...joined);
    }
    const joinSeconds = (performance.now() - joinStart) / 1000;
    line.sort((a, b) => a.seq - b.seq);

    ctx.log(`waitlist: cancelling ${TICKETS} bookings at once (${AT_ONCE} at a time), the offer step once a second`);
    const start = performance.now();
    let cancelsDone = false;
    let offered = 0;
    let steps = 0;
    let lastOfferAt = start;
    const consumer = (async () => {
      while (!cancelsDone || offered < TICKETS) {
        const stepStart = performance.now();
        const result = await offerTickets(deps, event.id);
        steps++;
        offered += result.offered;
        if (result.offered > 0) lastOfferAt = performance.now();
        if (cancelsDone && result.offered === 0 && offered < TICKETS) {
          // Nothing more to offer although not everyone was served: stop rather than spin.
          if (performance.now() - lastOfferAt > 30_000) break;
        }
        await sleep(Math.max(0, WINDOW_MS - (performance.now() - stepStart)));
      }
    })();
    await inParallel(held, AT_ONCE, (b) => cancelBooking(bookingDeps, b.id, { role: 'admin' }));
    const cancelSeconds = (performance.now() - start) / 1000;
    cancelsDone = true;
    await consumer;
    const absorbSeconds = (lastOfferAt - start) / 1000;
    const lagSeconds = Math.max(0, absorbSeconds - cancelSeconds);

    const final = await Promise.all(line.map(async (e) => (await lines.get(e.id))!));
    const offeredIds = final.filter((e) => e.status === 'OFFERED').map((e) => e.id);
    const firstThousand = line.slice(0, TICKETS).map((e) => e.id);
    const stats = await eventStats(events, lines, event.id);
    const inOrder = offeredIds.length === TICKETS && firstThousand.every((id) => offeredIds.includes(id));

    const rows = [
      ['joins', fmt.n(LINE), `${round(joinSeconds, 1)} s`, fmt.n(LINE / joinSeconds, 0)],
      ['cancels (releases to the line)', fmt.n(TICKETS), `${round(cancelSeconds, 1)} s`, fmt.n(TICKETS / cancelSeconds, 0)],
      ['offers', fmt.n(offered), `${round(absorbSeconds, 1)} s`, fmt.n(offered / Math.max(absorbSeconds, 0.001), 0)],
    ];
    console.log(table('Waiting list: a burst of releases under the model of AWS', ['what', 'count', 'took', 'per second'], rows));
    console.log(`  offer steps: ${steps}; last offer ${round(lagSeconds, 1)} s after the last cancel`);

    return {
      figures: {
        tickets: TICKETS,
        line: LINE,
        join_seconds: round(joinSeconds, 1),
        cancel_seconds: round(cancelSeconds, 1),
        absorb_seconds: round(absorbSeconds, 1),
        lag_after_last_cancel_seconds: round(lagSeconds, 1),
        offers_per_second: round(offered / Math.max(absorbSeconds, 0.001), 0),
        offers_to_cancels_rate: round(offered / Math.max(absorbSeconds, 0.001) / (TICKETS / cancelSeconds), 2),
        offer_steps: steps,
        model: (({ requests, conflicts, throttles }) => ({ requests, conflicts, throttles }))(model.stats()),
      },
      checks: [
        check('every released ticket offered once', offered === TICKETS && stats.tickets_held === TICKETS && stats.tickets_available === 0, `${offered} offers, held ${stats.tickets_held}, available ${stats.tickets_available}`),
        check('offered to the first 1,000 in line, nobody behind them', inOrder, `${offeredIds.length} OFFERED; the first ${TICKETS} by place all among them: ${inOrder}`),
        check('sold + held + available = total', stats.tickets_sold + stats.tickets_held + stats.tickets_available === stats.total_tickets, JSON.stringify(stats)),
        check('the rest still wait', stats.waitlist_waiting === LINE - TICKETS, `${stats.waitlist_waiting} WAITING`),
      ],
      targets: [
        target('offers keep pace with releases (offer rate / cancel rate)', round(offered / Math.max(absorbSeconds, 0.001) / (TICKETS / cancelSeconds), 2), 'x', '>=', 0.8),
        target('last offer after the last release', round(lagSeconds, 1), 's', '<=', LAG_LIMIT_S),
      ],
      notes: [
        'The offer step makes up to ten offers per transaction; releases of one event go to its line on the shards they came from, so concurrent cancels do not meet on one item.',
      ],
    };
  } finally {
    t.close();
    await model.stop();
  }
});

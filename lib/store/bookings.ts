import { GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { type Booking, type BookingStatus, BookingStatus as Statuses, type CounterDelta, holdDelta, ZERO_COUNTERS } from '../domain/booking';
import type { Take } from '../domain/stock';
import { type Table, transactionToken } from './client';
import { cancelledTransaction, lostARace } from './conditions';
import type { IdempotencyCompletion } from '../ports';
import { completionUpdate } from './idempotency';
import {
  bookingIndexKeys,
  bookingsByEventStatus,
  bookingsByStatus,
  bookingsByUser,
  holdsByExpiry,
  indexBuckets,
  keys,
  stripKeys,
} from './keys';
import { type IndexPartition, newestFirst, type Page, type PageRequest } from './pagination';
import { RETRY } from './retry';
import { countAction, takeAction, toShard } from './stock';

export type CreateBookingOutcome =
  | { kind: 'created' }
  /**
   * The booking exists already: an earlier attempt of this same request (its id is
   * made once per request) was applied, and its answer lost. Read it.
   */
  | { kind: 'created-before' }
  /** A shard the booking was sent to does not exist (not created yet, or the event is gone). */
  | { kind: 'shard-missing'; shard: number }
  /** A PATCH changed the event (price, limits, date) since it was read: plan again. */
  | { kind: 'event-changed' }
  /** A shard still sells at an older version than the booking was planned on: a PATCH has not reached it yet. */
  | { kind: 'shard-behind'; shard: number }
  /** A shard no longer holds the tickets the booking was to take from it. */
  | { kind: 'shard-short'; shard: number }
  | { kind: 'per-user-limit'; held: number }
  /** Another request took over this Idempotency-Key: nothing was written. */
  | { kind: 'idempotency-lost' }
  /** Cancelled by a conflict or a throttle on these shards (or on no shard): nothing was written. */
  | { kind: 'contended'; shards: number[] };

export type TransitionOutcome = { kind: 'done'; booking: Booking } | { kind: 'status-changed'; current: Booking | undefined };

export interface Transition {
  /**
   * Made once per request and written with the change: a booking found in the new
   * state with this id was changed by this request, on an attempt whose answer was
   * lost, so the change is done rather than refused.
   */
  changeId: string;
  delta: CounterDelta;
  tallyDelta: number;
  hold?: { must: 'be-running' | 'have-expired'; now: Date };
  idempotency?: IdempotencyCompletion | undefined;
  /**
   * The waiting-list entry an offered booking ends (`booking.waitlist_entry_id`),
   * in the same transaction: ACCEPTED when paid, EXPIRED when it runs out or is
   * cancelled, LEFT when its user leaves the line. The user may then join again.
   */
  entry?: { to: 'ACCEPTED' | 'EXPIRED' | 'LEFT'; now: Date } | undefined;
  /**
   * With a release to the waiting list: the tickets on sale on the booking's
   * shard, as read, taken into the line's hands with it (lib/store/stock.ts,
   * countAction). Gone meanwhile: the transition is tried again.
   */
  gather?: number | undefined;
}

export interface BookingFilter {
  user_id?: string | undefined;
  event_id?: string | undefined;
  status?: BookingStatus | undefined;
}

export interface BookingStore {
  get(id: string): Promise<Booking | undefined>;
  /** Tickets the user holds or bought for the event (PENDING and CONFIRMED bookings). */
  userTickets(eventId: string, userId: string): Promise<number>;
  /**
   * One attempt of the booking transaction, taking the tickets from the shards
   * `takes` names (the booking counts on the first: `booking.stock_shard`).
   */
  create(
    booking: Booking,
    expected: { eventVersion: number; maxPerUser: number | null; takes: Take[] },
    idempotency?: IdempotencyCompletion,
  ): Promise<CreateBookingOutcome>;
  /**
   * Moves a booking from its current status to `next`, applying `delta` to its
   * event's counters and `tallyDelta` to the user's tally, all in one transaction
   * conditioned on the status being unchanged, and, with `hold`, on the hold being
   * still running (a payment) or over (an expiry) at `now`.
   */
  transition(from: Booking, next: Booking, change: Transition): Promise<TransitionOutcome | typeof RETRY>;
  /** The ids of PENDING bookings whose hold ran out by `now` (at most `limit`). */
  expiredPending(now: Date, limit: number): Promise<string[]>;
  list(filter: BookingFilter, page: PageRequest): Promise<Page<Booking>>;
}

/** What a shard other than the booking's own gives: tickets only, the booking counts elsewhere. */
function holdPart(quantity: number): CounterDelta {
  return { ...ZERO_COUNTERS, available_tickets: -quantity, tickets_held: quantity };
}

/** The shard a booking counts on; bookings made before the stock was sharded count on shard 0. */
const shardOf = (booking: Booking) => booking.stock_shard ?? 0;

export function bookingItem(booking: Booking): Record<string, unknown> {
  return { ...keys.booking(booking.id), type: 'booking', ...bookingIndexKeys(booking), ...booking };
}


export function bookingStore(table: Table): BookingStore {
  const { client, name: TableName } = table;

  return {
    async get(id) {
      const result = await client.send(new GetCommand({ TableName, Key: keys.booking(id), ConsistentRead: true }));
      return result.Item ? stripKeys<Booking>(result.Item) : undefined;
    },

    async userTickets(eventId, userId) {
      const result = await client.send(
        new GetCommand({ TableName, Key: keys.tally(eventId, userId), ConsistentRead: true, ProjectionExpression: 'tickets' }),
      );
      return typeof result.Item?.tickets === 'number' ? result.Item.tickets : 0;
    },

    /*
     * THE BOOKING TRANSACTION: why no booking can oversell, even at two thousand
     * bookings a second on one event.
     *
     * An event's unsold stock is not one number on one item: it is spread over
     * the event's stock shards, items with partition keys of their own
     * (EVENT#<id>#STOCK#0 .. #<n-1>, lib/domain/stock.ts). Each shard carries its
     * part of the available tickets and of the counters (held, sold, revenue,
     * bookings by status), and the version of the event's terms it sells at. A
     * booking is one TransactWriteItems, all or nothing:
     *
     *   1. Update EVENT#<id>#STOCK#<k>: available -= q, held += q, pending += 1
     *        IF available_tickets >= q          <- the oversell guard, per shard
     *        AND version = <version planned on> <- price, limits and date unchanged
     *      (or, when no one shard has q, several shards, each giving part of q
     *      under the same two conditions)
     *   2. Update TALLY#<event>#<user>: tickets += q
     *        IF tickets + q <= max_per_user      (when the event has a cap)
     *   3. Put BOOKING#<id>                      IF it does not exist yet
     *   4. Update IDEMPOTENCY#...: COMPLETED with the response
     *        IF this request still owns the key  (when an Idempotency-Key was sent)
     *
     * DynamoDB evaluates every condition and applies every write atomically, in
     * isolation from every other write to those items. `available_tickets` is
     * never read by us and written later: the check and the decrement are one
     * operation inside DynamoDB. Every shard it touches keeps available >= 0, so
     * their sum, the event's unsold stock, never goes below zero: nothing is sold
     * that no shard had. Two buyers racing for a shard's last ticket both send
     * "decrement if >= 1"; the first succeeds and the second's condition fails:
     *
     *   buyer A                      shard 3 (available)         buyer B
     *   TransactWrite(q=1) ───────▶  1 ──▶ 0   (condition ok)
     *                                0         (condition fails) ◀── TransactWrite(q=1)
     *   201 Created                                                reads every shard
     *
     * Why shards. One item takes at most 1,000 write units a second, and
     * transactions on one item at the same moment cancel each other
     * (TransactionConflict) rather than queue. One stock item caps an event at a
     * few hundred bookings a second whatever the table's capacity; n shards give
     * it n partitions, and a buyer picks one at random, so concurrent buyers
     * rarely meet. Each shard is small (under 1 KB: two write units per
     * transactional write) and carries nothing descriptive: the event item, with
     * its 5,000-character description, is written by a PATCH, never by a booking.
     *
     * Why a refusal is still right. A shard with too few tickets says nothing of
     * the others, so its failed condition is not a refusal: the caller
     * (lib/usecases/bookings.ts) then reads every shard, strongly consistent, and
     * refuses only if they hold fewer than q together. Otherwise it takes the
     * tickets from one shard that has them, or from several in one transaction:
     * the tail of a sale, whose last tickets sit on different shards, still sells
     * every one of them.
     *
     *   buyer (q=2)                  shard 0   shard 1   shard 2  (available)
     *   take 2 from shard 1 ───────▶    1         0         1     fails: shard 1 has 0
     *   read every shard ◀──────────    1         0         1     together 2 >= 2
     *   take 1 from 0 and 1 from 2 ─▶   0         0         0     both conditions ok
     *   201 Created
     *
     *   buyer C (q=1), just after   read every shard: 0 + 0 + 0 < 1   409 insufficient
     *
     * Why the version is on every shard. The booking is priced and limited on
     * the event's terms as read (maybe from a copy kept a moment, lib/store/
     * recent-events.ts). A PATCH of the price, a limit or the date writes a new
     * version on the event item and then on every shard; a booking planned on the
     * old version fails on a shard that has the new one and plans again; one
     * planned on the new version that meets a shard the PATCH has not reached yet
     * raises that shard's version itself and tries again. So no booking lands at
     * a price or limit older than the one the PATCH answered with.
     *
     * Why a conditional transaction and not a lock: a lock makes every buyer of a
     * hot event wait for the holder, turns buyers away while seats are left, and a
     * crashed holder strands it. The condition needs no lock: every request that
     * *can* succeed does, in one round trip.
     *
     * Under contention. A transaction cancelled by a conflict (`TransactionConflict`)
     * or a throttled partition (`ThrottlingError`) did nothing; the caller tries
     * again, with backoff and jitter, on another shard than the one that was busy
     * (bounded: lib/store/retry.ts; a request still losing after that gets 503 +
     * Retry-After, never a 500 and never a wrong answer). A failed condition is
     * read from the cancellation reasons, with the item as it was
     * (ReturnValuesOnConditionCheckFailure: ALL_OLD), and becomes what it means.
     *
     * A lost answer. DynamoDB may apply the transaction and the answer never
     * arrive. The SDK sends it again with the same ClientRequestToken, which
     * DynamoDB answers without applying it twice. If the SDK gives up, the next
     * attempt plans the same booking id again (made once per request), and its
     * Put fails on the booking the first attempt wrote: that is this request's own
     * booking, read back, not a refusal (`created-before`), whatever the shards
     * say now.
     *
     *   attempt 1: TransactWrite ───▶ applied ─ ─ ✗ answer lost
     *   attempt 2: TransactWrite ───▶ cancelled: BOOKING#<id> exists (ours)
     *              read BOOKING#<id> ◀── 201 with the booking attempt 1 made
     *
     * The per-user tallies and the bookings are items of their own, and the
     * booking's index entries are spread over buckets (lib/store/keys.ts), so no
     * item or index partition is written by every booking of an event.
     */
    async create(booking, expected, idempotency) {
      const { takes } = expected;
      const tallyCondition =
        expected.maxPerUser === null ? undefined : 'attribute_not_exists(tickets) OR tickets <= :room';
      try {
        await client.send(
          new TransactWriteCommand({
            ClientRequestToken: transactionToken(),
            TransactItems: [
              // The booking counts on its first shard; the others only give tickets.
              ...takes.map((take, i) =>
                takeAction(
                  TableName,
                  booking.event_id,
                  take,
                  expected.eventVersion,
                  i === 0 ? { ...holdDelta(booking), available_tickets: -take.quantity, tickets_held: take.quantity } : holdPart(take.quantity),
                ),
              ),
              {
                Update: {
                  TableName,
                  Key: keys.tally(booking.event_id, booking.user_id),
                  UpdateExpression: 'SET tickets = if_not_exists(tickets, :zero) + :q, #type = :type',
                  ConditionExpression: tallyCondition,
                  ExpressionAttributeNames: { '#type': 'type' },
                  ExpressionAttributeValues: {
                    ':zero': 0,
                    ':q': booking.quantity,
                    ':type': 'tally',
                    ...(expected.maxPerUser === null ? {} : { ':room': expected.maxPerUser - booking.quantity }),
                  },
                  ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                },
              },
              {
                Put: { TableName, Item: bookingItem({ ...booking, stock_shard: takes[0]!.shard }), ConditionExpression: 'attribute_not_exists(pk)' },
              },
              ...(idempotency ? [{ Update: completionUpdate(idempotency, TableName) }] : []),
            ],
          }),
        );
        return { kind: 'created' };
      } catch (error) {
        const cancelled = cancelledTransaction(error);
        if (!cancelled) throw error;
        const shards = cancelled.reasons.slice(0, takes.length);
        const [tally, put, idem] = cancelled.reasons.slice(takes.length);
        // The booking id is made once per request, so only this request can have
        // written it: an earlier attempt was applied, whatever else fails now (its
        // tickets were taken by that attempt, its key record completed by it).
        if (put?.code === 'ConditionalCheckFailed') return { kind: 'created-before' };
        for (const [i, reason] of shards.entries()) {
          if (reason.code !== 'ConditionalCheckFailed') continue;
          const shard = takes[i]!.shard;
          if (!reason.item) return { kind: 'shard-missing', shard };
          const found = toShard(reason.item);
          if (found.version > expected.eventVersion) return { kind: 'event-changed' };
          if (found.version < expected.eventVersion) return { kind: 'shard-behind', shard };
          return { kind: 'shard-short', shard };
        }
        if (tally?.code === 'ConditionalCheckFailed') {
          return { kind: 'per-user-limit', held: typeof tally.item?.tickets === 'number' ? tally.item.tickets : 0 };
        }
        if (idem?.code === 'ConditionalCheckFailed') return { kind: 'idempotency-lost' };
        if (lostARace(cancelled)) {
          const busy = shards.flatMap((reason, i) => (reason.code === 'None' ? [] : [takes[i]!.shard]));
          return { kind: 'contended', shards: busy };
        }
        throw error;
      }
    },

    async transition(from, next, { changeId, delta, tallyDelta, hold, idempotency, entry, gather }) {
      const entryId = from.waitlist_entry_id;
      const entryActions =
        entry && entryId
          ? [
              {
                Update: {
                  TableName,
                  Key: keys.waitlistEntry(entryId),
                  // The change id lets a request whose answer was lost know the entry's end as its own.
                  UpdateExpression: 'SET #status = :to, updated_at = :now, change_id = :change',
                  ConditionExpression: '#status = :offered AND booking_id = :booking',
                  ExpressionAttributeNames: { '#status': 'status' },
                  ExpressionAttributeValues: { ':to': entry.to, ':now': entry.now.toISOString(), ':offered': 'OFFERED', ':booking': from.id, ':change': changeId },
                },
              },
              { Delete: { TableName, Key: keys.inLine(from.event_id, from.user_id) } },
            ]
          : [];
      const counts = Object.values(delta).some((change) => change !== 0);
      const moved = bookingIndexKeys(next);
      let condition = '#status = :from';
      const holdValues: Record<string, string> = {};
      if (hold) {
        condition += hold.must === 'be-running' ? ' AND expires_at > :now' : ' AND expires_at <= :now';
        holdValues[':now'] = hold.now.toISOString();
      }
      try {
        await client.send(
          new TransactWriteCommand({
            ClientRequestToken: transactionToken(),
            TransactItems: [
              {
                Update: {
                  TableName,
                  Key: keys.booking(from.id),
                  UpdateExpression:
                    // The booking leaves the live holds (gsi4) with its first change.
                    'SET #status = :next, confirmed_at = :confirmed_at, cancelled_at = :cancelled_at, cancel_reason = :cancel_reason, payment_id = :payment_id, change_id = :change, gsi2pk = :gsi2pk, gsi3pk = :gsi3pk REMOVE gsi4pk, gsi4sk',
                  ConditionExpression: condition,
                  ExpressionAttributeNames: { '#status': 'status' },
                  ExpressionAttributeValues: {
                    ':next': next.status,
                    ':from': from.status,
                    ':confirmed_at': next.confirmed_at,
                    ':cancelled_at': next.cancelled_at,
                    ':cancel_reason': next.cancel_reason,
                    ':payment_id': next.payment_id ?? null,
                    ':change': changeId,
                    ':gsi2pk': moved.gsi2pk,
                    ':gsi3pk': moved.gsi3pk,
                    ...holdValues,
                  },
                  ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                },
              },
              ...(counts ? [countAction(TableName, from.event_id, shardOf(from), delta, gather)] : []),
              ...(tallyDelta !== 0
                ? [
                    {
                      Update: {
                        TableName,
                        Key: keys.tally(from.event_id, from.user_id),
                        UpdateExpression: 'SET tickets = if_not_exists(tickets, :zero) + :delta',
                        ExpressionAttributeValues: { ':zero': 0, ':delta': tallyDelta },
                      },
                    },
                  ]
                : []),
              ...(idempotency ? [{ Update: completionUpdate(idempotency, TableName) }] : []),
              ...entryActions,
            ],
          }),
        );
        return { kind: 'done', booking: next };
      } catch (error) {
        const cancelled = cancelledTransaction(error);
        if (!cancelled) throw error;
        const first = cancelled.reasons[0];
        if (first?.code === 'ConditionalCheckFailed') {
          const current = first.item ? stripKeys<Booking>(first.item) : undefined;
          // This very change, applied by an earlier attempt whose answer was lost.
          if (current?.change_id === changeId && current.status === next.status) return { kind: 'done', booking: current };
          return { kind: 'status-changed', current };
        }
        // The entry has ended already (its event was deleted): the booking's change stands alone.
        if (entryActions.length > 0 && cancelled.reasons.at(-2)?.code === 'ConditionalCheckFailed') {
          return this.transition(from, next, { changeId, delta, tallyDelta, hold, idempotency, gather });
        }
        // The tickets on sale it was to gather for the line moved meanwhile: read again.
        if (gather && counts && cancelled.reasons[1]?.code === 'ConditionalCheckFailed') return RETRY;
        if (lostARace(cancelled)) return RETRY;
        throw error;
      }
    },

    /**
     * gsi4 holds only live holds (a booking leaves it with its first change),
     * sorted by expiry, in buckets: each bucket is read up to `now` and no
     * further, so a sweep reads the holds that are due and nothing else, however
     * many are still running.
     */
    async expiredPending(now, limit) {
      // Every key of a hold due by now sorts below `<now>$` ('$' follows '#').
      const upTo = `${now.toISOString()}$`;
      const perBucket = await Promise.all(
        indexBuckets.map(async (bucket) => {
          const ids: string[] = [];
          let startKey: Record<string, unknown> | undefined;
          do {
            const result = await client.send(
              new QueryCommand({
                TableName,
                IndexName: 'gsi4',
                KeyConditionExpression: 'gsi4pk = :pk AND gsi4sk < :upTo',
                ExpressionAttributeValues: { ':pk': holdsByExpiry(bucket), ':upTo': upTo },
                ExclusiveStartKey: startKey,
                Limit: limit,
              }),
            );
            ids.push(...(result.Items ?? []).map((item) => String(item.gsi4sk).slice(String(item.gsi4sk).indexOf('#') + 1)));
            startKey = result.LastEvaluatedKey;
          } while (startKey && ids.length < limit);
          return ids;
        }),
      );
      return perBucket.flat().slice(0, limit);
    },

    /**
     * Newest first. One user's bookings are one gsi1 partition (filters on event and
     * status apply within it); the admin's views are the bucketed status partitions
     * of gsi2 (one event) or gsi3 (all events), merged by sort key. The cursor is the
     * sort key of the last booking returned: every partition resumes below it.
     */
    async list(filter, page) {
      const statuses = filter.status ? [filter.status] : Statuses.options;
      let partitions: IndexPartition[];
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = {};
      const filters: string[] = [];
      if (filter.user_id) {
        partitions = [{ index: 'gsi1', pk: 'gsi1pk', sk: 'gsi1sk', value: bookingsByUser(filter.user_id) }];
        if (filter.event_id) {
          filters.push('event_id = :event_id');
          values[':event_id'] = filter.event_id;
        }
        if (filter.status) {
          filters.push('#status = :status');
          names['#status'] = 'status';
          values[':status'] = filter.status;
        }
      } else if (filter.event_id) {
        const eventId = filter.event_id;
        partitions = statuses.flatMap((s) =>
          indexBuckets.map((b) => ({ index: 'gsi2', pk: 'gsi2pk', sk: 'gsi2sk', value: bookingsByEventStatus(eventId, s, b) })),
        );
      } else {
        partitions = statuses.flatMap((s) => indexBuckets.map((b) => ({ index: 'gsi3', pk: 'gsi3pk', sk: 'gsi3sk', value: bookingsByStatus(s, b) })));
      }

      const found = await newestFirst(table, partitions, page, filters.length > 0 ? { expression: filters.join(' AND '), names, values } : undefined);
      return { items: found.items.map((item) => stripKeys<Booking>(item)), next_cursor: found.next_cursor };
    },
  };
}

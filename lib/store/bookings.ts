import { GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { type Booking, type BookingStatus, BookingStatus as Statuses, type CounterDelta, holdDelta, reverseDelta } from '../domain/booking';
import type { Event } from '../domain/event';
import { type Table, transactionToken } from './client';
import { cancelledTransaction, lostARace } from './conditions';
import { counterUpdate } from './counters';
import type { IdempotencyCompletion } from '../ports';
import { completionUndo, completionUpdate } from './idempotency';
import { bookingIndexKeys, bookingsByEventStatus, bookingsByStatus, bookingsByUser, keys, stripKeys } from './keys';
import { decodeCursor, encodeCursor, type Page, type PageRequest } from './pagination';
import { RETRY } from './retry';

export type CreateBookingOutcome =
  | { kind: 'created' }
  /**
   * The booking exists already: an earlier attempt of this same request (its id is
   * made once per request) was applied, and its answer lost. Read it.
   */
  | { kind: 'created-before' }
  | { kind: 'event-missing' }
  /** A PATCH changed the event (price, limits, date) since it was read: plan again. */
  | { kind: 'event-changed' }
  | { kind: 'event-started'; event: Event }
  | { kind: 'insufficient'; event: Event }
  | { kind: 'per-user-limit'; held: number }
  /** Another request took over this Idempotency-Key: nothing was written. */
  | { kind: 'idempotency-lost' };

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
  /** One attempt of the booking transaction; RETRY when it lost a race worth retrying. */
  create(
    booking: Booking,
    expected: { eventVersion: number; maxPerUser: number | null },
    idempotency?: IdempotencyCompletion,
  ): Promise<CreateBookingOutcome | typeof RETRY>;
  /**
   * Moves a booking from its current status to `next`, applying `delta` to its
   * event's counters and `tallyDelta` to the user's tally, all in one transaction
   * conditioned on the status being unchanged, and, with `hold`, on the hold being
   * still running (a payment) or over (an expiry) at `now`.
   */
  transition(from: Booking, next: Booking, change: Transition): Promise<TransitionOutcome | typeof RETRY>;
  /**
   * Takes back a PENDING booking that must not stand (its hold timer could not be
   * started): deletes it and returns its tickets, as if it had never been made,
   * and forgets the Idempotency-Key record its transaction completed, if any.
   */
  withdraw(booking: Booking, idempotency?: IdempotencyCompletion): Promise<boolean | typeof RETRY>;
  /** PENDING bookings whose hold ran out by `now` (at most `limit`), oldest first. */
  expiredPending(now: Date, limit: number): Promise<Booking[]>;
  list(filter: BookingFilter, page: PageRequest): Promise<Page<Booking>>;
}

function bookingItem(booking: Booking): Record<string, unknown> {
  return { ...keys.booking(booking.id), type: 'booking', ...bookingIndexKeys(booking), ...booking };
}

const SortCursor = z.strictObject({ s: z.string().max(200).regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z#.{1,128}$/) });

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
     * THE BOOKING TRANSACTION: why no booking can oversell.
     *
     * A booking is one TransactWriteItems of up to four writes, all or nothing:
     *
     *   1. Update EVENT#<id>: available_tickets -= q, tickets_held += q, pending += 1
     *        IF the event exists
     *        AND available_tickets >= q          <- the oversell guard
     *        AND date_time > now                 <- not started
     *        AND version = <version we read>     <- price and limits unchanged
     *   2. Update TALLY#<event>#<user>: tickets += q
     *        IF tickets + q <= max_per_user      (when the event has a cap)
     *   3. Put BOOKING#<id>                      IF it does not exist yet
     *   4. Update IDEMPOTENCY#...: COMPLETED with the response
     *        IF this request still owns the key  (when an Idempotency-Key was sent)
     *
     * DynamoDB evaluates every condition and applies every write atomically, in
     * isolation from every other write to those items. So `available_tickets` is
     * never read by us and written later: the check and the decrement are one
     * operation inside DynamoDB. Two buyers racing for the last ticket both send
     * "decrement if >= 1"; DynamoDB serialises them, the first succeeds and the
     * second's condition fails. There is no window in which both see 1:
     *
     *   buyer A                      event item (available)      buyer B
     *   TransactWrite(q=1) ───────▶  1 ──▶ 0   (condition ok)
     *                                0         (condition fails) ◀── TransactWrite(q=1)
     *   201 Created                                                409 insufficient-tickets
     *
     * Why a conditional transaction and not a lock: a lock (a "locked" attribute,
     * or a lease item) makes every buyer of a hot event wait for the holder, and a
     * buyer who cannot get the lock is turned away even though seats are left; a
     * crashed holder strands the lock until it times out. The condition needs no
     * lock: every request that *can* succeed does, in one round trip, and a
     * request is refused only when the condition is false at the moment DynamoDB
     * applies it, that is when the seats are really gone.
     *
     * Under contention. When transactions touch the same item at the same moment,
     * DynamoDB may cancel some with `TransactionConflict` (it does not queue them).
     * Those did nothing, and are retried with exponential backoff and full jitter,
     * a bounded number of times (lib/store/retry.ts); a request still losing after
     * that gets 503 + Retry-After, never a 500 and never a wrong answer. A failed
     * condition is not retried: it is read from the cancellation reasons, with the
     * item as it was (ReturnValuesOnConditionCheckFailure: ALL_OLD), and becomes
     * the problem it is: 404, 409 insufficient-tickets, 409 event-started,
     * 409 per-user-limit. A changed `version` (a PATCH landed in between) means
     * "plan again with the new price and limits". A cancellation for a throttled
     * partition (`ThrottlingError`) did nothing either, and is retried the same way.
     *
     * A lost answer. DynamoDB may apply the transaction and the answer never
     * arrive. The SDK sends it again with the same ClientRequestToken, which
     * DynamoDB answers without applying it twice. If the SDK gives up, the next
     * attempt plans the same booking id again (made once per request), and its
     * Put fails on the booking the first attempt wrote: that is this request's own
     * booking, read back, not a refusal (`created-before`), whatever the event's
     * condition says now.
     *
     *   attempt 1: TransactWrite ───▶ applied ─ ─ ✗ answer lost
     *   attempt 2: TransactWrite ───▶ cancelled: BOOKING#<id> exists (ours)
     *              read BOOKING#<id> ◀── 201 with the booking attempt 1 made
     *
     * One hot event. Every booking of an event writes its one event item, and one
     * item takes at most 1,000 write units per second; a transactional write costs
     * two units per KB. So one event sells at most about 500 bookings per second
     * (however many tickets each holds), whatever the table's capacity: beyond
     * that, requests conflict or throttle, and the retries above turn them into a
     * short wait or a 503, never an oversell. Other events are unaffected (their
     * items live in other partitions), and the per-user tallies and bookings are
     * separate items, so they do not share the event item's throughput. Selling
     * faster than that would need the event's stock split over several items
     * (sharded counters), which this design leaves for when a sale needs it.
     */
    async create(booking, expected, idempotency) {
      const hold = counterUpdate(holdDelta(booking));
      const tallyCondition =
        expected.maxPerUser === null ? undefined : 'attribute_not_exists(tickets) OR tickets <= :room';
      try {
        await client.send(
          new TransactWriteCommand({
            ClientRequestToken: transactionToken(),
            TransactItems: [
              {
                Update: {
                  TableName,
                  Key: keys.event(booking.event_id),
                  UpdateExpression: `SET ${hold.sets.join(', ')}`,
                  ConditionExpression:
                    'attribute_exists(pk) AND available_tickets >= :q AND date_time > :now AND version = :version',
                  ExpressionAttributeValues: {
                    ...hold.values,
                    ':q': booking.quantity,
                    ':now': booking.created_at,
                    ':version': expected.eventVersion,
                  },
                  ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                },
              },
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
                Put: { TableName, Item: bookingItem(booking), ConditionExpression: 'attribute_not_exists(pk)' },
              },
              ...(idempotency ? [{ Update: completionUpdate(idempotency, TableName) }] : []),
            ],
          }),
        );
        return { kind: 'created' };
      } catch (error) {
        const cancelled = cancelledTransaction(error);
        if (!cancelled) throw error;
        const [event, tally, put, idem] = cancelled.reasons;
        // The booking id is made once per request, so only this request can have
        // written it: an earlier attempt was applied, whatever else fails now (its
        // tickets were taken by that attempt, its key record completed by it).
        if (put?.code === 'ConditionalCheckFailed') return { kind: 'created-before' };
        if (event?.code === 'ConditionalCheckFailed') {
          if (!event.item) return { kind: 'event-missing' };
          const current = stripKeys<Event>(event.item);
          if (current.version !== expected.eventVersion) return { kind: 'event-changed' };
          if (current.date_time <= booking.created_at) return { kind: 'event-started', event: current };
          return { kind: 'insufficient', event: current };
        }
        if (tally?.code === 'ConditionalCheckFailed') {
          return { kind: 'per-user-limit', held: typeof tally.item?.tickets === 'number' ? tally.item.tickets : 0 };
        }
        if (idem?.code === 'ConditionalCheckFailed') return { kind: 'idempotency-lost' };
        if (lostARace(cancelled)) return RETRY;
        throw error;
      }
    },

    async transition(from, next, { changeId, delta, tallyDelta, hold, idempotency }) {
      const counters = counterUpdate(delta);
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
                    'SET #status = :next, confirmed_at = :confirmed_at, cancelled_at = :cancelled_at, cancel_reason = :cancel_reason, payment_id = :payment_id, change_id = :change, gsi2pk = :gsi2pk, gsi3pk = :gsi3pk',
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
              ...(counters.sets.length > 0
                ? [
                    {
                      Update: {
                        TableName,
                        Key: keys.event(from.event_id),
                        UpdateExpression: `SET ${counters.sets.join(', ')}`,
                        ConditionExpression: 'attribute_exists(pk)',
                        ExpressionAttributeValues: counters.values,
                      },
                    },
                  ]
                : []),
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
        if (lostARace(cancelled)) return RETRY;
        throw error;
      }
    },

    async withdraw(booking, idempotency) {
      const back = counterUpdate(reverseDelta(holdDelta(booking)));
      try {
        await client.send(
          new TransactWriteCommand({
            ClientRequestToken: transactionToken(),
            TransactItems: [
              {
                Delete: {
                  TableName,
                  Key: keys.booking(booking.id),
                  ConditionExpression: '#status = :pending',
                  ExpressionAttributeNames: { '#status': 'status' },
                  ExpressionAttributeValues: { ':pending': 'PENDING' },
                },
              },
              {
                Update: {
                  TableName,
                  Key: keys.event(booking.event_id),
                  UpdateExpression: `SET ${back.sets.join(', ')}`,
                  ExpressionAttributeValues: back.values,
                },
              },
              {
                Update: {
                  TableName,
                  Key: keys.tally(booking.event_id, booking.user_id),
                  UpdateExpression: 'SET tickets = tickets - :q',
                  ExpressionAttributeValues: { ':q': booking.quantity },
                },
              },
              ...(idempotency ? [{ Delete: completionUndo(idempotency, TableName) }] : []),
            ],
          }),
        );
        return true;
      } catch (error) {
        const cancelled = cancelledTransaction(error);
        // No longer PENDING (expired or cancelled meanwhile, or withdrawn by an
        // earlier attempt whose answer was lost): its tickets went back already.
        if (cancelled?.reasons[0]?.code === 'ConditionalCheckFailed') return false;
        if (lostARace(cancelled)) return RETRY;
        throw error;
      }
    },

    /**
     * The PENDING partition of gsi3 holds only live holds (a booking leaves it when
     * paid, cancelled or expired). `expires_at <= now` is a filter, not a key
     * condition (the partition is sorted by created_at for the admin's listing), so
     * each sweep reads every live hold: measured 18 ms for 50 and 320 ms for 10,000
     * (BENCHMARKS.md). Bounded by the holds of the last HOLD_SECONDS, which is fine
     * for a once-a-minute safety net.
     */
    async expiredPending(now, limit) {
      const found: Booking[] = [];
      let startKey: Record<string, unknown> | undefined;
      do {
        const result = await client.send(
          new QueryCommand({
            TableName,
            IndexName: 'gsi3',
            KeyConditionExpression: 'gsi3pk = :pk',
            FilterExpression: 'expires_at <= :now',
            ExpressionAttributeValues: { ':pk': bookingsByStatus('PENDING'), ':now': now.toISOString() },
            ExclusiveStartKey: startKey,
          }),
        );
        found.push(...(result.Items ?? []).map((item) => stripKeys<Booking>(item)));
        startKey = result.LastEvaluatedKey;
      } while (startKey && found.length < limit);
      return found.slice(0, limit);
    },

    /**
     * Newest first. One user's bookings are one gsi1 partition (filters on event and
     * status apply within it); the admin's views are status partitions of gsi2 (one
     * event) or gsi3 (all events), merged when no status is given. The cursor is the
     * sort key of the last booking returned: every partition resumes below it.
     */
    async list(filter, page) {
      const position = page.cursor === undefined ? undefined : decodeCursor(page.cursor, SortCursor).s;
      const statuses = filter.status ? [filter.status] : Statuses.options;
      let partitions: { index: string; pk: string; sk: string; value: string }[];
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
        partitions = statuses.map((s) => ({ index: 'gsi2', pk: 'gsi2pk', sk: 'gsi2sk', value: bookingsByEventStatus(eventId, s) }));
      } else {
        partitions = statuses.map((s) => ({ index: 'gsi3', pk: 'gsi3pk', sk: 'gsi3sk', value: bookingsByStatus(s) }));
      }

      const want = page.limit + 1;
      const rows = (
        await Promise.all(
          partitions.map(async (p) => {
            const found: Record<string, unknown>[] = [];
            let startKey: Record<string, unknown> | undefined;
            // A filter may discard items after they are read, so keep reading
            // until the page is full or the partition is exhausted.
            do {
              const result = await client.send(
                new QueryCommand({
                  TableName,
                  IndexName: p.index,
                  KeyConditionExpression: position === undefined ? `${p.pk} = :pk` : `${p.pk} = :pk AND ${p.sk} < :position`,
                  FilterExpression: filters.length > 0 ? filters.join(' AND ') : undefined,
                  ExpressionAttributeNames: Object.keys(names).length > 0 ? names : undefined,
                  ExpressionAttributeValues: { ...values, ':pk': p.value, ...(position === undefined ? {} : { ':position': position }) },
                  ScanIndexForward: false,
                  Limit: want,
                  ExclusiveStartKey: startKey,
                }),
              );
              found.push(...(result.Items ?? []));
              startKey = result.LastEvaluatedKey;
            } while (startKey && found.length < want);
            return found.slice(0, want).map((item) => ({ item, sort: String(item[p.sk]) }));
          }),
        )
      )
        .flat()
        .sort((a, b) => (a.sort < b.sort ? 1 : a.sort > b.sort ? -1 : 0));

      const items = rows.slice(0, page.limit);
      const last = items.at(-1);
      return {
        items: items.map((row) => stripKeys<Booking>(row.item)),
        next_cursor: rows.length > page.limit && last ? encodeCursor({ s: last.sort }) : null,
      };
    },
  };
}

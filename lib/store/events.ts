import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { Event, UpdateEventInput } from '../domain/event';
import type { Table } from './client';
import { failedConditionItem } from './conditions';
import { eventsByDate, keys, stripKeys } from './keys';
import { type Page, type PageRequest, queryPage } from './pagination';

export type EventUpdateOutcome =
  | { kind: 'updated'; event: Event }
  | { kind: 'missing' }
  /** Another writer changed total_tickets since `expectedTotal` was read. */
  | { kind: 'total-changed' }
  /** Lowering the total would take back tickets already sold or held. */
  | { kind: 'committed'; current: Event };

export type EventDeleteOutcome = { kind: 'deleted' } | { kind: 'missing' } | { kind: 'has-bookings'; current: Event };

export interface EventStore {
  put(event: Event): Promise<void>;
  get(id: string): Promise<Event | undefined>;
  list(page: PageRequest): Promise<Page<Event>>;
  update(id: string, changes: UpdateEventInput, expected: { total: number; delta: number }, now: Date): Promise<EventUpdateOutcome>;
  remove(id: string): Promise<EventDeleteOutcome>;
}

const DateCursor = z.strictObject({ d: z.string().min(1).max(64), i: z.string().min(1).max(128) });

function toItem(event: Event): Record<string, unknown> {
  return {
    ...keys.event(event.id),
    type: 'event',
    gsi1pk: eventsByDate.pk,
    gsi1sk: eventsByDate.sk(event.date_time, event.id),
    ...event,
  };
}

export function eventStore(table: Table): EventStore {
  const { client, name: TableName } = table;

  return {
    async put(event) {
      try {
        await client.send(new PutCommand({ TableName, Item: toItem(event), ConditionExpression: 'attribute_not_exists(pk)' }));
      } catch (error) {
        // The id is new to this request, so the item in the way is this very Put,
        // applied once already: its answer was lost and the SDK sent it again.
        if (failedConditionItem(error) === undefined) throw error;
      }
    },

    async get(id) {
      const result = await client.send(new GetCommand({ TableName, Key: keys.event(id), ConsistentRead: true }));
      return result.Item ? stripKeys<Event>(result.Item) : undefined;
    },

    list(page) {
      return queryPage({
        table,
        page,
        query: {
          IndexName: eventsByDate.index,
          KeyConditionExpression: 'gsi1pk = :pk',
          ExpressionAttributeValues: { ':pk': eventsByDate.pk },
          ScanIndexForward: true,
        },
        cursorSchema: DateCursor,
        startKey: ({ d, i }) => ({ ...keys.event(i), gsi1pk: eventsByDate.pk, gsi1sk: eventsByDate.sk(d, i) }),
        positionOf: (item) => ({ d: String(item.date_time), i: String(item.id) }),
        toRecord: (item) => stripKeys<Event>(item),
      });
    },

    /**
     * One conditional UpdateItem. A change of total_tickets moves
     * available_tickets by the same delta *in the same write*, conditioned on the
     * total still being the one the delta was computed from, and on enough tickets
     * being available to take back. Bookings only ever change available_tickets,
     * so a booking that lands between our read and this write either leaves enough
     * tickets (and the update applies on top of it) or not (and the write fails):
     * the two never overwrite each other.
     */
    async update(id, changes, expected, now) {
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = { ':now': now.toISOString() };
      const sets = ['updated_at = :now', 'version = version + :one'];
      values[':one'] = 1;
      const set = (field: string, value: unknown) => {
        names[`#${field}`] = field;
        values[`:${field}`] = value;
        sets.push(`#${field} = :${field}`);
      };

      if (changes.name !== undefined) set('name', changes.name);
      if (changes.description !== undefined) set('description', changes.description);
      if (changes.ticket_price !== undefined) set('ticket_price_cents', changes.ticket_price);
      if (changes.max_per_booking !== undefined) set('max_per_booking', changes.max_per_booking);
      if (changes.max_per_user !== undefined) set('max_per_user', changes.max_per_user);
      if (changes.date_time !== undefined) {
        set('date_time', changes.date_time);
        set('gsi1sk', eventsByDate.sk(changes.date_time, id));
      }

      let condition = 'attribute_exists(pk)';
      if (changes.total_tickets !== undefined) {
        set('total_tickets', changes.total_tickets);
        sets.push('available_tickets = available_tickets + :delta');
        values[':delta'] = expected.delta;
        values[':expectedTotal'] = expected.total;
        values[':minAvailable'] = Math.max(0, -expected.delta);
        condition += ' AND total_tickets = :expectedTotal AND available_tickets >= :minAvailable';
      }

      try {
        const result = await client.send(
          new UpdateCommand({
            TableName,
            Key: keys.event(id),
            UpdateExpression: `SET ${sets.join(', ')}`,
            ConditionExpression: condition,
            ExpressionAttributeNames: Object.keys(names).length > 0 ? names : undefined,
            ExpressionAttributeValues: values,
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return { kind: 'updated', event: stripKeys<Event>(result.Attributes ?? {}) };
      } catch (error) {
        const old = failedConditionItem(error);
        if (old === undefined) throw error;
        if (old === null) return { kind: 'missing' };
        const current = stripKeys<Event>(old);
        if (current.total_tickets !== expected.total) return { kind: 'total-changed' };
        return { kind: 'committed', current };
      }
    },

    /** Deleted only while no booking is PENDING or CONFIRMED (counters on the event item). */
    async remove(id) {
      try {
        await client.send(
          new DeleteCommand({
            TableName,
            Key: keys.event(id),
            ConditionExpression: 'attribute_exists(pk) AND bookings_pending = :zero AND bookings_confirmed = :zero',
            ExpressionAttributeValues: { ':zero': 0 },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return { kind: 'deleted' };
      } catch (error) {
        const old = failedConditionItem(error);
        if (old === undefined) throw error;
        if (old === null) return { kind: 'missing' };
        return { kind: 'has-bookings', current: stripKeys<Event>(old) };
      }
    },
  };
}

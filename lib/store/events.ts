import { GetCommand, PutCommand, TransactWriteCommand, DeleteCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { Event, EventWithStock, UpdateEventInput } from '../domain/event';
import { accountsFor, sumShards, type Take } from '../domain/stock';
import { type Table, transactionToken } from './client';
import { cancelledTransaction, failedConditionItem, lostARace } from './conditions';
import { eventsByDate, keys, stripKeys } from './keys';
import { type Page, type PageRequest, queryPage } from './pagination';
import { RETRY } from './retry';
import { CLOSED_VERSION, restockAction, type StockStore, stockStore } from './stock';

export type EventUpdateOutcome =
  | { kind: 'updated'; event: Event }
  | { kind: 'missing' }
  /** Another PATCH changed the event since it was read (its version, total or shards). */
  | { kind: 'event-changed' }
  /** Bookings took tickets from a shard the new total was to take them from. */
  | { kind: 'stock-changed' };

export type EventDeleteOutcome = { kind: 'deleted' } | { kind: 'missing' } | { kind: 'has-bookings'; active: number };

/** What a PATCH writes besides the fields: the event's new version, shards and total, and the stock that moves with it. */
export interface EventChange {
  expected: Pick<Event, 'version' | 'total_tickets' | 'stock_shards'>;
  version: number;
  stockShards: number;
  stockSpan: number;
  /** Available tickets added to (or, negative, taken from) shards, with the total, atomically. */
  restock: Take[];
  /** Where added tickets go: on sale, or to the waiting list while people wait. */
  restockTo?: 'sale' | 'line';
}

export interface EventStore {
  /** Stores a new event: its shards first (holding every ticket), then the event item that makes it visible. */
  put(event: Event): Promise<void>;
  /** The event with its stock: the item and the sum of its shards. */
  get(id: string): Promise<EventWithStock | undefined>;
  /** The event item alone (strongly consistent): the terms a booking is planned on. */
  terms(id: string): Promise<Event | undefined>;
  list(page: PageRequest): Promise<Page<EventWithStock>>;
  update(id: string, changes: UpdateEventInput, change: EventChange, now: Date): Promise<EventUpdateOutcome | typeof RETRY>;
  /** Deletes the event once no booking is PENDING or CONFIRMED, and then its shards. */
  remove(event: Event): Promise<EventDeleteOutcome | typeof RETRY>;
  stock: StockStore;
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

const toEvent = (item: Record<string, unknown>): Event => stripKeys<Event>(item);

export function eventStore(table: Table): EventStore {
  const { client, name: TableName } = table;
  const stock = stockStore(table);

  const withStock = async (event: Event): Promise<EventWithStock> => {
    // The shards are read one by one, not as one snapshot: a read that straddles
    // a move of stock between them does not account for every ticket, and is
    // read again.
    for (let attempt = 0; ; attempt++) {
      const shards = await stock.shards(event);
      if (accountsFor(shards, event) || attempt === 3) return { ...event, ...sumShards(shards) };
      const fresh = await getTerms(event.id);
      if (!fresh) return { ...event, ...sumShards(shards) };
      event = fresh;
    }
  };

  const getTerms = async (id: string) => {
    const result = await client.send(new GetCommand({ TableName, Key: keys.event(id), ConsistentRead: true }));
    return result.Item ? toEvent(result.Item) : undefined;
  };

  return {
    stock,

    async put(event) {
      await stock.create(
        event.id,
        // Every ticket on sale, spread evenly over the shards.
        Array.from({ length: event.stock_shards }, (_, index) => ({
          index,
          available: Math.floor(event.total_tickets / event.stock_shards) + (index < event.total_tickets % event.stock_shards ? 1 : 0),
        })),
        event.version,
      );
      try {
        await client.send(new PutCommand({ TableName, Item: toItem(event), ConditionExpression: 'attribute_not_exists(pk)' }));
      } catch (error) {
        // The id is new to this request, so the item in the way is this very Put,
        // applied once already: its answer was lost and the SDK sent it again.
        if (failedConditionItem(error) === undefined) throw error;
      }
    },

    async get(id) {
      const event = await getTerms(id);
      return event ? withStock(event) : undefined;
    },

    terms: getTerms,

    async list(page) {
      const found = await queryPage({
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
        toRecord: toEvent,
      });
      return { items: await Promise.all(found.items.map(withStock)), next_cursor: found.next_cursor };
    },

    /**
     * One transaction: the event item, conditioned on the version, total and
     * shards the change was computed from, and the stock a new total adds or takes
     * away, each shard it takes from conditioned on still holding the tickets.
     * Bookings take tickets from the same shards, so a booking that lands between
     * our read and this write either leaves enough (and the change applies on top
     * of it) or not (and the change is planned again): the total never falls
     * below what is sold or held, and the two never overwrite each other.
     */
    async update(id, changes, change, now) {
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = {
        ':now': now.toISOString(),
        ':version': change.version,
        ':shards': change.stockShards,
        ':span': change.stockSpan,
        ':expectedVersion': change.expected.version,
        ':expectedTotal': change.expected.total_tickets,
        ':expectedShards': change.expected.stock_shards,
      };
      const sets = ['updated_at = :now', 'version = :version', 'stock_shards = :shards', 'stock_span = :span'];
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
      if (changes.total_tickets !== undefined) set('total_tickets', changes.total_tickets);
      if (changes.date_time !== undefined) {
        set('date_time', changes.date_time);
        set('gsi1sk', eventsByDate.sk(changes.date_time, id));
      }

      try {
        await client.send(
          new TransactWriteCommand({
            ClientRequestToken: transactionToken(),
            TransactItems: [
              {
                Update: {
                  TableName,
                  Key: keys.event(id),
                  UpdateExpression: `SET ${sets.join(', ')}`,
                  ConditionExpression:
                    'attribute_exists(pk) AND version = :expectedVersion AND total_tickets = :expectedTotal AND stock_shards = :expectedShards',
                  ExpressionAttributeNames: Object.keys(names).length > 0 ? names : undefined,
                  ExpressionAttributeValues: values,
                  ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                },
              },
              ...change.restock.map((take) => restockAction(TableName, id, take, change.restockTo)),
            ],
          }),
        );
      } catch (error) {
        const cancelled = cancelledTransaction(error);
        if (!cancelled) throw error;
        const [event, ...shards] = cancelled.reasons;
        if (event?.code === 'ConditionalCheckFailed') return event.item ? { kind: 'event-changed' } : { kind: 'missing' };
        if (shards.some((r) => r.code === 'ConditionalCheckFailed')) return { kind: 'stock-changed' };
        if (lostARace(cancelled)) return RETRY;
        throw error;
      }
      const updated = await getTerms(id);
      return updated ? { kind: 'updated', event: updated } : { kind: 'missing' };
    },

    /**
     * No booking must land while the event goes, and the shards, not the event
     * item, take the bookings. So: close every shard (its version becomes one no
     * booking is planned on), each on condition that it still counts the bookings
     * read; read them again, and only if none is PENDING or CONFIRMED delete the
     * event item, then the shards. A booking that landed in between reopens them.
     */
    async remove(event) {
      const shards = await stock.shards(event);
      const active = shards.reduce((n, s) => n + s.bookings_pending + s.bookings_confirmed, 0);
      if (active > 0) {
        // A shard still closed here was closed by a delete that did not go through.
        await stock.reopen(
          event,
          shards.filter((s) => s.version === CLOSED_VERSION).map((s) => s.index),
        );
        return { kind: 'has-bookings', active };
      }
      if (!(await stock.close(event, shards))) return RETRY;
      try {
        await client.send(new DeleteCommand({ TableName, Key: keys.event(event.id), ConditionExpression: 'attribute_exists(pk)' }));
      } catch (error) {
        // Gone already: deleted by this very Delete (its answer lost) or by another.
        if (failedConditionItem(error) === undefined) throw error;
      }
      await stock.removeAll(event.id, event.stock_span);
      return { kind: 'deleted' };
    },
  };
}

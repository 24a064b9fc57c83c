import { BatchGetCommand, type BatchGetCommandOutput, BatchWriteCommand, type BatchWriteCommandOutput, GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type CounterDelta, ZERO_COUNTERS } from '../domain/booking';
import { ServiceUnavailableError } from '../domain/errors';
import type { Event } from '../domain/event';
import type { Move, Shard, Take } from '../domain/stock';
import { type Table, transactionToken } from './client';
import { cancelledTransaction, failedConditionItem, lostARace } from './conditions';
import { counterUpdate } from './counters';
import { keys } from './keys';
import { RETRY } from './retry';

/**
 * The version a shard carries while its event is being deleted: above any real
 * version, so no booking planned on the event matches it and no roll-forward
 * (which only ever raises a version) undoes it.
 */
export const CLOSED_VERSION = Number.MAX_SAFE_INTEGER;

const COUNTERS = Object.keys(ZERO_COUNTERS) as (keyof CounterDelta)[];

/** BatchGetItem takes at most 100 keys, BatchWriteItem 25 requests. */
const BATCH_GET = 100;
const BATCH_WRITE = 25;

export interface StockStore {
  /**
   * Every shard of the event (indexes below its stock_span), each read strongly
   * consistent. With a `deadline` (epoch ms), a read not answered by then is
   * abandoned with a 503: a read changes nothing, so nothing is left half done.
   */
  shards(event: Pick<Event, 'id' | 'stock_span'>, deadline?: number): Promise<Shard[]>;
  /** One shard, strongly consistent. */
  shard(eventId: string, index: number): Promise<Shard | undefined>;
  /** Creates the shards that do not exist yet, each holding `available` tickets and no other counter. */
  create(eventId: string, shards: { index: number; available: number }[], version: number): Promise<void>;
  /** Raises a shard's version to the event's, if it is behind (a PATCH that has not reached it yet). */
  rollForward(eventId: string, index: number, version: number): Promise<void>;
  /** Moves available tickets between two shards, atomically; `short` when `from` no longer has them. */
  move(eventId: string, move: Move): Promise<'moved' | 'short' | typeof RETRY>;
  /**
   * Stops every booking of the event (the shards take the CLOSED version) on
   * condition that each still counts the bookings it did when read; false, and
   * every shard open again at the event's version, when one changed meanwhile.
   */
  close(event: Pick<Event, 'id' | 'version'>, shards: Shard[]): Promise<boolean>;
  /**
   * Opens closed shards again at the event's version: those of a delete that did
   * not go through (a booking landed first, or the delete gave up after a close
   * whose answer was lost).
   */
  reopen(event: Pick<Event, 'id' | 'version'>, indexes: number[]): Promise<void>;
  /** Deletes the event's shards (after the event item). */
  removeAll(eventId: string, span: number): Promise<void>;
}

function shardItem(eventId: string, index: number, available: number, version: number): Record<string, unknown> {
  return { ...keys.stock(eventId, index), type: 'stock', event_id: eventId, shard: index, ...ZERO_COUNTERS, available_tickets: available, version };
}

export function toShard(item: Record<string, unknown>): Shard {
  const shard = { index: Number(item.shard), version: Number(item.version) } as Shard;
  for (const name of COUNTERS) shard[name] = Number(item[name] ?? 0);
  return shard;
}

/**
 * The write that takes a booking's tickets from one shard, as one action of the
 * booking's transaction: the counters move by `delta` only if the shard still
 * sells at the version the booking was planned on and holds the tickets.
 */
export function takeAction(TableName: string, eventId: string, take: Take, version: number, delta: CounterDelta) {
  const update = counterUpdate(delta);
  return {
    Update: {
      TableName,
      Key: keys.stock(eventId, take.shard),
      UpdateExpression: `SET ${update.sets.join(', ')}`,
      ConditionExpression: 'version = :version AND available_tickets >= :take',
      ExpressionAttributeValues: { ...update.values, ':version': version, ':take': take.quantity },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    },
  };
}

/**
 * The write that counts a booking's change on a shard (a payment, a cancellation,
 * an expiry). `gather`: a release to the waiting list takes the shard's tickets on
 * sale (this many, as read) into the line's hands as well, on condition that
 * they are still there: with the released ones they may fit an entry that
 * neither fitted alone, and until the offer step has looked, no outside buyer
 * may take them. The offer step puts back on sale what fits nobody.
 */
export function countAction(TableName: string, eventId: string, shard: number, delta: CounterDelta, gather = 0) {
  const update = counterUpdate(gather > 0 ? { ...delta, available_tickets: delta.available_tickets - gather, line_tickets: delta.line_tickets + gather } : delta);
  return {
    Update: {
      TableName,
      Key: keys.stock(eventId, shard),
      UpdateExpression: `SET ${update.sets.join(', ')}`,
      ConditionExpression: gather > 0 ? 'available_tickets = :gathered' : 'attribute_exists(pk)',
      ExpressionAttributeValues: { ...update.values, ...(gather > 0 ? { ':gathered': gather } : {}) },
    },
  };
}

/**
 * The write that adds (or, negative, takes away) available tickets on a shard
 * for a change of the event's total; taking away requires them to be there.
 */
export function restockAction(TableName: string, eventId: string, change: Take, to: 'sale' | 'line' = 'sale') {
  // Tickets a raised total adds while people wait go to the waiting list (lib/usecases/waitlist.ts).
  const added = to === 'line' && change.quantity > 0;
  return {
    Update: {
      TableName,
      Key: keys.stock(eventId, change.shard),
      UpdateExpression: added
        ? 'SET line_tickets = if_not_exists(line_tickets, :zero) + :change'
        : 'SET available_tickets = available_tickets + :change',
      ConditionExpression: change.quantity < 0 ? 'available_tickets >= :floor' : 'attribute_exists(pk)',
      ExpressionAttributeValues: {
        ':change': change.quantity,
        ...(change.quantity < 0 ? { ':floor': -change.quantity } : {}),
        ...(added ? { ':zero': 0 } : {}),
      },
    },
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function stockStore(table: Table): StockStore {
  const { client, name: TableName } = table;

  const reopen: StockStore['reopen'] = async (event, indexes) => {
    await Promise.all(
      indexes.map(async (index) => {
        try {
          await client.send(
            new UpdateCommand({
              TableName,
              Key: keys.stock(event.id, index),
              UpdateExpression: 'SET version = :version',
              ConditionExpression: 'version = :closed',
              ExpressionAttributeValues: { ':closed': CLOSED_VERSION, ':version': event.version },
            }),
          );
        } catch (error) {
          // Open already: by this very write (its answer lost), or never closed.
          if (failedConditionItem(error) === undefined) throw error;
        }
      }),
    );
  };

  return {
    async shard(eventId, index) {
      const result = await client.send(new GetCommand({ TableName, Key: keys.stock(eventId, index), ConsistentRead: true }));
      return result.Item ? toShard(result.Item) : undefined;
    },

    async shards(event, deadline) {
      const found: Shard[] = [];
      const all = Array.from({ length: event.stock_span }, (_, i) => keys.stock(event.id, i));
      const late = () =>
        new ServiceUnavailableError('The stock of this event could not be read in time; retry shortly', 1, {
          cause: `reading ${event.stock_span} shards took past the request's deadline`,
        });
      for (let start = 0; start < all.length; start += BATCH_GET) {
        let wanted: Record<string, unknown>[] | undefined = all.slice(start, start + BATCH_GET);
        // Keys of a throttled partition come back unprocessed: ask for them again.
        for (let round = 0; wanted && wanted.length > 0; round++) {
          if (round > 0) await pause(Math.min(200, 10 * 2 ** round) * Math.random());
          if (deadline !== undefined && Date.now() >= deadline) throw late();
          const command = new BatchGetCommand({ RequestItems: { [TableName]: { Keys: wanted, ConsistentRead: true } } });
          let result: BatchGetCommandOutput;
          try {
            result = await client.send(command, deadline === undefined ? {} : { abortSignal: AbortSignal.timeout(Math.max(1, deadline - Date.now())) });
          } catch (error) {
            if (deadline !== undefined && Date.now() >= deadline) throw late();
            throw error;
          }
          found.push(...(result.Responses?.[TableName] ?? []).map(toShard));
          wanted = result.UnprocessedKeys?.[TableName]?.Keys;
          if (round > 8 && wanted && wanted.length > 0) throw new Error(`The stock of event ${event.id} could not be read: its shards are throttled`);
        }
      }
      return found.sort((a, b) => a.index - b.index);
    },

    async create(eventId, shards, version) {
      await Promise.all(
        shards.map(async ({ index, available }) => {
          try {
            await client.send(
              new PutCommand({ TableName, Item: shardItem(eventId, index, available, version), ConditionExpression: 'attribute_not_exists(pk)' }),
            );
          } catch (error) {
            // There already: written by this very Put (its answer lost), or left by
            // an earlier reshard. Either way the shard exists, which is the point.
            if (failedConditionItem(error) === undefined) throw error;
          }
        }),
      );
    },

    async rollForward(eventId, index, version) {
      try {
        await client.send(
          new UpdateCommand({
            TableName,
            Key: keys.stock(eventId, index),
            UpdateExpression: 'SET version = :version',
            ConditionExpression: 'version < :version',
            ExpressionAttributeValues: { ':version': version },
          }),
        );
      } catch (error) {
        // Rolled forward already, by another request or this one's lost answer.
        if (failedConditionItem(error) === undefined) throw error;
      }
    },

    async move(eventId, { from, to, quantity }) {
      try {
        await client.send(
          new TransactWriteCommand({
            ClientRequestToken: transactionToken(),
            TransactItems: [restockAction(TableName, eventId, { shard: from, quantity: -quantity }), restockAction(TableName, eventId, { shard: to, quantity })],
          }),
        );
        return 'moved';
      } catch (error) {
        const cancelled = cancelledTransaction(error);
        if (cancelled?.reasons.some((r) => r.code === 'ConditionalCheckFailed')) return 'short';
        if (lostARace(cancelled)) return RETRY;
        throw error;
      }
    },

    async close(event, shards) {
      const closed: Shard[] = [];
      const results = await Promise.allSettled(
        shards.map(async (shard) => {
          try {
            await client.send(
              new UpdateCommand({
                TableName,
                Key: keys.stock(event.id, shard.index),
                UpdateExpression: 'SET version = :closed',
                ConditionExpression: 'version = :version AND bookings_pending = :pending AND bookings_confirmed = :confirmed',
                ExpressionAttributeValues: {
                  ':closed': CLOSED_VERSION,
                  ':version': shard.version,
                  ':pending': shard.bookings_pending,
                  ':confirmed': shard.bookings_confirmed,
                },
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              }),
            );
            closed.push(shard);
          } catch (error) {
            const old = failedConditionItem(error);
            // Closed by this very write, whose answer was lost.
            if (old && Number(old.version) === CLOSED_VERSION) return closed.push(shard);
            throw error;
          }
        }),
      );
      if (results.every((r) => r.status === 'fulfilled')) return true;
      // A booking landed on a shard between the read and the close (or the write
      // failed): open the others again.
      await reopen(
        event,
        closed.map((shard) => shard.index),
      );
      const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failure && failedConditionItem(failure.reason) === undefined) throw failure.reason;
      return false;
    },

    reopen,

    async removeAll(eventId, span) {
      const all = Array.from({ length: span }, (_, i) => ({ DeleteRequest: { Key: keys.stock(eventId, i) } }));
      for (let start = 0; start < all.length; start += BATCH_WRITE) {
        let pending: unknown[] | undefined = all.slice(start, start + BATCH_WRITE);
        for (let round = 0; pending && pending.length > 0 && round < 10; round++) {
          if (round > 0) await pause(Math.min(200, 10 * 2 ** round) * Math.random());
          const result: BatchWriteCommandOutput = await client.send(new BatchWriteCommand({ RequestItems: { [TableName]: pending as never } }));
          pending = result.UnprocessedItems?.[TableName];
        }
      }
    },
  };
}

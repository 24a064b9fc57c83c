import { BatchGetCommand, type BatchGetCommandOutput, GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type Booking, ZERO_COUNTERS } from '../domain/booking';
import type { LineTake } from '../domain/stock';
import { blockOf, LINE_BLOCK, type LineBlock, type WaitlistEntry, type WaitlistStatus } from '../domain/waitlist';
import { type Table, transactionToken } from './client';
import { cancelledTransaction, failedConditionItem, lostARace } from './conditions';
import { counterUpdate } from './counters';
import { bookingItem } from './bookings';
import {
  indexBuckets,
  keys,
  lineOf,
  openLines,
  placeKey,
  stripKeys,
  waitlistAll,
  waitlistByEvent,
  waitlistByUser,
  waitlistIndexKeys,
} from './keys';
import { type IndexPartition, newestFirst, type Page, type PageRequest } from './pagination';
import { RETRY, withRetry } from './retry';

/** An offer as the store writes it: the entry, the booking made for it, the shards its tickets come from. */
export interface Offer {
  entry: WaitlistEntry;
  booking: Booking;
  takes: LineTake[];
}

export type JoinOutcome = { kind: 'joined' } | { kind: 'already-waiting'; entryId: string } | typeof RETRY;

export type OfferOutcome =
  | { kind: 'offered' }
  /** An entry is no longer WAITING (it left, or another pass offered to it): plan again. */
  | { kind: 'entry-changed' }
  /** These entries' users have no room left under max_per_user: skip them. */
  | { kind: 'capped'; entryIds: string[] }
  /** A shard no longer holds the tickets, or sells at another version: plan again. */
  | { kind: 'stock-changed' }
  | typeof RETRY;

export interface WaitlistFilter {
  user_id?: string | undefined;
  event_id?: string | undefined;
  status?: WaitlistStatus | undefined;
}

export interface LineState {
  /** People wait (or did a moment ago): releases of the event's tickets go to the line. */
  open: boolean;
  /** The last place given out. */
  lastSeq: number;
}

export interface WaitlistStore {
  get(id: string): Promise<WaitlistEntry | undefined>;
  /** The id of the user's WAITING or OFFERED entry for the event, if any. */
  activeEntryOf(eventId: string, userId: string): Promise<string | undefined>;
  /** The next place in the event's line; the line is open from then on. */
  nextSeq(eventId: string): Promise<number>;
  line(eventId: string): Promise<LineState>;
  /** Whether releases of the event's tickets go to its line: one strongly consistent read. */
  isOpen(eventId: string): Promise<boolean>;
  /** Opens the line (people wait) or closes it, the latter only if no one took a place since `lastSeq`. */
  setOpen(eventId: string, open: boolean, lastSeq: number): Promise<boolean>;
  /** Every block of the line with its counts, strongly consistent, in line order. */
  blocks(eventId: string): Promise<LineBlock[]>;
  /** The WAITING entries of one block, in line order, read strongly consistent. */
  waitingInBlock(eventId: string, block: number): Promise<WaitlistEntry[]>;
  /** WAITING entries of the event ahead of this place in its block (from the index). */
  aheadInBlock(eventId: string, seq: number): Promise<number>;
  join(entry: WaitlistEntry): Promise<JoinOutcome>;
  /** A WAITING entry leaves the line: LEFT, its place uncounted, the user free to join again. */
  leave(entry: WaitlistEntry, changeId: string, now: Date): Promise<'left' | 'status-changed' | typeof RETRY>;
  /** Makes these offers, in one transaction (lib/usecases/waitlist.ts says which). */
  offer(offers: Offer[], eventVersion: number, maxPerUser: number | null, now: Date): Promise<OfferOutcome>;
  /** Puts tickets released to the line back on sale (no waiting entry fits them), on one shard. */
  returnToSale(eventId: string, shard: number, quantity: number): Promise<'returned' | 'short'>;
  list(filter: WaitlistFilter, page: PageRequest): Promise<Page<WaitlistEntry>>;
  /** The events whose lines are open: what the sweeper looks at. */
  openLines(): Promise<string[]>;
  /** Ends every WAITING entry of a deleted event (LEFT) and removes its line. */
  endLine(eventId: string, now: Date): Promise<number>;
}


const sizeAttribute = (quantity: number) => `q_${quantity}`;

/**
 * Each block's counts are kept on this many items, a place counting on part
 * `seq % LINE_COUNTER_PARTS`: joins that arrive together take consecutive places,
 * so they write different items, and their transactions do not cancel each
 * other as they would on one. Readers add the parts up.
 */
const LINE_COUNTER_PARTS = 8;

/** The counter item a place counts on. */
const counterOf = (seq: number) => ({ block: blockOf(seq), part: seq % LINE_COUNTER_PARTS });
const counterKey = (c: { block: number; part: number }) => `${c.block}#${c.part}`;

/** The write that moves one block part's counts: entries join (+1) or leave the WAITING state (-1). */
function blockAction(TableName: string, eventId: string, counter: { block: number; part: number }, changes: { quantity: number; sign: 1 | -1 }[]) {
  const { block, part } = counter;
  const names: Record<string, string> = {};
  const values: Record<string, number> = { ':zero': 0 };
  const perSize = new Map<number, number>();
  let waiting = 0;
  let tickets = 0;
  for (const { quantity, sign } of changes) {
    waiting += sign;
    tickets += sign * quantity;
    perSize.set(quantity, (perSize.get(quantity) ?? 0) + sign);
  }
  const sets = ['waiting = if_not_exists(waiting, :zero) + :w', 'tickets = if_not_exists(tickets, :zero) + :t', '#type = :type', 'event_id = :event', '#block = :block'];
  values[':w'] = waiting;
  values[':t'] = tickets;
  for (const [quantity, change] of perSize) {
    const name = sizeAttribute(quantity);
    names[`#${name}`] = name;
    values[`:${name}`] = change;
    sets.push(`#${name} = if_not_exists(#${name}, :zero) + :${name}`);
  }
  return {
    Update: {
      TableName,
      Key: keys.lineBlock(eventId, block, part),
      UpdateExpression: `SET ${sets.join(', ')}`,
      ExpressionAttributeNames: { ...names, '#type': 'type', '#block': 'block' },
      ExpressionAttributeValues: { ...values, ':type': 'line-block', ':event': eventId, ':block': block } as Record<string, unknown>,
    },
  };
}

/** The blocks' counts: each block's parts added up. */
function toBlocks(items: Record<string, unknown>[]): LineBlock[] {
  const blocks = new Map<number, LineBlock>();
  for (const item of items) {
    const block = Number(item.block);
    const sum = blocks.get(block) ?? { block, waiting: 0, tickets: 0, sizes: {} };
    sum.waiting += Number(item.waiting ?? 0);
    sum.tickets += Number(item.tickets ?? 0);
    for (const [name, value] of Object.entries(item)) {
      const match = /^q_(\d+)$/.exec(name);
      if (match && typeof value === 'number') sum.sizes[match[1]!] = (sum.sizes[match[1]!] ?? 0) + value;
    }
    blocks.set(block, sum);
  }
  for (const block of blocks.values()) {
    for (const [size, count] of Object.entries(block.sizes)) if (count <= 0) delete block.sizes[size];
  }
  return [...blocks.values()].sort((a, b) => a.block - b.block);
}

function entryItem(entry: WaitlistEntry): Record<string, unknown> {
  return { ...keys.waitlistEntry(entry.id), type: 'waitlist', ...waitlistIndexKeys(entry), ...entry };
}

const toEntry = (item: Record<string, unknown>): WaitlistEntry => stripKeys<WaitlistEntry>(item);

export function waitlistStore(table: Table): WaitlistStore {
  const { client, name: TableName } = table;

  const getLine = async (eventId: string): Promise<LineState> => {
    const result = await client.send(new GetCommand({ TableName, Key: keys.line(eventId), ConsistentRead: true }));
    return { open: result.Item?.open === true, lastSeq: Number(result.Item?.next_seq ?? 0) };
  };

  const readEntries = async (ids: string[]): Promise<WaitlistEntry[]> => {
    const found: WaitlistEntry[] = [];
    for (let start = 0; start < ids.length; start += 100) {
      let wanted: Record<string, unknown>[] | undefined = ids.slice(start, start + 100).map((id) => keys.waitlistEntry(id));
      for (let round = 0; wanted && wanted.length > 0; round++) {
        if (round > 8) throw new Error('The entries of a waiting list could not be read: their partitions are throttled');
        if (round > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(200, 10 * 2 ** round) * Math.random()));
        const result: BatchGetCommandOutput = await client.send(new BatchGetCommand({ RequestItems: { [TableName]: { Keys: wanted, ConsistentRead: true } } }));
        found.push(...(result.Responses?.[TableName] ?? []).map(toEntry));
        wanted = result.UnprocessedKeys?.[TableName]?.Keys;
      }
    }
    return found;
  };

  const store: WaitlistStore = {
    async get(id) {
      const result = await client.send(new GetCommand({ TableName, Key: keys.waitlistEntry(id), ConsistentRead: true }));
      return result.Item ? toEntry(result.Item) : undefined;
    },

    async activeEntryOf(eventId, userId) {
      const result = await client.send(new GetCommand({ TableName, Key: keys.inLine(eventId, userId), ConsistentRead: true }));
      return typeof result.Item?.entry_id === 'string' ? result.Item.entry_id : undefined;
    },

    async nextSeq(eventId) {
      // Not part of the join's transaction: every join of a hot event would
      // conflict on it there. A place taken by a join that then fails is a gap
      // in the sequence, which orders the line as well as no gap.
      const result = await client.send(
        new UpdateCommand({
          TableName,
          Key: keys.line(eventId),
          UpdateExpression: 'SET #open = :true, event_id = :event, #type = :type, gsi4pk = :lines, gsi4sk = :event ADD next_seq :one',
          ExpressionAttributeNames: { '#open': 'open', '#type': 'type' },
          ExpressionAttributeValues: { ':true': true, ':event': eventId, ':type': 'line', ':lines': openLines.pk, ':one': 1 },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return Number(result.Attributes?.next_seq);
    },

    line: getLine,

    async isOpen(eventId) {
      return (await getLine(eventId)).open;
    },

    async setOpen(eventId, open, lastSeq) {
      try {
        await client.send(
          new UpdateCommand({
            TableName,
            Key: keys.line(eventId),
            // An open line is listed for the sweeper (gsi4); a closed one is not.
            UpdateExpression: open ? 'SET #open = :open, gsi4pk = :lines, gsi4sk = :event' : 'SET #open = :open REMOVE gsi4pk, gsi4sk',
            // Closing is refused once someone took a place after the line was seen empty.
            ConditionExpression: open ? 'attribute_exists(pk)' : 'next_seq = :seen',
            ExpressionAttributeNames: { '#open': 'open' },
            ExpressionAttributeValues: { ':open': open, ...(open ? { ':lines': openLines.pk, ':event': eventId } : { ':seen': lastSeq }) },
          }),
        );
        return true;
      } catch (error) {
        if (failedConditionItem(error) === undefined) throw error;
        return false;
      }
    },

    async blocks(eventId) {
      const items: Record<string, unknown>[] = [];
      let startKey: Record<string, unknown> | undefined;
      do {
        const result = await client.send(
          new QueryCommand({
            TableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :block)',
            ExpressionAttributeValues: { ':pk': keys.line(eventId).pk, ':block': 'BLOCK#' },
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        );
        items.push(...(result.Items ?? []));
        startKey = result.LastEvaluatedKey;
      } while (startKey);
      return toBlocks(items);
    },

    async waitingInBlock(eventId, block) {
      const ids: string[] = [];
      let startKey: Record<string, unknown> | undefined;
      do {
        const result = await client.send(
          new QueryCommand({
            TableName,
            IndexName: 'gsi4',
            KeyConditionExpression: 'gsi4pk = :line AND gsi4sk BETWEEN :first AND :last',
            ExpressionAttributeValues: {
              ':line': lineOf(eventId),
              ':first': placeKey(block * LINE_BLOCK),
              ':last': placeKey((block + 1) * LINE_BLOCK - 1),
            },
            ExclusiveStartKey: startKey,
          }),
        );
        ids.push(...(result.Items ?? []).map((item) => String(item.pk).slice('WAITLIST#'.length)));
        startKey = result.LastEvaluatedKey;
      } while (startKey);
      // The index lags the table a moment: the entries themselves say who still waits.
      const entries = await readEntries(ids);
      return entries.filter((e) => e.status === 'WAITING').sort((a, b) => a.seq - b.seq);
    },

    async aheadInBlock(eventId, seq) {
      if (seq === blockOf(seq) * LINE_BLOCK) return 0;
      let count = 0;
      let startKey: Record<string, unknown> | undefined;
      do {
        const result = await client.send(
          new QueryCommand({
            TableName,
            IndexName: 'gsi4',
            KeyConditionExpression: 'gsi4pk = :line AND gsi4sk BETWEEN :first AND :before',
            ExpressionAttributeValues: {
              ':line': lineOf(eventId),
              ':first': placeKey(blockOf(seq) * LINE_BLOCK),
              ':before': placeKey(seq - 1),
            },
            Select: 'COUNT',
            ExclusiveStartKey: startKey,
          }),
        );
        count += result.Count ?? 0;
        startKey = result.LastEvaluatedKey;
      } while (startKey);
      return count;
    },

    async join(entry) {
      try {
        await client.send(
          new TransactWriteCommand({
            ClientRequestToken: transactionToken(),
            TransactItems: [
              {
                Put: {
                  TableName,
                  Item: { ...keys.inLine(entry.event_id, entry.user_id), type: 'in-line', entry_id: entry.id },
                  ConditionExpression: 'attribute_not_exists(pk) OR entry_id = :id',
                  ExpressionAttributeValues: { ':id': entry.id },
                  ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                },
              },
              { Put: { TableName, Item: entryItem(entry), ConditionExpression: 'attribute_not_exists(pk)' } },
              blockAction(TableName, entry.event_id, counterOf(entry.seq), [{ quantity: entry.quantity, sign: 1 }]),
            ],
          }),
        );
        return { kind: 'joined' };
      } catch (error) {
        const cancelled = cancelledTransaction(error);
        if (!cancelled) throw error;
        const [guard, put] = cancelled.reasons;
        // The entry id is this request's: written already by an attempt whose answer was lost.
        if (put?.code === 'ConditionalCheckFailed') return { kind: 'joined' };
        if (guard?.code === 'ConditionalCheckFailed') return { kind: 'already-waiting', entryId: String(guard.item?.entry_id ?? '') };
        if (lostARace(cancelled)) return RETRY;
        throw error;
      }
    },

    async leave(entry, changeId, now) {
      try {
        await client.send(
          new TransactWriteCommand({
            ClientRequestToken: transactionToken(),
            TransactItems: [
              {
                Update: {
                  TableName,
                  Key: keys.waitlistEntry(entry.id),
                  UpdateExpression: 'SET #status = :left, updated_at = :now, change_id = :change REMOVE gsi4pk, gsi4sk',
                  ConditionExpression: '#status = :waiting',
                  ExpressionAttributeNames: { '#status': 'status' },
                  ExpressionAttributeValues: { ':left': 'LEFT', ':waiting': 'WAITING', ':now': now.toISOString(), ':change': changeId },
                },
              },
              { Delete: { TableName, Key: keys.inLine(entry.event_id, entry.user_id) } },
              blockAction(TableName, entry.event_id, counterOf(entry.seq), [{ quantity: entry.quantity, sign: -1 }]),
            ],
          }),
        );
        return 'left';
      } catch (error) {
        const cancelled = cancelledTransaction(error);
        if (!cancelled) throw error;
        if (cancelled.reasons[0]?.code === 'ConditionalCheckFailed') return 'status-changed';
        if (lostARace(cancelled)) return RETRY;
        throw error;
      }
    },

    async offer(offers, eventVersion, maxPerUser, now) {
      const eventId = offers[0]!.entry.event_id;
      // The shards' changes, summed over the offers: each shard is one action.
      const perShard = new Map<number, { fromLine: number; fromSale: number; pending: number }>();
      for (const { takes } of offers) {
        takes.forEach((take, i) => {
          const sum = perShard.get(take.shard) ?? { fromLine: 0, fromSale: 0, pending: 0 };
          sum.fromLine += take.fromLine;
          sum.fromSale += take.fromSale;
          if (i === 0) sum.pending += 1;
          perShard.set(take.shard, sum);
        });
      }
      const perCounter = new Map<string, { counter: { block: number; part: number }; changes: { quantity: number; sign: -1 }[] }>();
      for (const { entry } of offers) {
        const counter = counterOf(entry.seq);
        const found = perCounter.get(counterKey(counter)) ?? { counter, changes: [] };
        found.changes.push({ quantity: entry.quantity, sign: -1 });
        perCounter.set(counterKey(counter), found);
      }
      const entryActions = offers.map(({ entry, booking }) => ({
        Update: {
          TableName,
          Key: keys.waitlistEntry(entry.id),
          UpdateExpression:
            'SET #status = :offered, booking_id = :booking, offer_expires_at = :expires, updated_at = :now REMOVE gsi4pk, gsi4sk',
          ConditionExpression: '#status = :waiting',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':offered': 'OFFERED',
            ':waiting': 'WAITING',
            ':booking': booking.id,
            ':expires': booking.expires_at,
            ':now': now.toISOString(),
          },
        },
      }));
      const tallyActions = offers.map(({ booking }) => ({
        Update: {
          TableName,
          Key: keys.tally(booking.event_id, booking.user_id),
          UpdateExpression: 'SET tickets = if_not_exists(tickets, :zero) + :q, #type = :type',
          ConditionExpression: maxPerUser === null ? undefined : 'attribute_not_exists(tickets) OR tickets <= :room',
          ExpressionAttributeNames: { '#type': 'type' },
          ExpressionAttributeValues: {
            ':zero': 0,
            ':q': booking.quantity,
            ':type': 'tally',
            ...(maxPerUser === null ? {} : { ':room': maxPerUser - booking.quantity }),
          },
        },
      }));
      const bookingActions = offers.map(({ booking, takes }) => ({
        Put: { TableName, Item: bookingItem({ ...booking, stock_shard: takes[0]!.shard }), ConditionExpression: 'attribute_not_exists(pk)' },
      }));
      const shardActions = [...perShard].map(([shard, { fromLine, fromSale, pending }]) => {
        const update = counterUpdate({
          ...ZERO_COUNTERS,
          line_tickets: -fromLine,
          available_tickets: -fromSale,
          tickets_held: fromLine + fromSale,
          bookings_pending: pending,
        });
        const conditions = ['version = :version'];
        if (fromLine > 0) conditions.push('line_tickets >= :fromLine');
        if (fromSale > 0) conditions.push('available_tickets >= :fromSale');
        return {
          Update: {
            TableName,
            Key: keys.stock(eventId, shard),
            UpdateExpression: `SET ${update.sets.join(', ')}`,
            ConditionExpression: conditions.join(' AND '),
            ExpressionAttributeValues: {
              ...update.values,
              ':version': eventVersion,
              ...(fromLine > 0 ? { ':fromLine': fromLine } : {}),
              ...(fromSale > 0 ? { ':fromSale': fromSale } : {}),
            },
          },
        };
      });
      const blockActions = [...perCounter.values()].map(({ counter, changes }) => blockAction(TableName, eventId, counter, changes));
      try {
        await client.send(
          new TransactWriteCommand({
            ClientRequestToken: transactionToken(),
            TransactItems: [...entryActions, ...tallyActions, ...bookingActions, ...shardActions, ...blockActions],
          }),
        );
        return { kind: 'offered' };
      } catch (error) {
        const cancelled = cancelledTransaction(error);
        if (!cancelled) throw error;
        const n = offers.length;
        const failed = (from: number, count: number) =>
          cancelled.reasons.slice(from, from + count).flatMap((r, i) => (r.code === 'ConditionalCheckFailed' ? [i] : []));
        if (failed(0, n).length > 0) return { kind: 'entry-changed' };
        const capped = failed(n, n);
        if (capped.length > 0) return { kind: 'capped', entryIds: capped.map((i) => offers[i]!.entry.id) };
        // A booking id is new to each plan; one found means a lost answer was
        // applied, and then its entry is no longer WAITING either: plan again.
        if (failed(2 * n, n).length > 0) return { kind: 'entry-changed' };
        if (failed(3 * n, perShard.size).length > 0) return { kind: 'stock-changed' };
        if (lostARace(cancelled)) return RETRY;
        throw error;
      }
    },

    async returnToSale(eventId, shard, quantity) {
      try {
        await client.send(
          new UpdateCommand({
            TableName,
            Key: keys.stock(eventId, shard),
            UpdateExpression: 'SET line_tickets = line_tickets - :q, available_tickets = available_tickets + :q',
            ConditionExpression: 'line_tickets >= :q',
            ExpressionAttributeValues: { ':q': quantity },
          }),
        );
        return 'returned';
      } catch (error) {
        if (failedConditionItem(error) === undefined) throw error;
        return 'short';
      }
    },

    /**
     * Newest first. A user's entries are one gsi1 partition, an event's one gsi2
     * partition, and all entries the gsi3 buckets merged by sort key; the other
     * filters apply within. The cursor is the sort key of the last entry returned.
     */
    async list(filter, page) {
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = {};
      const filters: string[] = [];
      let partitions: IndexPartition[];
      if (filter.user_id) {
        partitions = [{ index: 'gsi1', pk: 'gsi1pk', sk: 'gsi1sk', value: waitlistByUser(filter.user_id) }];
        if (filter.event_id) {
          filters.push('event_id = :event_id');
          values[':event_id'] = filter.event_id;
        }
      } else if (filter.event_id) {
        partitions = [{ index: 'gsi2', pk: 'gsi2pk', sk: 'gsi2sk', value: waitlistByEvent(filter.event_id) }];
      } else {
        partitions = indexBuckets.map((b) => ({ index: 'gsi3', pk: 'gsi3pk', sk: 'gsi3sk', value: waitlistAll(b) }));
      }
      if (filter.status) {
        filters.push('#status = :status');
        names['#status'] = 'status';
        values[':status'] = filter.status;
      }
      const found = await newestFirst(table, partitions, page, filters.length > 0 ? { expression: filters.join(' AND '), names, values } : undefined);
      return { items: found.items.map(toEntry), next_cursor: found.next_cursor };
    },

    async openLines() {
      const ids: string[] = [];
      let startKey: Record<string, unknown> | undefined;
      do {
        const result = await client.send(
          new QueryCommand({
            TableName,
            IndexName: openLines.index,
            KeyConditionExpression: 'gsi4pk = :lines',
            ExpressionAttributeValues: { ':lines': openLines.pk },
            ExclusiveStartKey: startKey,
          }),
        );
        ids.push(...(result.Items ?? []).map((item) => String(item.gsi4sk)));
        startKey = result.LastEvaluatedKey;
      } while (startKey);
      return ids;
    },

    async endLine(eventId, now) {
      let ended = 0;
      for (const { block, waiting } of await store.blocks(eventId)) {
        if (waiting <= 0) continue;
        const entries = await store.waitingInBlock(eventId, block);
        const results = await Promise.all(
          entries.map((entry) => withRetry(async () => store.leave(entry, `event-deleted-${eventId}`, now))),
        );
        ended += results.filter((r) => r === 'left').length;
      }
      // Nothing of the event is left to offer: the sweeper need not look at it.
      await client.send(
        new UpdateCommand({ TableName, Key: keys.line(eventId), UpdateExpression: 'SET #open = :false REMOVE gsi4pk, gsi4sk', ConditionExpression: 'attribute_exists(pk)', ExpressionAttributeNames: { '#open': 'open' }, ExpressionAttributeValues: { ':false': false } }),
      ).catch((error: unknown) => {
        if (failedConditionItem(error) === undefined) throw error;
      });
      return ended;
    },
  };
  return store;
}

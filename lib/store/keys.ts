import { createHash } from 'node:crypto';
import type { BookingStatus } from '../domain/booking';

/**
 * The key layout of the single table: every partition and sort key, and every
 * index key, is built here and nowhere else. README.md ("Table design") lists the
 * access patterns these keys serve.
 */
export const keys = {
  event: (id: string) => ({ pk: `EVENT#${id}`, sk: 'EVENT' }),
  /**
   * One shard of an event's stock and counters (lib/domain/stock.ts). A partition
   * key of its own per shard: each shard has a partition's throughput to itself.
   */
  stock: (eventId: string, shard: number) => ({ pk: `EVENT#${eventId}#STOCK#${shard}`, sk: 'STOCK' }),
  user: (id: string) => ({ pk: `USER#${id}`, sk: 'USER' }),
  /** Guards email uniqueness: one item per normalised address. */
  email: (normalizedEmail: string) => ({ pk: `EMAIL#${normalizedEmail}`, sk: 'EMAIL' }),
  /** Authenticates a request with one strongly consistent GetItem on the key's hash. */
  apiKey: (hash: string) => ({ pk: `APIKEY#${hash}`, sk: 'APIKEY' }),
  booking: (id: string) => ({ pk: `BOOKING#${id}`, sk: 'BOOKING' }),
  /**
   * The tickets one user holds or bought for one event (max_per_user). Its own
   * partition, not the event's: it must not share the event item's throughput.
   */
  tally: (eventId: string, userId: string) => ({ pk: `TALLY#${eventId}#${userId}`, sk: 'TALLY' }),
  /**
   * An event's waiting list: its sequence of places (`next_seq`), whether it is
   * open (people wait: released tickets go to the line), and its entry in the
   * index of open lines. Its own partition key: a line's writes are the joins,
   * not the sales.
   */
  line: (eventId: string) => ({ pk: `EVENT#${eventId}#LINE`, sk: 'LINE' }),
  /**
   * The counts of one part of one block of places in an event's line
   * (lib/domain/waitlist.ts, LINE_BLOCK): consecutive places count on different
   * parts, so that joins arriving together do not all write one item.
   */
  lineBlock: (eventId: string, block: number, part: number) => ({ pk: `EVENT#${eventId}#LINE`, sk: `BLOCK#${String(block).padStart(8, '0')}#${part}` }),
  waitlistEntry: (id: string) => ({ pk: `WAITLIST#${id}`, sk: 'ENTRY' }),
  /** The one WAITING or OFFERED entry a user may have for an event: it makes joining twice a conflict. */
  inLine: (eventId: string, userId: string) => ({ pk: `INLINE#${eventId}#${userId}`, sk: 'INLINE' }),
  webhook: (id: string) => ({ pk: `WEBHOOK#${id}`, sk: 'WEBHOOK' }),
  /** One delivery of one webhook to one subscription, named by its `webhook-id`. */
  delivery: (id: string) => ({ pk: `DELIVERY#${id}`, sk: 'DELIVERY' }),
  /** One Idempotency-Key of one user for one operation; the key itself is hashed. */
  idempotency: (userId: string, scope: string, key: string) => ({
    pk: `IDEMPOTENCY#${createHash('sha256').update(`${userId}\n${scope}\n${key}`).digest('hex')}`,
    sk: 'IDEMPOTENCY',
  }),
};

/** gsi1: events ordered by date_time (one partition: events are few and rarely written). */
export const eventsByDate = {
  index: 'gsi1',
  pk: 'EVENTS',
  sk: (dateTime: string, id: string) => `${dateTime}#${id}`,
};

/** Bookings sort newest first by `<created_at>#<id>` in every index. */
export const bookingSortKey = (createdAt: string, id: string) => `${createdAt}#${id}`;

/**
 * The status indexes are spread over this many partition keys each, by a hash of
 * the booking id: every booking of a hot event enters `PENDING` and most move to
 * `CONFIRMED`, and one index partition takes a thousand writes a second at most
 * (a throttled index throttles the table write that feeds it). Readers query
 * every bucket and merge by sort key, still without a Scan.
 */
export const INDEX_BUCKETS = 16;
export const indexBuckets = Array.from({ length: INDEX_BUCKETS }, (_, i) => i);

/** A booking's bucket: fixed for its life, so that its index entries move only between statuses. */
export function bucketOf(bookingId: string): number {
  return createHash('sha256').update(bookingId).digest().readUInt16BE(0) % INDEX_BUCKETS;
}

/** A booking's index keys; the status-keyed ones move when the status changes, the hold's go once it ends. */
export function bookingIndexKeys(b: { id: string; user_id: string; event_id: string; status: BookingStatus; created_at: string; expires_at: string }) {
  const sk = bookingSortKey(b.created_at, b.id);
  const bucket = bucketOf(b.id);
  return {
    gsi1pk: `USER#${b.user_id}`,
    gsi1sk: sk,
    gsi2pk: bookingsByEventStatus(b.event_id, b.status, bucket),
    gsi2sk: sk,
    gsi3pk: bookingsByStatus(b.status, bucket),
    gsi3sk: sk,
    ...(b.status === 'PENDING' ? { gsi4pk: holdsByExpiry(bucket), gsi4sk: holdSortKey(b.expires_at, b.id) } : {}),
  };
}

/**
 * gsi1: a user's bookings. gsi2: an event's bookings of one status, in buckets.
 * gsi3: all bookings of one status, in buckets. gsi4: live holds by expiry, in
 * buckets (only PENDING bookings carry its keys).
 */
export const bookingsByUser = (userId: string) => `USER#${userId}`;
export const bookingsByEventStatus = (eventId: string, status: BookingStatus, bucket: number) => `EVENT#${eventId}#${status}#${bucket}`;
export const bookingsByStatus = (status: BookingStatus, bucket: number) => `STATUS#${status}#${bucket}`;
export const holdsByExpiry = (bucket: number) => `HOLDS#${bucket}`;
export const holdSortKey = (expiresAt: string, id: string) => `${expiresAt}#${id}`;

/**
 * Every open line carries gsi4 keys under this partition, and loses them when it
 * closes: the sweeper's list of lines to look at. gsi4 is keys only, so a join
 * (which writes the line's place counter, not these keys) writes no index.
 */
export const openLines = { index: 'gsi4', pk: 'LINES' };

/**
 * A waiting-list entry's index keys. gsi1: the user's entries; gsi2: the event's
 * entries; gsi3: every entry, in buckets; all newest first. gsi4: the event's
 * line, in order of place, only while WAITING (keys only).
 */
export function waitlistIndexKeys(e: { id: string; user_id: string; event_id: string; status: string; seq: number; created_at: string }) {
  const sk = bookingSortKey(e.created_at, e.id);
  return {
    gsi1pk: waitlistByUser(e.user_id),
    gsi1sk: sk,
    gsi2pk: waitlistByEvent(e.event_id),
    gsi2sk: sk,
    gsi3pk: waitlistAll(bucketOf(e.id)),
    gsi3sk: sk,
    ...(e.status === 'WAITING' ? { gsi4pk: lineOf(e.event_id), gsi4sk: placeKey(e.seq) } : {}),
  };
}
export const waitlistByUser = (userId: string) => `WAITLIST#USER#${userId}`;
export const waitlistByEvent = (eventId: string) => `WAITLIST#EVENT#${eventId}`;
export const waitlistAll = (bucket: number) => `WAITLIST#${bucket}`;
export const lineOf = (eventId: string) => `LINE#${eventId}`;
export const placeKey = (seq: number) => String(seq).padStart(12, '0');

/** gsi1: the webhook subscriptions (few, written by the admin), oldest first. */
export const webhooksList = { index: 'gsi1', pk: 'WEBHOOKS' };
/** gsi1: one subscription's deliveries, newest first. */
export const deliveriesOf = (subscriptionId: string) => `WEBHOOK#${subscriptionId}#DELIVERIES`;

/** Attributes that are keys or bookkeeping, not data: stripped when an item becomes a domain record. */
export const KEY_ATTRIBUTES = ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'gsi3pk', 'gsi3sk', 'gsi4pk', 'gsi4sk', 'type'] as const;

export function stripKeys<T>(item: Record<string, unknown>): T {
  const record: Record<string, unknown> = { ...item };
  for (const key of KEY_ATTRIBUTES) delete record[key];
  return record as T;
}

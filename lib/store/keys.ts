import { createHash } from 'node:crypto';
import type { BookingStatus } from '../domain/booking';

/**
 * The key layout of the single table: every partition and sort key, and every
 * index key, is built here and nowhere else. README.md ("Table design") lists the
 * access patterns these keys serve.
 */
export const keys = {
  event: (id: string) => ({ pk: `EVENT#${id}`, sk: 'EVENT' }),
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

/** A booking's index keys; the status-keyed ones move when the status changes. */
export function bookingIndexKeys(b: { id: string; user_id: string; event_id: string; status: BookingStatus; created_at: string }) {
  const sk = bookingSortKey(b.created_at, b.id);
  return {
    gsi1pk: `USER#${b.user_id}`,
    gsi1sk: sk,
    gsi2pk: bookingsByEventStatus(b.event_id, b.status),
    gsi2sk: sk,
    gsi3pk: bookingsByStatus(b.status),
    gsi3sk: sk,
  };
}

/** gsi1: a user's bookings. gsi2: an event's bookings of one status. gsi3: all bookings of one status. */
export const bookingsByUser = (userId: string) => `USER#${userId}`;
export const bookingsByEventStatus = (eventId: string, status: BookingStatus) => `EVENT#${eventId}#${status}`;
export const bookingsByStatus = (status: BookingStatus) => `STATUS#${status}`;

/** Attributes that are keys or bookkeeping, not data: stripped when an item becomes a domain record. */
export const KEY_ATTRIBUTES = ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'gsi3pk', 'gsi3sk', 'type'] as const;

export function stripKeys<T>(item: Record<string, unknown>): T {
  const record: Record<string, unknown> = { ...item };
  for (const key of KEY_ATTRIBUTES) delete record[key];
  return record as T;
}

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
};

/** gsi1: events ordered by date_time (one partition: events are few and rarely written). */
export const eventsByDate = {
  index: 'gsi1',
  pk: 'EVENTS',
  sk: (dateTime: string, id: string) => `${dateTime}#${id}`,
};

/** Attributes that are keys, not data: stripped when an item becomes a domain record. */
export const KEY_ATTRIBUTES = ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'gsi3pk', 'gsi3sk', 'type'] as const;

export function stripKeys<T>(item: Record<string, unknown>): T {
  const record: Record<string, unknown> = { ...item };
  for (const key of KEY_ATTRIBUTES) delete record[key];
  return record as T;
}

/** A small HTTP client for the end-to-end tests: the stack started by tests/support/stack-setup.ts. */
import { inDays, uniqueEmail } from '../support/fixtures';

// Their home is tests/support; they are also exported here for the test files that take them from the client.

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export const baseUrl = (): string => {
  const url = process.env.E2E_URL;
  if (!url) throw new Error('The stack is not running: run through jest (tests/support/stack-setup.ts)');
  return url;
};

export const adminKey = (): string => process.env.E2E_ADMIN_KEY!;

export interface CallOptions {
  /** A JSON body (sent with Content-Type: application/json unless `headers` says otherwise). */
  json?: unknown;
  /** A raw body, sent as is. */
  raw?: string;
  key?: string;
  headers?: Record<string, string>;
}

export function api<T = any>(method: string, path: string, options: CallOptions = {}): Promise<ApiResponse<T>> {
  return apiAt<T>(baseUrl(), method, path, options);
}

export async function createUser(name = 'Test User'): Promise<{ id: string; key: string; email: string }> {
  const email = uniqueEmail();
  const response = await api('POST', '/users', { json: { name, email } });
  if (response.status !== 201) throw new Error(`createUser: ${response.status} ${JSON.stringify(response.body)}`);
  return { id: response.body.id, key: response.body.api_key, email };
}

export async function createEvent(fields: Record<string, unknown> = {}): Promise<any> {
  const response = await api('POST', '/events', {
    key: adminKey(),
    json: { name: 'Test event', date_time: inDays(30), total_tickets: 100, ticket_price: 25, ...fields },
  });
  if (response.status !== 201) throw new Error(`createEvent: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

/** POST /bookings as the given key, with an optional Idempotency-Key. */
export const postBooking = (key: string, body: unknown, idempotencyKey?: string): Promise<ApiResponse> =>
  api('POST', '/bookings', { key, json: body, headers: idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey } });

/** A PENDING booking of `quantity` tickets, or a thrown error. */
export async function createBooking(key: string, eventId: string, quantity = 1): Promise<any> {
  const response = await postBooking(key, { event_id: eventId, quantity });
  if (response.status !== 201) throw new Error(`createBooking: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

/** POST /bookings/{id}/cancel, or a thrown error unless it answers 200. */
export async function cancelBooking(key: string, bookingId: string): Promise<any> {
  const response = await api('POST', `/bookings/${bookingId}/cancel`, { key });
  if (response.status !== 200) throw new Error(`cancelBooking: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

/** Every page of a paginated GET (`path` may carry a query), following next_cursor until it is null. */
export async function walkPages(path: string, key: string | undefined, limit: number): Promise<{ pages: ApiResponse[]; items: any[] }> {
  const pages: ApiResponse[] = [];
  const items: any[] = [];
  const separator = path.includes('?') ? '&' : '?';
  let cursor: string | null = null;
  for (let guard = 0; guard < 2000; guard++) {
    const query: string = `${separator}limit=${limit}` + (cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`);
    const page = await api('GET', path + query, key === undefined ? {} : { key });
    if (page.status !== 200) throw new Error(`GET ${path}${query}: ${page.status} ${JSON.stringify(page.body)}`);
    pages.push(page);
    items.push(...page.body.items);
    cursor = page.body.next_cursor;
    if (cursor === null) return { pages, items };
  }
  throw new Error(`GET ${path} kept returning a next_cursor`);
}

/** GET /events/{id}/stats as the admin, or a thrown error. */
export async function eventStats(eventId: string): Promise<any> {
  const response = await api('GET', `/events/${eventId}/stats`, { key: adminKey() });
  if (response.status !== 200) throw new Error(`eventStats: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

/** The event's available_tickets, read through the public GET /events/{id}. */
export async function availableTickets(eventId: string): Promise<number> {
  const response = await api('GET', `/events/${eventId}`);
  if (response.status !== 200) throw new Error(`availableTickets: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.available_tickets;
}

/** POST /bookings/{id}/payment as the given key, with an optional Idempotency-Key. */
export const postPayment = (key: string, bookingId: string, body: unknown, idempotencyKey?: string): Promise<ApiResponse> =>
  api('POST', `/bookings/${bookingId}/payment`, {
    key,
    json: body,
    headers: idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey },
  });

/** GET /bookings/{id} as the given key, or a thrown error unless it answers 200. */
export async function getBooking(key: string, bookingId: string): Promise<any> {
  const response = await api('GET', `/bookings/${bookingId}`, { key });
  if (response.status !== 200) throw new Error(`getBooking: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

/**
 * `api` against another stack than the global one (a test file's own stack,
 * started with other settings): the same request, sent to `base`.
 */
export async function apiAt<T = any>(base: string, method: string, path: string, options: CallOptions = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = {};
  let body: string | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  if (options.raw !== undefined) body = options.raw;
  if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`;
  Object.assign(headers, options.headers);
  const response = await fetch(base + path, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body: parsed as T };
}

/**
 * The helpers above, bound to one stack: its base URL and admin key. For test
 * files that start their own stack (localstack/isolated-stack.ts).
 */
export function stackClient(stack: { url: string; adminApiKey: string }) {
  const call = <T = any>(method: string, path: string, options: CallOptions = {}) => apiAt<T>(stack.url, method, path, options);
  const expectOk = (what: string, response: ApiResponse, status: number) => {
    if (response.status !== status) throw new Error(`${what}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  };
  return {
    api: call,
    adminKey: stack.adminApiKey,
    async createUser(name = 'Test User'): Promise<{ id: string; key: string; email: string }> {
      const email = uniqueEmail();
      const body = expectOk('createUser', await call('POST', '/users', { json: { name, email } }), 201);
      return { id: body.id, key: body.api_key, email };
    },
    async createEvent(fields: Record<string, unknown> = {}): Promise<any> {
      const response = await call('POST', '/events', {
        key: stack.adminApiKey,
        json: { name: 'Test event', date_time: inDays(30), total_tickets: 100, ticket_price: 25, ...fields },
      });
      return expectOk('createEvent', response, 201);
    },
    postBooking: (key: string, body: unknown) => call('POST', '/bookings', { key, json: body }),
    async createBooking(key: string, eventId: string, quantity = 1): Promise<any> {
      return expectOk('createBooking', await call('POST', '/bookings', { key, json: { event_id: eventId, quantity } }), 201);
    },
    postPayment: (key: string, bookingId: string, body: unknown) => call('POST', `/bookings/${bookingId}/payment`, { key, json: body }),
    async getBooking(key: string, bookingId: string): Promise<any> {
      return expectOk('getBooking', await call('GET', `/bookings/${bookingId}`, { key }), 200);
    },
    async eventStats(eventId: string): Promise<any> {
      return expectOk('eventStats', await call('GET', `/events/${eventId}/stats`, { key: stack.adminApiKey }), 200);
    },
    async availableTickets(eventId: string): Promise<number> {
      return (expectOk('availableTickets', await call('GET', `/events/${eventId}`), 200) as { available_tickets: number }).available_tickets;
    },
    /** Every booking of the event, as the admin lists them (GET /bookings?event_id=, all pages). */
    async eventBookings(eventId: string): Promise<any[]> {
      const items: any[] = [];
      let cursor: string | null = null;
      for (let guard = 0; guard < 2000; guard++) {
        const query: string = `/bookings?event_id=${eventId}&limit=100` + (cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`);
        const page = expectOk(`GET ${query}`, await call('GET', query, { key: stack.adminApiKey }), 200);
        items.push(...page.items);
        cursor = page.next_cursor;
        if (cursor === null) return items;
      }
      throw new Error(`GET /bookings?event_id=${eventId} kept returning a next_cursor`);
    },
  };
}

export type StackClient = ReturnType<typeof stackClient>;

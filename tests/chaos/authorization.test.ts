import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import crypto from 'node:crypto';
import { secretsEqual } from '../../lib/domain/user';
import { startIsolatedStack, type IsolatedStack } from '../../localstack/isolated-stack';
import { notAProblem } from '../support/expectations';
import { uniqueEmail } from '../support/fixtures';
import { accessLog, logSoFar } from '../support/log';
import { statsFromBookings } from '../support/recount';
import { brief, describeResponse, loopbackUrl, okBody, type RawResponse, sendJson } from '../support/raw-http';
import { snapshotDiff, tableReader } from '../support/table-snapshot';
import { STACK_START_TIMEOUT } from '../support/time';
import { UNDER_THE_MODEL } from '../support/under-the-model';

/**
 * Who may do what (API.md, Authentication): every route × {no key, a bad key,
 * user A, user B, the admin}, where the booking belongs to A. Users never read,
 * pay or cancel another user's booking (404, as if it did not exist), never
 * manage events or read statistics (403); no key or a bad key is a 401 on every
 * route that needs one; the public routes work without one; the admin may read
 * and cancel any booking, but not pay one, nor call GET /users/me (403). Every
 * refusal leaves the table as it was. No response carries the admin key, and no
 * key of anyone reaches the log.
 */

type Who = 'none' | 'bad' | 'a' | 'b' | 'admin';
const CALLERS: Who[] = ['none', 'bad', 'a', 'b', 'admin'];

let stack: IsolatedStack;
let base: string;
let table: ReturnType<typeof tableReader>;

interface Fixtures {
  admin: string;
  bad: string;
  a: { id: string; key: string };
  b: { id: string; key: string };
  event: any;
  deletable: any;
  /** A's bookings: the one everybody tries (and only A and the admin may read), and one per successful change. */
  read: any;
  paidByA: any;
  cancelledByA: any;
  cancelledByAdmin: any;
}
let f: Fixtures;

interface Row {
  route: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: (who: Who) => string;
  body?: (who: Who) => unknown;
  expected: Record<Who, number>;
}

const every = (status: number): Record<Who, number> => ({ none: status, bad: status, a: status, b: status, admin: status });
/** 401 without a valid key; then A, B, admin. */
const keyed = (a: number, b: number, admin: number): Record<Who, number> => ({ none: 401, bad: 401, a, b, admin });

/** The matrix: one row per route of API.md. */
const ROWS: Row[] = [
  { route: 'GET /health', method: 'GET', path: () => '/health', expected: every(200) },
  { route: 'GET /openapi.json', method: 'GET', path: () => '/openapi.json', expected: every(200) },
  { route: 'POST /users', method: 'POST', path: () => '/users', body: (who) => ({ name: `Made by ${who}`, email: uniqueEmail(`by-${who}`) }), expected: every(201) },
  { route: 'GET /users/me', method: 'GET', path: () => '/users/me', expected: keyed(200, 200, 403) },
  {
    route: 'POST /events',
    method: 'POST',
    path: () => '/events',
    body: (who) => ({ name: `Matrix event by ${who}`, date_time: '2027-06-01T20:00:00Z', total_tickets: 5, ticket_price: 1 }),
    expected: keyed(403, 403, 201),
  },
  { route: 'GET /events', method: 'GET', path: () => '/events?limit=100', expected: every(200) },
  { route: 'GET /events/{id}', method: 'GET', path: () => `/events/${f.event.id}`, expected: every(200) },
  { route: 'PATCH /events/{id}', method: 'PATCH', path: () => `/events/${f.event.id}`, body: (who) => ({ description: `patched by ${who}` }), expected: keyed(403, 403, 200) },
  { route: 'DELETE /events/{id}', method: 'DELETE', path: () => `/events/${f.deletable.id}`, expected: keyed(403, 403, 204) },
  { route: 'GET /events/{id}/stats', method: 'GET', path: () => `/events/${f.event.id}/stats`, expected: keyed(403, 403, 200) },
  { route: 'POST /bookings', method: 'POST', path: () => '/bookings', body: () => ({ event_id: f.event.id, quantity: 1 }), expected: keyed(201, 201, 403) },
  { route: 'GET /bookings', method: 'GET', path: () => '/bookings?limit=100', expected: keyed(200, 200, 200) },
  { route: 'GET /bookings/{id}', method: 'GET', path: () => `/bookings/${f.read.id}`, expected: keyed(200, 404, 200) },
  {
    route: 'POST /bookings/{id}/payment',
    method: 'POST',
    path: (who) => `/bookings/${who === 'a' ? f.paidByA.id : f.read.id}/payment`,
    body: () => ({ payment_token: 'tok_visa' }),
    expected: keyed(200, 404, 403),
  },
  {
    route: 'POST /bookings/{id}/cancel',
    method: 'POST',
    path: (who) => `/bookings/${who === 'a' ? f.cancelledByA.id : who === 'admin' ? f.cancelledByAdmin.id : f.read.id}/cancel`,
    expected: keyed(200, 404, 200),
  },
];

interface Cell {
  route: string;
  who: Who;
  expected: number;
  response: RawResponse;
  /** What the request changed in the table (checked for refusals only). */
  changes: string[];
}
const cells: Cell[] = [];
/** Every key issued during the test (the fixtures' and the matrix's own POST /users). */
const issuedKeys: string[] = [];

function keyOf(who: Who): string | undefined {
  return { none: undefined, bad: f.bad, a: f.a.key, b: f.b.key, admin: f.admin }[who];
}

const call = (who: Who, method: string, path: string, json?: unknown) => sendJson(base, method, path, { key: keyOf(who), json });

beforeAll(async () => {
  stack = await startIsolatedStack('chaos-authz-stack', { likeAws: UNDER_THE_MODEL });
  base = loopbackUrl(stack);
  table = tableReader(stack);
  const user = async (name: string) => {
    const body = await okBody(sendJson(base, 'POST', '/users', { json: { name, email: uniqueEmail(name) } }), 201, 'POST /users');
    issuedKeys.push(body.api_key);
    return { id: body.id as string, key: body.api_key as string };
  };
  const admin = stack.adminApiKey;
  const a = await user('user-a');
  const b = await user('user-b');
  const event = await okBody(
    sendJson(base, 'POST', '/events', { key: admin, json: { name: 'Authz', date_time: '2027-06-01T20:00:00Z', total_tickets: 20, ticket_price: 12.5 } }),
    201,
    'POST /events',
  );
  const deletable = await okBody(
    sendJson(base, 'POST', '/events', { key: admin, json: { name: 'Deletable', date_time: '2027-06-02T20:00:00Z', total_tickets: 3, ticket_price: 1 } }),
    201,
    'POST /events',
  );
  const book = (quantity: number) => okBody(sendJson(base, 'POST', '/bookings', { key: a.key, json: { event_id: event.id, quantity } }), 201, 'POST /bookings');
  f = {
    admin,
    bad: `tbk_${crypto.randomBytes(32).toString('base64url')}`,
    a,
    b,
    event,
    deletable,
    read: await book(2),
    paidByA: await book(1),
    cancelledByA: await book(1),
    cancelledByAdmin: await book(1),
  };

  // The matrix, one request at a time, in row order (DELETE and the changes by A and the admin come last in their row).
  for (const row of ROWS) {
    for (const who of CALLERS) {
      const expected = row.expected[who];
      const before = expected >= 400 ? await table.snapshot() : undefined;
      const response = await call(who, row.method, row.path(who), row.body?.(who));
      const changes = before ? snapshotDiff(before, await table.snapshot()) : [];
      if (row.route === 'POST /users' && response.status === 201) issuedKeys.push(response.body.api_key);
      cells.push({ route: row.route, who, expected, response, changes });
    }
  }
}, STACK_START_TIMEOUT + 60_000);

afterAll(async () => {
  table?.destroy();
  await stack?.stop();
});

const cellCases = () =>
  ROWS.flatMap((row) => CALLERS.map((who) => ({ route: row.route, who, expected: row.expected[who] })));

/** The problem each refusal of the matrix must be. */
const REFUSALS: Record<number, string> = { 401: 'unauthenticated', 403: 'forbidden', 404: 'booking-not-found' };

describe('the matrix: every route × {no key, bad key, user A, user B, admin}, the booking being A\u2019s', () => {
  it.each(cellCases())('$route as $who → $expected', ({ route, who, expected }) => {
    const cell = cells.find((c) => c.route === route && c.who === who)!;
    const { response } = cell;
    // A refusal is the problem for its status and changes nothing at all; a success
    // is checked for its status here and for what it changed after the matrix.
    const refusal = expected >= 400;
    expect({
      status: response.status,
      body: response.status === expected ? 'as expected' : brief(response.text, 300),
      problem: refusal ? (notAProblem(response) ?? response.body.type) : 'not a refusal',
      changes: cell.changes,
    }).toEqual({
      status: expected,
      body: 'as expected',
      problem: refusal ? expect.stringMatching(new RegExp(`/problems/${REFUSALS[expected]}$`)) : 'not a refusal',
      changes: [],
    });
  });
});

describe('after the matrix', () => {
  const get = async (who: Who, path: string) => okBody(call(who, 'GET', path), 200, `GET ${path} as ${who}`);

  it("leaves A's booking exactly as it was: B's and the admin's attempts to pay it, and B's to cancel it, changed nothing", async () => {
    expect(await get('a', `/bookings/${f.read.id}`)).toEqual(f.read);
  });

  it('applied only what was allowed: A paid and cancelled its own bookings, the admin cancelled one', async () => {
    expect(await get('a', `/bookings/${f.paidByA.id}`)).toMatchObject({ status: 'CONFIRMED', user_id: f.a.id });
    expect(await get('a', `/bookings/${f.cancelledByA.id}`)).toMatchObject({ status: 'CANCELLED', cancel_reason: 'USER_CANCELLED' });
    expect(await get('a', `/bookings/${f.cancelledByAdmin.id}`)).toMatchObject({ status: 'CANCELLED', cancel_reason: 'USER_CANCELLED' });
  });

  it('changed the event only through the admin: the PATCH of A and B did nothing, DELETE only by the admin', async () => {
    expect(await get('none', `/events/${f.event.id}`)).toMatchObject({ name: 'Authz', description: 'patched by admin' });
    const deleted = await call('none', 'GET', `/events/${f.deletable.id}`);
    expect(deleted.status).toBe(404);
  });

  it('created events only for the admin, and bookings only for the users', async () => {
    const events = (await get('none', '/events?limit=100')).items.map((e: any) => e.name);
    expect(events.filter((name: string) => name.startsWith('Matrix event'))).toEqual(['Matrix event by admin']);
    const all = (await get('admin', `/bookings?event_id=${f.event.id}&limit=100`)).items;
    const byUser = (id: string) => all.filter((bk: any) => bk.user_id === id).length;
    expect({ a: byUser(f.a.id), b: byUser(f.b.id), total: all.length }).toEqual({ a: 5, b: 1, total: 6 });
  });

  it("lists to each user only their own bookings, and to the admin everyone's", async () => {
    const mine = async (who: Who) => (await get(who, '/bookings?limit=100')).items.map((bk: any) => bk.user_id);
    expect(new Set(await mine('a'))).toEqual(new Set([f.a.id]));
    expect(new Set(await mine('b'))).toEqual(new Set([f.b.id]));
    expect(new Set(await mine('admin'))).toEqual(new Set([f.a.id, f.b.id]));
  });

  it('answers GET /users/me with the caller itself', async () => {
    expect((await get('a', '/users/me')).id).toBe(f.a.id);
    expect((await get('b', '/users/me')).id).toBe(f.b.id);
  });

  it('keeps the statistics equal to a recount of the bookings', async () => {
    const stats = await get('admin', `/events/${f.event.id}/stats`);
    const all: any[] = (await get('admin', `/bookings?event_id=${f.event.id}&limit=100`)).items;
    expect(stats).toEqual(statsFromBookings(f.event, all));
    expect(stats.tickets_sold + stats.tickets_held + stats.tickets_available).toBe(stats.total_tickets);
  });
});

describe('bad keys of every shape, on every route that needs a key: 401', () => {
  const NEEDS_KEY = ROWS.filter((row) => row.expected.none === 401);
  const shapes: [string, () => Record<string, string>][] = [
    ['the admin key with its last character changed', () => ({ authorization: `Bearer ${f.admin.slice(0, -1)}${f.admin.endsWith('0') ? '1' : '0'}` })],
    ['the admin key without its last character', () => ({ authorization: `Bearer ${f.admin.slice(0, -1)}` })],
    ['the admin key and one more character', () => ({ authorization: `Bearer ${f.admin}0` })],
    ["A's key in upper case", () => ({ authorization: `Bearer ${f.a.key.toUpperCase()}` })],
    ["A's key as Basic credentials", () => ({ authorization: `Basic ${Buffer.from(`a:${f.a.key}`).toString('base64')}` })],
    ["A's key without Bearer", () => ({ authorization: f.a.key })],
    ['Bearer and nothing', () => ({ authorization: 'Bearer' })],
    ['a key of 600 characters', () => ({ authorization: `Bearer ${'k'.repeat(600)}` })],
  ];
  it.each(shapes)('%s', async (_shape, headers) => {
    const wrong: string[] = [];
    for (const row of NEEDS_KEY) {
      const before = await table.snapshot();
      const response = await sendJson(base, row.method, row.path('b'), { headers: headers(), json: row.body?.('b') });
      const changes = snapshotDiff(before, await table.snapshot());
      if (response.status !== 401 || notAProblem(response) || changes.length > 0) wrong.push(`${row.route}: ${describeResponse(response)} ${changes.join('; ')}`);
    }
    expect(wrong).toEqual([]);
  });
});

describe('keys are secrets', () => {
  it('never returns the admin key, in any body or header of the matrix', () => {
    const leaks = cells.filter((c) => c.response.text.includes(f.admin) || JSON.stringify(c.response.headers).includes(f.admin));
    expect(leaks.map((c) => `${c.route} as ${c.who}`)).toEqual([]);
  });

  it("never returns a user's key but once, to POST /users that created it", () => {
    const leaks = cells.filter((c) => [f.a.key, f.b.key].some((key) => c.response.text.includes(key) || JSON.stringify(c.response.headers).includes(key)));
    expect(leaks.map((c) => `${c.route} as ${c.who}`)).toEqual([]);
    const created = cells.filter((c) => c.route === 'POST /users');
    for (const c of created) expect(Object.keys(c.response.body).sort()).toEqual(['api_key', 'created_at', 'email', 'id', 'name']);
  });

  it('never writes a key to the log: neither the admin key nor any user key', async () => {
    const log = await logSoFar(stack);
    // The matrix was logged (its last request among the rest): the absence of a key below is not the absence of the log.
    expect(accessLog(log)).toContain('POST /bookings/{id}/cancel 200');
    const found = [f.admin, ...issuedKeys].filter((key) => log.includes(key));
    expect(found.map((key) => (key === f.admin ? 'the admin key' : `user key ${key.slice(0, 8)}…`))).toEqual([]);
  });

  it('stores no key in the table, only hashes of user keys', async () => {
    const items = [...(await table.snapshot()).values()].join('\n');
    expect([f.admin, ...issuedKeys].filter((key) => items.includes(key))).toEqual([]);
    const hashes = issuedKeys.map((key) => crypto.createHash('sha256').update(key, 'utf8').digest('hex'));
    expect(hashes.every((hash) => items.includes(`APIKEY#${hash}`))).toBe(true);
  });

  it('does not let a client choose its own identity through the local emulator\u2019s sls-offline-authorizer-override header', async () => {
    // serverless-offline replaces the authorizer's result with this header's JSON
    // (README, "Local caveat"). Without a key, it must not make anyone the admin or user A.
    const asAdmin = { 'sls-offline-authorizer-override': JSON.stringify({ lambda: { role: 'admin' } }) };
    const asA = { 'sls-offline-authorizer-override': JSON.stringify({ lambda: { role: 'user', user_id: f.a.id } }) };
    const before = await table.snapshot();
    const attempts = [
      await sendJson(base, 'GET', `/events/${f.event.id}/stats`, { headers: asAdmin }),
      await sendJson(base, 'POST', '/events', { headers: asAdmin, json: { name: 'Override', date_time: '2027-06-01T20:00:00Z', total_tickets: 1, ticket_price: 1 } }),
      await sendJson(base, 'GET', `/bookings/${f.read.id}`, { headers: asA }),
      await sendJson(base, 'POST', `/bookings/${f.read.id}/cancel`, { headers: asA }),
    ];
    const changes = snapshotDiff(before, await table.snapshot());
    expect({ statuses: attempts.map((r) => r.status), changes }).toEqual({ statuses: [401, 401, 401, 401], changes: [] });
  });
});

describe('the admin key is compared in constant time, by construction', () => {
  const root = resolve(__dirname, '../..');
  const source = (file: string) => readFileSync(resolve(root, file), 'utf8');

  it('secretsEqual hashes both secrets to equal-length SHA-256 digests and compares them with timingSafeEqual', () => {
    const body = /export function secretsEqual\([^)]*\)[^{]*\{([\s\S]*?)\n\}/.exec(source('lib/domain/user.ts'))?.[1] ?? '';
    expect(body).toMatch(/createHash\('sha256'\)\.update\(a, 'utf8'\)\.digest\(\)/);
    expect(body).toMatch(/createHash\('sha256'\)\.update\(b, 'utf8'\)\.digest\(\)/);
    expect(body).toMatch(/return timingSafeEqual\(ha, hb\);/);
    expect(body).not.toMatch(/===|!==|==|!=|\.length|\bfor\b|\bwhile\b/);
  });

  it('authenticate compares the admin key only through secretsEqual, before any lookup', () => {
    const code = source('lib/usecases/authenticate.ts');
    expect(code).toMatch(/if \(secretsEqual\(key, adminKey\)\) return \{ role: 'admin' \};/);
    expect(code).not.toMatch(/[!=]==?\s*adminKey|adminKey\s*[!=]==?/);
  });

  it('calls timingSafeEqual with two 32-byte buffers whatever the lengths of the secrets', () => {
    const spy = jest.spyOn(crypto, 'timingSafeEqual');
    try {
      const cases: [string, string, boolean][] = [
        ['adm_secret_0123456789', 'adm_secret_0123456789', true],
        ['adm_secret_0123456789', 'adm_secret_012345678', false],
        ['', 'adm_secret_0123456789', false],
        ['x'.repeat(10_000), 'x', false],
        ['clé😀', 'clé😀', true],
      ];
      for (const [a, b, equal] of cases) expect(secretsEqual(a, b)).toBe(equal);
      expect(spy).toHaveBeenCalledTimes(cases.length);
      for (const [x, y] of spy.mock.calls) expect([(x as Buffer).length, (y as Buffer).length]).toEqual([32, 32]);
    } finally {
      spy.mockRestore();
    }
  });
});

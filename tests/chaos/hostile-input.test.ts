import fc from 'fast-check';
import { stackClient } from '../e2e/client';
import { startIsolatedStack, type IsolatedStack } from '../../localstack/isolated-stack';
import { notA4xxProblem, UTC_TIMESTAMP } from '../support/expectations';
import { inDays, UNKNOWN_ID } from '../support/fixtures';
import { type BodyRecipe, type CallerRecipe, hostileHarness, type IdRecipe, type Recipe, REF_PREFIX, type World } from '../support/hostile-requests';
import { accessLog, logSoFar } from '../support/log';
import { brief, loopbackUrl, onTheWire, type RawRequest, send, wellFormed } from '../support/raw-http';
import { snapshotDiff, tableReader } from '../support/table-snapshot';
import { STACK_START_TIMEOUT } from '../support/time';
import { UNDER_THE_MODEL } from '../support/under-the-model';

/**
 * Bad input, generated (fast-check): every route gets random and malformed
 * bodies, headers, path and query values, sent with the keys of real users and
 * of the admin, against events and bookings that exist, so that the parts that
 * look valid carry the request deep into the code. Each response must be a 4xx
 * RFC 9457 problem (never a 5xx, never a success for a request that must be
 * refused), and the table must hold exactly what it held before: a full Scan is
 * compared after every request, and nothing is excluded from the comparison.
 *
 * What the generators leave out, because the local emulator answers it before any
 * code of ours runs, and API Gateway would not: a missing or empty Content-Type
 * (serverless-offline substitutes application/json), a Content-Type that is not a
 * well-formed media type, a malformed Cookie header, a path with invalid
 * percent-encoding (hapi, inside serverless-offline, answers each with its own
 * 400). A JSON body of `false` or `0` (which serverless-offline hands the
 * function as a boolean or number, not a string) has a test of its own below.
 *
 * The generators produce small recipes (what is wrong, and where), which the
 * harness (tests/support/hostile-requests.ts) turns into requests, sends and judges.
 */

/** Below this many runs a property has not reached most combinations of route, caller and fault its generators make (some 40 each), so a time limit that cuts it shorter fails the test. */
const MIN_RUNS = 100;
const PROPERTY = {
  seed: 20_261_124,
  numRuns: 150,
  /** A property stops generating (and shrinking) after this long; what ran is still checked. */
  timeLimitMs: 50_000,
  minRuns: MIN_RUNS,
};
const PROPERTY_TIMEOUT = 120_000;
const MAX_BODY_BYTES = 64 * 1024;

let stack: IsolatedStack;
let base: string;
let table: ReturnType<typeof tableReader>;
let world: World;
let harness: ReturnType<typeof hostileHarness>;

/** The world's ids by name: events `open`, `soldOut`, `started`; bookings `aPending`, `aConfirmed`, `aCancelled`, `bPending`; and A's email. */
type RefName = 'open' | 'soldOut' | 'started' | 'aPending' | 'aConfirmed' | 'aCancelled' | 'bPending' | 'aEmail';

beforeAll(async () => {
  stack = await startIsolatedStack('chaos-hostile-stack', { likeAws: UNDER_THE_MODEL });
  base = loopbackUrl(stack);
  table = tableReader(stack);
  const client = stackClient({ url: base, adminApiKey: stack.adminApiKey });
  const [a, b] = [await client.createUser('User A'), await client.createUser('User B')];
  const open = await client.createEvent({ name: 'Open', total_tickets: 50, ticket_price: 10, max_per_booking: 4, max_per_user: 6 });
  const soldOut = await client.createEvent({ name: 'Sold out', total_tickets: 1, ticket_price: 10 });
  const started = await client.createEvent({ name: 'Started', total_tickets: 10, ticket_price: 10 });
  const aPending = await client.createBooking(a.key, open.id, 2);
  const aConfirmed = await client.createBooking(a.key, open.id, 1);
  const aCancelled = await client.createBooking(a.key, open.id, 1);
  const bPending = await client.createBooking(b.key, open.id, 1);
  await client.createBooking(b.key, soldOut.id, 1);
  const paid = await client.postPayment(a.key, aConfirmed.id, { payment_token: 'tok_visa' });
  const cancelled = await client.api('POST', `/bookings/${aCancelled.id}/cancel`, { key: a.key });
  const moved = await client.api('PATCH', `/events/${started.id}`, { key: stack.adminApiKey, json: { date_time: inDays(-1) } });
  if (paid.status !== 200 || cancelled.status !== 200 || moved.status !== 200) throw new Error('fixtures: payment, cancel or PATCH failed');
  const ids: Record<RefName, string> = {
    open: open.id,
    soldOut: soldOut.id,
    started: started.id,
    aPending: aPending.id,
    aConfirmed: aConfirmed.id,
    aCancelled: aCancelled.id,
    bPending: bPending.id,
    aEmail: a.email,
  };
  world = { admin: stack.adminApiKey, a, b, ids };
  harness = hostileHarness({ base, table, world, property: PROPERTY });
}, STACK_START_TIMEOUT);

afterAll(async () => {
  table?.destroy();
  await stack?.stop();
});

// ---------------------------------------------------------------------------
// Generators of values that are invalid whatever the rest of the request says.

const nonString = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 3 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
);
const nonNumber = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.boolean(),
  fc.constant(null),
  fc.constant([1]),
  fc.constant({ value: 1 }),
  fc.constantFrom('1', '10', '1e3', 'NaN', 'Infinity'),
);

/** Text nobody would type: unicode of every kind, NUL, RTL overrides, emoji, lone surrogates, injection attempts. */
const wildText = fc.oneof(
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    '\ud800',
    'x\udfff',
    '\u202etxt.exe',
    '\u200b',
    '😀',
    '👩‍👩‍👧‍👦',
    'e\u0301',
    'ﷺ',
    '..',
    '../../etc/passwd',
    '%00',
    '%2e%2e',
    "' OR '1'='1",
    '{"$ne":null}',
    'EVENT#x',
    'BOOKING#',
    '<script>alert(1)</script>',
    '${jndi:ldap://127.0.0.1/a}',
    '\r\n',
    '\\',
    '"',
    'null',
  ),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
);

const tooLong = (min: number, max: number) =>
  fc.oneof(
    fc.string({ unit: 'grapheme-ascii', minLength: min, maxLength: max }),
    fc.constantFrom('😀', 'x', 'é', '\u0000').map((c) => c.repeat(min)),
  );

/** Integers outside [min, max], non-integers, numbers beyond any range, and non-numbers. */
const notAnIntegerIn = (min: number, max: number) =>
  fc.oneof(
    fc.integer({ min: Number.MIN_SAFE_INTEGER, max: min - 1 }),
    fc.integer({ min: max + 1, max: Number.MAX_SAFE_INTEGER }),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d) || d < min || d > max),
    fc.constantFrom(1.5, 0.1, -0.5, 1e308, -1e308, 2 ** 53 + 2, 1e21, 5e-324, max + 0.5),
    nonNumber,
  );

/** Dates that are not RFC 3339 date-times with an offset, or are impossible. */
const badDate = fc.oneof(
  fc.constantFrom(
    '2027-02-30T10:00:00Z',
    '2027-02-29T10:00:00Z',
    '2027-04-31T10:00:00Z',
    '2027-13-01T10:00:00Z',
    '2027-00-10T10:00:00Z',
    '2027-05-01T24:00:00Z',
    '2027-05-01T23:60:00Z',
    '2027-05-01T23:59:60Z',
    '2027-05-01T10:00:00',
    '2027-05-01',
    '10:00:00Z',
    '2027-05-01 10:00:00Z',
    '2027-05-01T10:00:00+24:00',
    '2027-05-01T10:00:00+0200',
    '2027-05-01T10:00Z',
    '+275760-09-13T00:00:00Z',
    '27-05-01T10:00:00Z',
    '2027-W18-1',
    'tomorrow',
    '',
    ' 2027-05-01T10:00:00Z',
    '2027-05-01T10:00:00Z ',
    '2027-05-01T10:00:00Z\u0000',
    '２０２７-05-01T10:00:00Z',
  ),
  fc.integer({ min: 0, max: 4_000_000_000_000 }),
  fc.constant(null),
  wildText.filter((s) => !/^\d{4}-\d\d-\d\dT/.test(s)),
);
/** Dates in the past, which an event cannot be created at (year 0 among them). */
const pastDate = fc.constantFrom('0000-01-01T00:00:00Z', '1970-01-01T00:00:00Z', '2000-02-29T12:00:00+05:30', '2020-01-01T00:00:00-12:00');

const negativePrice = fc.double({ max: -0.01, noNaN: true, noDefaultInfinity: true });
const threeDecimalPrice = fc.integer({ min: 0, max: 999_999_999 }).filter((n) => n % 10 !== 0).map((n) => n / 1000);
const badPrice = fc.oneof(
  negativePrice,
  threeDecimalPrice,
  fc.double({ min: 1_000_000.01, noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(1.005, 0.001, 1000000.01, 1e308, -0.01, 12.345),
  fc.constantFrom('1.005', '-1', '-0.01', '1e3', '0x10', '', ' ', '1.', '.5', '01.5', '1,50', 'abc', '€10', '10 EUR', '1000000.01', 'NaN', 'Infinity'),
  fc.boolean(),
  fc.constant(null),
  fc.constant([10]),
);
const badEmail = fc.oneof(
  fc.constantFrom('', 'plain', 'a@', '@example.org', 'a@@example.org', 'a b@example.org', 'a@example..org', '.a@example.org', 'a@-example.org', 'a@example.org\u0000', '<a@example.org>', 'a@example.org, b@example.org'),
  fc.string({ unit: 'grapheme-ascii', minLength: 250, maxLength: 300 }).map((s) => `${s.replace(/[^a-z]/gi, 'a')}@example.org`),
  wildText.filter((s) => !s.includes('@')),
  nonString,
);
const badToken = fc.oneof(
  fc.constantFrom('', 'tok_', 'TOK_visa', 'tok_Visa', 'tok-visa', 'tok_visa ', ' tok_visa', 'tok_visa\n', 'tok_😀', 'tok_\u0000', 'visa', 'tok_' + 'a'.repeat(252)),
  wildText.filter((s) => !/^tok_[a-z0-9_]+$/.test(s)),
  nonString,
);

/** Valid bodies (with refs to the world) per body route, and how to break each field. */
const BODIES = {
  createUser: {
    valid: { name: 'Hostile Input', email: 'hostile.input@example.org' },
    required: ['name', 'email'],
    fields: {
      name: fc.oneof(fc.constant(''), tooLong(201, 400), nonString),
      email: badEmail,
    },
  },
  createEvent: {
    valid: { name: 'Hostile', date_time: '2027-05-01T19:30:00+02:00', total_tickets: 10, ticket_price: 5 },
    required: ['name', 'date_time', 'total_tickets', 'ticket_price'],
    fields: {
      name: fc.oneof(fc.constant(''), tooLong(201, 400), nonString),
      description: fc.oneof(tooLong(5001, 5200), nonString.filter((v) => typeof v !== 'string')),
      date_time: fc.oneof(badDate, pastDate),
      total_tickets: notAnIntegerIn(1, 1_000_000),
      ticket_price: badPrice,
      max_per_booking: fc.oneof(notAnIntegerIn(1, 100), fc.constant(null)),
      max_per_user: notAnIntegerIn(1, 1000).filter((v) => v !== null),
    },
  },
  updateEvent: {
    valid: { name: 'Renamed' },
    required: [],
    fields: {
      name: fc.oneof(fc.constant(''), tooLong(201, 400), nonString),
      description: fc.oneof(tooLong(5001, 5200), nonString.filter((v) => typeof v !== 'string')),
      date_time: badDate,
      total_tickets: notAnIntegerIn(1, 1_000_000),
      ticket_price: badPrice,
      max_per_booking: fc.oneof(notAnIntegerIn(1, 100), fc.constant(null)),
      max_per_user: notAnIntegerIn(1, 1000).filter((v) => v !== null),
    },
  },
  createBooking: {
    valid: { event_id: `${REF_PREFIX}open`, quantity: 1 },
    required: ['event_id', 'quantity'],
    fields: {
      event_id: fc.oneof(fc.constant(''), tooLong(129, 400), nonString),
      quantity: notAnIntegerIn(1, 100),
    },
  },
  pay: {
    valid: { payment_token: 'tok_visa' },
    required: ['payment_token'],
    fields: { payment_token: badToken },
  },
} as const;
type BodyName = keyof typeof BODIES;

const UNKNOWN_FIELDS = ['typo', 'id', 'status', 'user_id', 'amount', 'available_tickets', 'tickets_sold', 'version', 'pk', '__proto__', 'constructor', 'Name', 'api_key', 'role'];

/** A body for `name` that fails validation whatever else the request says. */
function invalidBody(name: BodyName): fc.Arbitrary<{ body: BodyRecipe; fault: string }> {
  const spec = BODIES[name];
  const fieldNames = Object.keys(spec.fields) as (keyof typeof spec.fields)[];
  const corrupt = fc
    .constantFrom(...fieldNames)
    .chain((field) =>
      (spec.fields[field] as fc.Arbitrary<unknown>).map((value) => ({
        body: { kind: 'json', value: { ...spec.valid, [field]: value } } as BodyRecipe,
        fault: `${String(field)} = ${brief(value, 80)}`,
      })),
    );
  const unknown = fc.tuple(fc.constantFrom(...UNKNOWN_FIELDS), fc.jsonValue({ maxDepth: 1 })).map(([field, value]) => ({
    body: { kind: 'text', text: `${JSON.stringify(spec.valid).slice(0, -1)},${JSON.stringify(field)}:${JSON.stringify(value) ?? 'null'}}` } as BodyRecipe,
    fault: `unknown field ${field}`,
  }));
  const missing =
    spec.required.length === 0
      ? unknown
      : fc.constantFrom(...spec.required).map((field) => {
          const value: Record<string, unknown> = { ...spec.valid };
          delete value[field];
          return { body: { kind: 'json', value } as BodyRecipe, fault: `missing ${field}` };
        });
  const wrongType = fc
    .oneof(
      // `false` and `0`: see 'a JSON body of false or 0' below.
      fc.jsonValue({ maxDepth: 2 }).filter((v) => (typeof v !== 'object' || v === null || Array.isArray(v)) && v !== false && v !== 0),
      fc.constant([spec.valid]),
    )
    .map((value) => ({ body: { kind: 'json', value } as BodyRecipe, fault: `a JSON ${Array.isArray(value) ? 'array' : typeof value}, not an object` }));
  const validText = JSON.stringify(spec.valid);
  const malformed = fc
    .oneof(
      fc.constantFrom(
        validText.slice(0, -1),
        `${validText.slice(0, -1)},}`,
        validText.replace(/"/g, "'"),
        `${validText}${validText}`,
        `${validText} trailing`,
        `\ufeff${validText}`,
        `/* comment */${validText}`,
        '{name: 1}',
        '{"a":NaN}',
        '{"a":undefined}',
        '{"a":1e999}',
        '{"quantity":1e999,"event_id":"@ref:open"}',
        '{"a":"\\x41"}',
        '{"a":"\\ud800"',
        '\u0000',
        '{',
        '[',
        '"',
        'undefined',
        '<xml/>',
        'event_id=1&quantity=2',
      ),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }).filter((s) => {
        try {
          JSON.parse(s);
          return false;
        } catch {
          return true;
        }
      }),
    )
    .map((text) => ({ body: { kind: 'text', text } as BodyRecipe, fault: `malformed JSON ${brief(text, 60)}` }));
  const deep = fc
    .tuple(fc.oneof(fc.constant(10_000), fc.integer({ min: 100, max: 10_000 })), fc.constantFrom<'array' | 'object'>('array', 'object'), fc.constantFrom(null, ...Object.keys(spec.fields)))
    .map(([depth, shape, at]) => ({ body: { kind: 'deep', depth, shape, at } as BodyRecipe, fault: `${depth} nested ${shape}s${at ? ` in ${at}` : ''}` }));
  const huge = fc
    .tuple(fc.integer({ min: MAX_BODY_BYTES + 1, max: 200_000 }), fc.constantFrom(...Object.keys(spec.fields)), fc.constantFrom('x', '😀', 'é', '\\u0000'))
    .map(([bytes, field, filler]) => ({ body: { kind: 'huge', bytes, field, filler } as BodyRecipe, fault: `a ${bytes}-byte body (over 64 KiB)` }));
  return fc.oneof(
    { weight: 6, arbitrary: corrupt },
    { weight: 1, arbitrary: unknown },
    { weight: 1, arbitrary: missing },
    { weight: 1, arbitrary: wrongType },
    { weight: 2, arbitrary: malformed },
    { weight: 1, arbitrary: deep },
    { weight: 1, arbitrary: huge },
    { weight: 1, arbitrary: fc.constant({ body: { kind: 'empty' } as BodyRecipe, fault: 'no body' }) },
  );
}

const validBody = (name: BodyName): BodyRecipe => ({ kind: 'json', value: BODIES[name].valid });

/**
 * Content-Types that are not JSON (a body sent with one is a 415). Only
 * well-formed media types: hapi, inside serverless-offline, answers a malformed
 * one (`json`, `application/ json`, non-ASCII) with its own 400 before the
 * function runs, where API Gateway would pass it on.
 */
const MEDIA_TYPE = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+\/[A-Za-z0-9!#$%&'*+.^_`|~-]+([ \t;][^\r\n]*)?$/;
const token = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&\'*+.^_`|~-'.split('')), minLength: 1, maxLength: 15 });
const badContentType = fc
  .oneof(
    fc.constantFrom(
      'text/plain',
      'text/json',
      'text/html; charset=utf-8',
      'application/xml',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=xyz',
      'application/octet-stream',
      'application/jsonx',
      'application/json5',
      'application/x-json',
      'application/javascript',
      '*/*',
      'application/*',
      'image/png',
      'text/plain; charset=utf-8; note="application/json"',
    ),
    fc.tuple(token, token).map(([type, subtype]) => `${type}/${subtype}`),
    wildText.map((parameter) => `text/plain; charset=${parameter}`),
  )
  .filter((contentType) => {
    const wire = onTheWire(contentType);
    return MEDIA_TYPE.test(wire) && !/json/i.test(wire.split(/[ \t;]/)[0]!);
  });

/**
 * Idempotency-Keys that are not 1..255 visible ASCII characters (API.md), as the
 * server reads them: HTTP strips the spaces and tabs around a header value.
 */
const badIdempotencyKey = fc
  .oneof(
    fc.constantFrom('', ' ', 'a b', 'a\tb', 'clé', '😀', 'k'.repeat(256), 'k'.repeat(1000)),
    fc.string({ unit: 'grapheme-ascii', minLength: 256, maxLength: 600 }),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
  )
  .filter((key) => !/^[\x21-\x7e]{1,255}$/.test(onTheWire(key).replace(/^[ \t]+|[ \t]+$/g, '')));
/** A valid Idempotency-Key, unique per request (a reused one would be a replay). */
let keyCounter = 0;
const freshIdempotencyKey = fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 40 }).map((s) => `${s.replace(/[^\x21-\x7e]/g, '_')}.${Date.now()}.${keyCounter++}`);

const badAuthorization = fc
  .oneof(
    fc.constantFrom(
      '',
      'Bearer',
      'Bearer ',
      'Basic YWRtaW46YWRtaW4=',
      'Token abc',
      'Bearer null',
      'Bearer undefined',
      'Bearer tbk_',
      'Bearer adm_',
      'Bearer @admin-typo',
      'Bearer @admin-prefix',
      'Bearer @admin-suffix',
      'Bearer @a-typo',
      'Bearer @a-suffix',
      'Bearer @a-upper',
      '@admin-typo',
      'Bearer\t@a-typo',
      'Bearer Bearer @a-typo',
    ),
    wildText.map((s) => `Bearer ${s}`),
    fc.string({ unit: 'grapheme-ascii', minLength: 513, maxLength: 3000 }).map((s) => `Bearer ${s}`),
  )
  .map((authorization) => ({ authorization }));

/** Ids that name nothing: long, unicode, NUL, slashes, other kinds of id, injection. */
const hostileId = fc
  .oneof(
    wildText,
    tooLong(129, 5000),
    fc.constantFrom(UNKNOWN_ID, 'a/b', '%', 'a%2Fb', 'x'.repeat(128), '😀'.repeat(64), ' ', '\u0000'.repeat(3), 'EVENT#', '*'),
    fc.uuid(),
  )
  .filter((s) => {
    const encoded = encodeURIComponent(wellFormed(s));
    // '', '.' and '..' are not ids but path navigation: see the test of those below.
    return encoded !== '' && encoded !== '.' && encoded !== '..';
  })
  .map((raw) => ({ raw }) as IdRecipe);

const junkQuery = fc.array(fc.tuple(fc.constantFrom('x', 'limit', 'cursor', 'status', 'event_id', '__proto__', 'q'), wildText), { maxLength: 3 });
const junkHeaders = fc.array(fc.tuple(fc.constantFrom('x-forwarded-for', 'x-request-id', 'accept', 'accept-encoding', 'x-amzn-trace-id', 'user-agent'), wildText), {
  maxLength: 2,
});

const anyCaller: fc.Arbitrary<CallerRecipe> = fc.oneof(fc.constantFrom<CallerRecipe>('none', 'admin', 'a', 'b'), badAuthorization);
const refusedCaller = (roles: ('admin' | 'a' | 'b')[]): fc.Arbitrary<CallerRecipe> =>
  roles.length === 0 ? fc.oneof(fc.constant<CallerRecipe>('none'), badAuthorization) : fc.oneof(fc.constant<CallerRecipe>('none'), badAuthorization, fc.constantFrom(...roles));

// ---------------------------------------------------------------------------

describe('bad input to every route: a 4xx problem, and nothing stored', () => {
  it(
    'refuses every malformed, oversized, deep or wrongly typed body, sent by the right caller to a real resource',
    async () => {
      const bodyRoutes = fc.oneof(
        fc.tuple(invalidBody('createUser'), anyCaller).map(([b, caller]): Recipe => ({ method: 'POST', route: '/users', caller, ...b, mustRefuse: true })),
        invalidBody('createEvent').map((b): Recipe => ({ method: 'POST', route: '/events', caller: 'admin', ...b, mustRefuse: true })),
        fc
          .tuple(invalidBody('updateEvent'), fc.constantFrom<RefName>('open', 'soldOut', 'started'))
          .map(([b, ref]): Recipe => ({ method: 'PATCH', route: '/events/{id}', caller: 'admin', id: { ref }, ...b, mustRefuse: true })),
        fc
          .tuple(invalidBody('createBooking'), fc.constantFrom<CallerRecipe>('a', 'b'), fc.option(freshIdempotencyKey, { nil: undefined }))
          .map(([b, caller, idempotencyKey]): Recipe => ({ method: 'POST', route: '/bookings', caller, ...b, idempotencyKey, mustRefuse: true })),
        fc
          .tuple(invalidBody('pay'), fc.option(freshIdempotencyKey, { nil: undefined }))
          .map(([b, idempotencyKey]): Recipe => ({
            method: 'POST',
            route: '/bookings/{id}/payment',
            caller: 'a',
            id: { ref: 'aPending' },
            ...b,
            idempotencyKey,
            mustRefuse: true,
          })),
      );
      await harness.runProperty(bodyRoutes);
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'refuses odd Content-Types and invalid Idempotency-Keys on otherwise valid requests',
    async () => {
      const withBadContentType = fc.oneof(
        fc.constant<[string, string, CallerRecipe, IdRecipe | undefined, BodyName]>(['POST', '/users', 'none', undefined, 'createUser']),
        fc.constant<[string, string, CallerRecipe, IdRecipe | undefined, BodyName]>(['POST', '/events', 'admin', undefined, 'createEvent']),
        fc.constant<[string, string, CallerRecipe, IdRecipe | undefined, BodyName]>(['PATCH', '/events/{id}', 'admin', { ref: 'open' }, 'updateEvent']),
        fc.constant<[string, string, CallerRecipe, IdRecipe | undefined, BodyName]>(['POST', '/bookings', 'a', undefined, 'createBooking']),
        fc.constant<[string, string, CallerRecipe, IdRecipe | undefined, BodyName]>(['POST', '/bookings/{id}/payment', 'a', { ref: 'aPending' }, 'pay']),
      );
      const contentTypes = fc
        .tuple(withBadContentType, badContentType, junkHeaders)
        .map(([[method, route, caller, id, body], contentType, extraHeaders]): Recipe => ({
          method: method as Recipe['method'],
          route,
          caller,
          id,
          body: validBody(body),
          contentType,
          extraHeaders,
          mustRefuse: true,
          fault: `Content-Type ${JSON.stringify(contentType)}`,
        }));
      const idempotencyKeys = fc
        .tuple(fc.boolean(), badIdempotencyKey, junkHeaders)
        .map(([payment, idempotencyKey, extraHeaders]): Recipe => ({
          method: 'POST',
          route: payment ? '/bookings/{id}/payment' : '/bookings',
          caller: 'a',
          id: payment ? { ref: 'aPending' } : undefined,
          body: validBody(payment ? 'pay' : 'createBooking'),
          idempotencyKey,
          extraHeaders,
          mustRefuse: true,
          fault: `Idempotency-Key ${brief(idempotencyKey, 60)}`,
        }));
      await harness.runProperty(fc.oneof(contentTypes, idempotencyKeys));
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'refuses every route that needs a key when the key is missing, malformed, unknown or of the wrong role',
    async () => {
      const routes: [Recipe['method'], string, ('admin' | 'a' | 'b')[], IdRecipe | undefined, BodyName | undefined][] = [
        ['GET', '/users/me', ['admin'], undefined, undefined],
        ['POST', '/events', ['a', 'b'], undefined, 'createEvent'],
        ['PATCH', '/events/{id}', ['a', 'b'], { ref: 'open' }, 'updateEvent'],
        ['DELETE', '/events/{id}', ['a', 'b'], { ref: 'soldOut' }, undefined],
        ['GET', '/events/{id}/stats', ['a', 'b'], { ref: 'open' }, undefined],
        ['POST', '/bookings', ['admin'], undefined, 'createBooking'],
        ['GET', '/bookings', [], undefined, undefined],
        ['GET', '/bookings/{id}', ['b'], { ref: 'aPending' }, undefined],
        ['POST', '/bookings/{id}/payment', ['admin', 'b'], { ref: 'aPending' }, 'pay'],
        ['POST', '/bookings/{id}/cancel', ['b'], { ref: 'aPending' }, undefined],
      ];
      const arbitrary = fc
        .tuple(fc.constantFrom(...routes), junkHeaders)
        .chain(([[method, route, refusedRoles, id, body], extraHeaders]) =>
          fc.tuple(refusedCaller(refusedRoles), fc.option(freshIdempotencyKey, { nil: undefined })).map(
            ([caller, idempotencyKey]): Recipe => ({
              method,
              route,
              caller,
              id,
              body: body ? validBody(body) : undefined,
              // B is refused A's booking deep in the use case (404); with a key, that is
              // the case of 'sent with a fresh Idempotency-Key' below.
              idempotencyKey: caller === 'b' ? undefined : idempotencyKey,
              extraHeaders,
              mustRefuse: true,
              fault: `caller ${typeof caller === 'string' ? caller : brief(caller.authorization, 60)} on ${method} ${route}`,
            }),
          ),
        );
      await harness.runProperty(arbitrary);
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'refuses ids that name nothing, or nothing of the caller: very long, unicode, NUL, slashes, injection, another user\u2019s',
    async () => {
      const idRoutes: [Recipe['method'], string, CallerRecipe[], BodyName | undefined][] = [
        ['GET', '/events/{id}', ['none', 'a', 'admin'], undefined],
        ['PATCH', '/events/{id}', ['admin'], 'updateEvent'],
        ['DELETE', '/events/{id}', ['admin'], undefined],
        ['GET', '/events/{id}/stats', ['admin'], undefined],
        ['GET', '/bookings/{id}', ['a', 'b', 'admin'], undefined],
        ['POST', '/bookings/{id}/payment', ['a', 'b'], 'pay'],
        ['POST', '/bookings/{id}/cancel', ['a', 'b', 'admin'], undefined],
      ];
      const hostile = fc.tuple(fc.constantFrom(...idRoutes), hostileId, junkQuery).chain(([[method, route, callers, body], id, query]) =>
        fc.constantFrom(...callers).map(
          (caller): Recipe => ({
            method,
            route,
            caller,
            id,
            query,
            body: body ? validBody(body) : undefined,
            mustRefuse: true,
            fault: `id ${brief((id as { raw: string }).raw, 80)}`,
          }),
        ),
      );
      // Real ids in the wrong place: another user's booking, a booking id where an event id goes, and back.
      const misplaced = fc.constantFrom<Recipe>(
        { method: 'GET', route: '/bookings/{id}', caller: 'b', id: { ref: 'aPending' }, mustRefuse: true, fault: "B reads A's booking" },
        { method: 'POST', route: '/bookings/{id}/cancel', caller: 'b', id: { ref: 'aConfirmed' }, mustRefuse: true, fault: "B cancels A's booking" },
        { method: 'POST', route: '/bookings/{id}/payment', caller: 'b', id: { ref: 'aPending' }, body: validBody('pay'), mustRefuse: true, fault: "B pays A's booking" },
        { method: 'GET', route: '/bookings/{id}', caller: 'a', id: { ref: 'bPending' }, mustRefuse: true, fault: "A reads B's booking" },
        { method: 'GET', route: '/events/{id}', caller: 'none', id: { ref: 'aPending' }, mustRefuse: true, fault: 'a booking id as an event id' },
        { method: 'GET', route: '/events/{id}/stats', caller: 'admin', id: { ref: 'bPending' }, mustRefuse: true, fault: 'a booking id as an event id' },
        { method: 'DELETE', route: '/events/{id}', caller: 'admin', id: { ref: 'aPending' }, mustRefuse: true, fault: 'a booking id as an event id' },
        { method: 'GET', route: '/bookings/{id}', caller: 'admin', id: { ref: 'open' }, mustRefuse: true, fault: 'an event id as a booking id' },
        { method: 'POST', route: '/bookings/{id}/cancel', caller: 'a', id: { ref: 'open' }, mustRefuse: true, fault: 'an event id as a booking id' },
      );
      await harness.runProperty(fc.oneof({ weight: 5, arbitrary: hostile }, { weight: 1, arbitrary: misplaced }));
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'answers bad list queries (limit, cursor, status, event_id, duplicated parameters) with a 4xx, and forged cursors never with a 5xx',
    async () => {
      const b64 = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
      const badLimit = fc.oneof(
        fc.constantFrom('0', '-1', '101', '1000', '1.5', 'abc', '', ' ', 'Infinity', 'NaN', '١٠', '10abc', '10 20', '-0', '100.5', '1e3', '1e-3', '9'.repeat(400)),
        fc.integer({ min: 101 }).map(String),
        fc.integer({ max: 0 }).map(String),
      );
      const badCursor = fc.oneof(
        fc.constantFrom('', 'eyJ9', 'null', 'W10', b64(null), b64([]), b64('s'), b64({}), b64({ s: 1 }), b64({ d: 'x' }), b64({ i: 'x' }), b64({ d: '', i: '' })),
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }),
        fc
          .jsonValue({ maxDepth: 2 })
          .filter((v) => !(v && typeof v === 'object' && !Array.isArray(v) && ['d,i', 'i', 'd', 's'].includes(Object.keys(v).sort().join(','))))
          .map(b64),
        fc.string({ unit: 'grapheme-ascii', minLength: 2049, maxLength: 3000 }),
        fc.tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 })).map(([d, i]) => b64({ d, i, extra: 1 })),
        fc.string({ maxLength: 20 }).map((s) => b64({ s: `${s}`, extra: true })),
      );
      const badStatus = fc.oneof(fc.constantFrom('pending', 'DELETED', '', ' PENDING', 'PENDING\u0000', 'CONFIRMED ', 'ALL', '*'), wildText.filter((s) => !['PENDING', 'CONFIRMED', 'CANCELLED'].includes(s)));
      const bookingCallers: CallerRecipe[] = ['a', 'b', 'admin'];
      const refused = fc.oneof(
        fc.tuple(badLimit, fc.constantFrom<CallerRecipe>('none', 'a', 'admin')).map(([limit, caller]): Recipe => ({
          method: 'GET', route: '/events', caller, query: [['limit', limit]], mustRefuse: true, fault: `limit=${brief(limit, 40)}`,
        })),
        fc.tuple(badLimit, fc.constantFrom(...bookingCallers)).map(([limit, caller]): Recipe => ({
          method: 'GET', route: '/bookings', caller, query: [['limit', limit]], mustRefuse: true, fault: `limit=${brief(limit, 40)}`,
        })),
        fc.tuple(badCursor, fc.constantFrom('/events', '/bookings'), fc.constantFrom(...bookingCallers)).map(([cursor, route, caller]): Recipe => ({
          method: 'GET', route, caller, query: [['cursor', cursor]], mustRefuse: true, fault: `cursor=${brief(cursor, 60)}`,
        })),
        fc.tuple(badStatus, fc.constantFrom(...bookingCallers)).map(([status, caller]): Recipe => ({
          method: 'GET', route: '/bookings', caller, query: [['status', status]], mustRefuse: true, fault: `status=${brief(status, 40)}`,
        })),
        fc.tuple(fc.oneof(fc.constant(''), tooLong(129, 600)), fc.constantFrom(...bookingCallers)).map(([eventId, caller]): Recipe => ({
          method: 'GET', route: '/bookings', caller, query: [['event_id', eventId]], mustRefuse: true, fault: `event_id of ${eventId.length} chars`,
        })),
        fc
          .tuple(fc.constantFrom('limit', 'status'), fc.constantFrom('/events', '/bookings'), fc.constantFrom<CallerRecipe>('a', 'admin'))
          .filter(([param, route]) => !(param === 'status' && route === '/events'))
          .map(([param, route, caller]): Recipe => ({
            method: 'GET',
            route,
            caller,
            query: param === 'limit' ? [['limit', '10'], ['limit', '20']] : [['status', 'PENDING'], ['status', 'CANCELLED']],
            mustRefuse: true,
            fault: `${param} given twice`,
          })),
        fc.tuple(fc.constantFrom<CallerRecipe>('none', { authorization: 'Bearer @a-typo' }), fc.constantFrom<[string, string][]>([], [['limit', '5']])).map(([caller, query]): Recipe => ({
          method: 'GET', route: '/bookings', caller, query, mustRefuse: true, fault: 'no valid key',
        })),
      );
      // Well-formed but forged cursors and filters that match nothing: a page or a 4xx, never a 5xx, nothing stored.
      const forged = fc.oneof(
        fc.tuple(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 64 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 128 })).map(([d, i]): Recipe => ({
          method: 'GET', route: '/events', caller: 'none', query: [['cursor', b64({ d, i })]], mustRefuse: false, fault: `forged events cursor d=${brief(d, 40)} i=${brief(i, 40)}`,
        })),
        fc
          .tuple(fc.integer({ min: 1, max: 1500 }), fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 128 }), fc.constantFrom(...bookingCallers), fc.constantFrom<RefName | null>(null, 'open'))
          .map(([digits, id, caller, event]): Recipe => {
            const s = `2027-01-01T${'1'.repeat(digits)}Z#${id.replace(/[\r\n]/g, '_')}`;
            return {
              method: 'GET',
              route: '/bookings',
              caller,
              query: [['cursor', b64({ s })], ...(event && caller === 'admin' ? ([['event_id', `${REF_PREFIX}${event}`]] as [string, string][]) : [])],
              mustRefuse: false,
              fault: `forged bookings cursor whose position is ${s.length} chars`,
            };
          }),
        fc.tuple(wildText.filter((s) => s.length > 0 && s.length <= 128), fc.constantFrom(...bookingCallers)).map(([eventId, caller]): Recipe => ({
          method: 'GET', route: '/bookings', caller, query: [['event_id', eventId]], mustRefuse: false, fault: `event_id=${brief(eventId, 40)}`,
        })),
        fc.tuple(fc.constantFrom('/health', '/openapi.json', '/events'), junkQuery, anyCaller, junkHeaders).map(([route, query, caller, extraHeaders]): Recipe => ({
          method: 'GET', route, caller, query: query.filter(([k]) => route !== '/events' || (k !== 'limit' && k !== 'cursor')), extraHeaders, mustRefuse: false, fault: 'junk query on a route that takes none',
        })),
      );
      await harness.runProperty(fc.oneof({ weight: 4, arbitrary: refused }, { weight: 1, arbitrary: forged }));
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'refuses valid-looking requests that the rules refuse (no key): nothing stored',
    async () => {
      await harness.runProperty(deepRefusal(fc.constant(undefined)));
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'refuses valid-looking requests that the rules refuse, sent with a fresh Idempotency-Key: nothing stored',
    async () => {
      await harness.runProperty(deepRefusal(freshIdempotencyKey));
    },
    PROPERTY_TIMEOUT,
  );
});

/**
 * Requests with nothing malformed that the rules refuse deep in the use cases:
 * an unknown event, a quantity over max_per_booking or over max_per_user, a
 * sold-out or started event, paying or cancelling what is not payable or not the
 * caller's, a declined card.
 */
function deepRefusal(idempotencyKey: fc.Arbitrary<string | undefined>): fc.Arbitrary<Recipe> {
  const booking = (value: Record<string, unknown>, caller: CallerRecipe, fault: string) =>
    idempotencyKey.map((key): Recipe => ({ method: 'POST', route: '/bookings', caller, body: { kind: 'json', value }, idempotencyKey: key, mustRefuse: true, fault }));
  const payment = (ref: RefName, caller: CallerRecipe, token: string, fault: string) =>
    idempotencyKey.map((key): Recipe => ({
      method: 'POST',
      route: '/bookings/{id}/payment',
      caller,
      id: { ref },
      body: { kind: 'json', value: { payment_token: token } },
      idempotencyKey: key,
      mustRefuse: true,
      fault,
    }));
  return fc.oneof(
    fc.tuple(wildText.filter((s) => s.length > 0 && s.length <= 128), fc.integer({ min: 1, max: 4 })).chain(([eventId, quantity]) =>
      booking({ event_id: eventId, quantity }, 'a', `book unknown event ${brief(eventId, 40)}`),
    ),
    fc.uuid().chain((eventId) => booking({ event_id: eventId, quantity: 1 }, 'b', 'book an unknown event (uuid)')),
    fc.integer({ min: 5, max: 100 }).chain((quantity) => booking({ event_id: `${REF_PREFIX}open`, quantity }, 'a', `quantity ${quantity} over max_per_booking 4`)),
    booking({ event_id: `${REF_PREFIX}open`, quantity: 4 }, 'a', 'A holds 3 of max_per_user 6 and asks 4 more'),
    fc.integer({ min: 1, max: 10 }).chain((quantity) => booking({ event_id: `${REF_PREFIX}soldOut`, quantity }, 'a', `quantity ${quantity} of a sold-out event`)),
    fc.integer({ min: 1, max: 10 }).chain((quantity) => booking({ event_id: `${REF_PREFIX}started`, quantity }, 'b', 'an event that has started')),
    payment('aConfirmed', 'a', 'tok_visa', 'pay a CONFIRMED booking'),
    payment('aCancelled', 'a', 'tok_visa', 'pay a CANCELLED booking'),
    payment('bPending', 'a', 'tok_visa', "pay B's booking"),
    payment('aPending', 'b', 'tok_mastercard', "B pays A's booking"),
    payment('aPending', 'a', 'tok_declined', 'a declined card'),
    fc.constantFrom<Recipe>(
      { method: 'POST', route: '/bookings/{id}/cancel', caller: 'a', id: { ref: 'aCancelled' }, mustRefuse: true, fault: 'cancel a CANCELLED booking' },
      { method: 'POST', route: '/bookings/{id}/cancel', caller: 'admin', id: { ref: 'aCancelled' }, mustRefuse: true, fault: 'the admin cancels a CANCELLED booking' },
      { method: 'PATCH', route: '/events/{id}', caller: 'admin', id: { ref: 'open' }, body: { kind: 'json', value: { total_tickets: 3 } }, mustRefuse: true, fault: 'total_tickets below the 4 sold or held' },
      { method: 'DELETE', route: '/events/{id}', caller: 'admin', id: { ref: 'open' }, mustRefuse: true, fault: 'delete an event with bookings' },
      { method: 'POST', route: '/users', caller: 'none', body: { kind: 'json', value: { name: 'Again', email: `${REF_PREFIX}aEmail` } }, mustRefuse: true, fault: 'an email that is taken' },
    ),
  );
}

// ---------------------------------------------------------------------------
// Cases that are not random: each names one kind of input and what it must get.

describe('bad input, case by case', () => {
  /** One request, checked like the properties check theirs; the failure message says what came back. */
  const refused = (recipe: Omit<Recipe, 'mustRefuse'>, request?: RawRequest) => harness.refused(recipe, request);

  /** Every route that takes a body, with a caller allowed to call it and a real resource. */
  const BODY_ROUTES: [Recipe['method'], string, CallerRecipe, IdRecipe | undefined][] = [
    ['POST', '/users', 'none', undefined],
    ['POST', '/events', 'admin', undefined],
    ['PATCH', '/events/{id}', 'admin', { ref: 'open' }],
    ['POST', '/bookings', 'a', undefined],
    ['POST', '/bookings/{id}/payment', 'a', { ref: 'aPending' }],
  ];

  it('answers a 413 problem to a 200 KB body on every route that takes one, and stores nothing', async () => {
    for (const [method, route, caller, id] of BODY_ROUTES) {
      const response = await refused({ method, route, caller, id, body: { kind: 'huge', bytes: 200_000, field: 'name', filler: 'x' }, fault: '200 KB body' });
      expect({ route, status: response.status, type: response.body?.type }).toEqual({ route, status: 413, type: expect.stringMatching(/\/problems\/payload-too-large$/) });
    }
  });

  it('answers a JSON body of false or 0 with a 4xx problem on every body route', async () => {
    const outcomes: string[] = [];
    for (const [method, route, caller, id] of BODY_ROUTES) {
      for (const text of ['false', '0', '0.0', '-0']) {
        try {
          await refused({ method, route, caller, id, body: { kind: 'text', text }, fault: `the JSON body ${text}` });
        } catch (error) {
          outcomes.push((error as Error).message.split('\n').slice(0, 4).join(' | '));
        }
      }
    }
    expect(outcomes).toEqual([]);
  });

  it('answers 10,000 nested arrays with a 4xx problem on every body route', async () => {
    for (const [method, route, caller, id] of BODY_ROUTES) {
      for (const at of [null, 'name']) {
        await refused({ method, route, caller, id, body: { kind: 'deep', depth: 10_000, shape: 'array', at }, fault: '10,000 nested arrays' });
      }
    }
  });

  it('refuses 2027-02-30, a date without an offset and an event in year 0 (422 naming date_time)', async () => {
    for (const date_time of ['2027-02-30T10:00:00Z', '2027-05-01T10:00:00', '0000-01-01T00:00:00Z']) {
      const response = await refused({
        method: 'POST',
        route: '/events',
        caller: 'admin',
        body: { kind: 'json', value: { ...BODIES.createEvent.valid, date_time } },
        fault: `date_time ${date_time}`,
      });
      expect({ date_time, status: response.status, errors: response.body?.errors }).toEqual({
        date_time,
        status: 422,
        errors: expect.arrayContaining([expect.objectContaining({ path: 'date_time' })]),
      });
    }
  });

  it('refuses negative prices, three-decimal prices and float quantities (422 naming the field)', async () => {
    const cases: [Recipe['method'], string, CallerRecipe, IdRecipe | undefined, Record<string, unknown>, string][] = [
      ['POST', '/events', 'admin', undefined, { ...BODIES.createEvent.valid, ticket_price: -5 }, 'ticket_price'],
      ['POST', '/events', 'admin', undefined, { ...BODIES.createEvent.valid, ticket_price: 1.005 }, 'ticket_price'],
      ['POST', '/events', 'admin', undefined, { ...BODIES.createEvent.valid, ticket_price: '9.999' }, 'ticket_price'],
      ['PATCH', '/events/{id}', 'admin', { ref: 'open' }, { ticket_price: -0.01 }, 'ticket_price'],
      ['PATCH', '/events/{id}', 'admin', { ref: 'open' }, { ticket_price: 0.125 }, 'ticket_price'],
      ['POST', '/bookings', 'a', undefined, { event_id: `${REF_PREFIX}open`, quantity: 1.5 }, 'quantity'],
      ['POST', '/bookings', 'a', undefined, { event_id: `${REF_PREFIX}open`, quantity: 1e308 }, 'quantity'],
    ];
    for (const [method, route, caller, id, value, field] of cases) {
      const response = await refused({ method, route, caller, id, body: { kind: 'json', value }, fault: `${field} ${JSON.stringify(value[field])}` });
      expect({ field, status: response.status, errors: response.body?.errors }).toEqual({
        field,
        status: 422,
        errors: expect.arrayContaining([expect.objectContaining({ path: field })]),
      });
    }
  });

  it('refuses text fields that hold a lone surrogate, which is not Unicode text (RFC 7493) and cannot be stored as UTF-8', async () => {
    const lone = 'Bad \ud800 name';
    const cases: [Recipe['method'], string, CallerRecipe, IdRecipe | undefined, Record<string, unknown>][] = [
      ['POST', '/users', 'none', undefined, { name: lone, email: `lone.${Date.now()}@example.org` }],
      ['POST', '/events', 'admin', undefined, { ...BODIES.createEvent.valid, name: lone }],
      ['POST', '/events', 'admin', undefined, { ...BODIES.createEvent.valid, description: lone }],
      ['PATCH', '/events/{id}', 'admin', { ref: 'open' }, { name: lone }],
      ['PATCH', '/events/{id}', 'admin', { ref: 'open' }, { description: 'x\udc00' }],
    ];
    const outcomes: string[] = [];
    for (const [method, route, caller, id, value] of cases) {
      try {
        await refused({ method, route, caller, id, body: { kind: 'json', value }, fault: 'a lone surrogate in a text field' });
      } catch (error) {
        outcomes.push((error as Error).message);
      }
    }
    expect(outcomes).toEqual([]);
  });

  it('answers an id that is path navigation (.., %2e%2e) with a 404 problem, on every route with an id', async () => {
    const routes: [Recipe['method'], string, CallerRecipe, BodyName | undefined][] = [
      ['GET', '/events/{id}', 'none', undefined],
      ['PATCH', '/events/{id}', 'admin', 'updateEvent'],
      ['DELETE', '/events/{id}', 'admin', undefined],
      ['GET', '/events/{id}/stats', 'admin', undefined],
      ['GET', '/bookings/{id}', 'a', undefined],
      ['POST', '/bookings/{id}/payment', 'a', 'pay'],
      ['POST', '/bookings/{id}/cancel', 'a', undefined],
    ];
    const outcomes: string[] = [];
    for (const [method, route, caller, body] of routes) {
      for (const raw of ['..', '%2e%2e', '%2E.']) {
        const recipe = { method, route, caller, body: body ? validBody(body) : undefined, fault: `id ${raw}` };
        // Sent as written, not encoded again.
        const request = harness.build({ ...recipe, mustRefuse: true });
        request.path = route.replace('{id}', raw);
        try {
          await refused(recipe, request);
        } catch (error) {
          outcomes.push((error as Error).message);
        }
      }
    }
    expect(outcomes).toEqual([]);
  });

  it('accepts only decimal integers as limit: 1e2, 0x10, +5, " 5" and 5.0 are a 422', async () => {
    const outcomes: string[] = [];
    for (const route of ['/events', '/bookings']) {
      for (const limit of ['1e2', '0x10', '0b11', '+5', ' 5', '5.0', '5 ']) {
        try {
          await refused({ method: 'GET', route, caller: 'a', query: [['limit', limit]], fault: `limit=${JSON.stringify(limit)}` });
        } catch (error) {
          outcomes.push((error as Error).message.split('\n').slice(0, 3).join(' | '));
        }
      }
    }
    expect(outcomes).toEqual([]);
  });

  it('answers an RFC 3339 date at the edge of year 9999 (offset -23:59) in RFC 3339, or refuses it', async () => {
    const before = await table.snapshot();
    const request = harness.build({
      method: 'POST',
      route: '/events',
      caller: 'admin',
      body: { kind: 'json', value: { ...BODIES.createEvent.valid, date_time: '9999-12-31T23:59:59-23:59' } },
      mustRefuse: false,
      fault: '',
    });
    const response = await send(base, request);
    // The contract leaves the choice to the API; either answer has its own obligations.
    if (response.status === 201) {
      // Accepted: it may create the event, but must answer in the contract's format.
      expect(response.body.date_time).toMatch(UTC_TIMESTAMP);
    } else {
      // Refused: a 4xx problem, and nothing stored.
      expect(notA4xxProblem(response)).toBeUndefined();
      expect(snapshotDiff(before, await table.snapshot())).toEqual([]);
    }
  });
});

describe('the log after all of the above', () => {
  it('holds no key: not the admin key, not the keys of A and B, nor any of them but its last character', async () => {
    const log = await logSoFar(stack);
    // The requests since the fixtures were logged: the absence of a key below is not the absence of the log.
    expect(accessLog(log)).toContain('POST /bookings/{id}/cancel 200');
    const secrets: [string, string][] = [
      ['the admin key', world.admin],
      ["A's key", world.a.key],
      ["B's key", world.b.key],
    ];
    const found = secrets.flatMap(([name, key]) => [key, key.slice(0, -1)].filter((s) => log.includes(s)).map(() => name));
    expect(found).toEqual([]);
  });
});

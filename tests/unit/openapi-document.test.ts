import Ajv2020 from 'ajv/dist/2020';
import fc from 'fast-check';
import { parsePriceToCents } from '../../lib/domain/money';
import { buildOpenApiDocument, TAGS } from '../../lib/http/openapi';
import type { RouteSpec } from '../../lib/http/route';
import { routes } from '../../lib/http/routes';

type Json = Record<string, any>;

const document = JSON.parse(JSON.stringify(buildOpenApiDocument())) as Json;
const registry = Object.values(routes) as RouteSpec[];

const operationOf = (route: RouteSpec): Json => document.paths[route.path][route.method];

/** A response object, through its $ref when it is a shared component. */
function resolved(response: Json): Json {
  const ref: unknown = response.$ref;
  if (typeof ref !== 'string') return response;
  const name = ref.replace('#/components/responses/', '');
  return document.components.responses[name];
}

/** What the operation answers: every documented status. */
const statusesOf = (route: RouteSpec) => Object.keys(operationOf(route).responses).map(Number);

/**
 * The statuses each operation can really answer, written out by hand from what
 * lib/http/handler.ts and each use case do, so that a change to the generator that
 * drops or invents one is caught here.
 */
const EXPECTED_STATUSES: Record<string, number[]> = {
  health: [200, 429, 500],
  openapi: [200, 429, 500],
  createUser: [201, 400, 409, 413, 415, 422, 429, 500, 503],
  getMe: [200, 401, 403, 404, 429, 500, 503],
  createEvent: [201, 400, 401, 403, 413, 415, 422, 429, 500, 503],
  listEvents: [200, 422, 429, 500, 503],
  getEvent: [200, 404, 429, 500, 503],
  updateEvent: [200, 400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 503],
  deleteEvent: [204, 401, 403, 404, 409, 429, 500, 503],
  getEventStats: [200, 401, 403, 404, 429, 500, 503],
  createBooking: [201, 400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 503],
  listBookings: [200, 401, 422, 429, 500, 503],
  getBooking: [200, 401, 404, 429, 500, 503],
  cancelBooking: [200, 401, 404, 409, 429, 500, 503],
  payBooking: [200, 400, 401, 402, 403, 404, 409, 413, 415, 422, 429, 500, 502, 503],
};

describe('the OpenAPI document: operations', () => {
  it('gives every operation a unique operationId, a summary, a description and a declared tag', () => {
    const declared = new Map(document.tags.map((t: Json) => [t.name, t.description]));
    const ids = registry.map((r) => operationOf(r).operationId);
    expect(new Set(ids).size).toBe(registry.length);
    for (const route of registry) {
      const operation = operationOf(route);
      expect({ route: route.operationId, id: operation.operationId, summary: typeof operation.summary, description: typeof operation.description }).toEqual({
        route: route.operationId,
        id: route.operationId,
        summary: 'string',
        description: 'string',
      });
      expect(operation.tags).toHaveLength(1);
      expect(declared.get(operation.tags[0])).toEqual(expect.any(String));
    }
    expect(document.tags.map((t: Json) => t.name).sort()).toEqual([...TAGS.map((t) => t.name)].sort());
  });

  it('states each operation’s security: none on public routes, the bearer key on every other', () => {
    for (const route of registry) {
      expect({ route: route.operationId, security: operationOf(route).security }).toEqual({
        route: route.operationId,
        security: route.access === 'public' ? [] : [{ apiKey: [] }],
      });
    }
    expect(document.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it.each(Object.entries(EXPECTED_STATUSES))('lists exactly the statuses %s can answer', (operationId, expected) => {
    const route = registry.find((r) => r.operationId === operationId);
    expect(route).toBeDefined();
    expect(statusesOf(route!).sort((a, b) => a - b)).toEqual(expected);
  });

  it('answers 401 and 503 exactly where a key is checked, 403 exactly where one kind of caller is let in, 413 and 415 exactly where there is a body', () => {
    for (const route of registry) {
      const statuses = statusesOf(route);
      expect({ route: route.operationId, 401: statuses.includes(401), 403: statuses.includes(403), 413: statuses.includes(413), 415: statuses.includes(415) }).toEqual({
        route: route.operationId,
        401: route.access !== 'public',
        403: route.access === 'admin' || route.access === 'user',
        413: route.body !== undefined,
        415: route.body !== undefined,
      });
      if (route.access !== 'public') expect(statuses).toContain(503);
      expect(statuses).toEqual(expect.arrayContaining([429, 500]));
    }
  });

  it('declares Retry-After on every 503 and WWW-Authenticate on every 401', () => {
    let seen503 = 0;
    for (const route of registry) {
      const responses = operationOf(route).responses;
      if (responses['503']) {
        seen503++;
        expect(resolved(responses['503']).headers['Retry-After']).toMatchObject({ required: true, schema: { type: 'integer' } });
      }
      if (responses['401']) expect(resolved(responses['401']).headers['WWW-Authenticate']).toMatchObject({ required: true });
    }
    expect(seen503).toBeGreaterThan(0);
  });

  it('describes every error but the gateway’s 429 as application/problem+json with the Problem schema', () => {
    for (const route of registry) {
      for (const [status, response] of Object.entries(operationOf(route).responses as Json)) {
        if (Number(status) < 400 || status === '429') continue;
        expect({ route: route.operationId, status, content: resolved(response).content }).toEqual({
          route: route.operationId,
          status,
          content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
        });
      }
    }
  });

  it('documents the 429 as API Gateway’s own JSON answer, and says why it is not a problem', () => {
    const tooMany = document.components.responses.TooManyRequests;
    expect(tooMany.content).toEqual({ 'application/json': { schema: { $ref: '#/components/schemas/GatewayMessage' } } });
    expect(tooMany.description).toContain('{"message":"Too Many Requests"}');
    expect(tooMany.description).toMatch(/not a problem\+json/);
    expect(tooMany.description).toMatch(/HTTP APIs/);
  });

  it('names a Location on each 201 that creates an addressable resource, and Idempotent-Replayed where a key can replay', () => {
    for (const route of registry) {
      const success = operationOf(route).responses[String(route.success.status)];
      expect(Boolean(success.headers?.Location)).toBe(route.success.location === true);
      expect(Boolean(success.headers?.['Idempotent-Replayed'])).toBe(route.idempotent === true);
    }
  });
});

describe('the OpenAPI document: top level', () => {
  it('has servers, a license and tags with descriptions', () => {
    expect(document.servers.length).toBeGreaterThan(0);
    for (const server of document.servers) expect(server.url).toMatch(/^https?:\/\//);
    expect(document.info.license).toEqual({ name: 'MIT', identifier: 'MIT' });
    for (const tag of document.tags) expect(tag.description.length).toBeGreaterThan(10);
  });
});

describe('the OpenAPI document: schemas', () => {
  // multipleOfPrecision makes Ajv's multipleOf decimal, as JSON Schema means it.
  // Without it Ajv (and so Prism) divides in binary floating point and refuses
  // 19.99 against multipleOf 0.01, which the price's description warns about.
  const ajv = new Ajv2020({ strict: false, validateFormats: false, multipleOfPrecision: 6 });
  ajv.addSchema(document, 'openapi');
  const validator = (name: string) => ajv.getSchema(`openapi#/components/schemas/${name}`)!;
  const createEvent = validator('CreateEvent');
  const updateEvent = validator('UpdateEvent');
  const price = (ticket_price: unknown) => createEvent({ name: 'Gig', date_time: '2030-01-01T20:00:00Z', total_tickets: 10, ticket_price });

  it.each([['abc'], [1.234], ['1.234'], [-0.01], ['-1'], [1_000_000.01], ['1000000.01'], ['1e3'], ['0x10'], [''], [null], [true]])(
    'refuses the ticket_price %p, as the server does',
    (value) => {
      expect(price(value)).toBe(false);
      expect(updateEvent({ ticket_price: value })).toBe(false);
    },
  );

  it.each([[0], [0.07], [19.99], [49.9], [1_000_000], ['0'], ['49.90'], ['19.99'], ['1000000'], ['1000000.00']])(
    'accepts the ticket_price %p',
    (value) => {
      expect(price(value)).toBe(true);
    },
  );

  it('accepts a ticket_price exactly when the server does, for any cents written as a number or a decimal string', () => {
    fc.assert(
      fc.property(fc.integer({ min: -100, max: 100_000_100 }), fc.boolean(), (cents, asString) => {
        const amount = cents / 100;
        const value = asString ? amount.toFixed(2) : amount;
        expect(price(value)).toBe(parsePriceToCents(value) !== undefined);
      }),
    );
  });

  it('never accepts a ticket_price string the server refuses', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^-?[0-9]{0,8}(\.[0-9]{0,3})?$/), (text) => {
        if (price(text)) expect(parsePriceToCents(text)).toBeDefined();
      }),
    );
  });

  it('gives limit its default of 20 and its bounds as an integer, without the string pattern used to parse it', () => {
    for (const route of registry.filter((r) => r.query)) {
      const limit = operationOf(route).parameters.find((p: Json) => p.in === 'query' && p.name === 'limit');
      expect(limit.schema).toEqual({ description: expect.any(String), type: 'integer', minimum: 1, maximum: 100, default: 20 });
    }
  });

  it('caps every page at 100 items', () => {
    const pages = Object.entries(document.components.schemas as Json).filter(([name]) => name.endsWith('Page'));
    expect(pages.length).toBeGreaterThan(0);
    for (const [, page] of pages) expect(page.properties.items.maxItems).toBe(100);
  });

  it('gives every integer a minimum of its own, never a negative one (zod would say -9007199254740991)', () => {
    const integers: { where: string; schema: Json }[] = [];
    const walk = (node: unknown, where: string) => {
      if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${where}/${i}`));
      else if (node && typeof node === 'object') {
        if ((node as Json).type === 'integer') integers.push({ where, schema: node as Json });
        for (const [key, value] of Object.entries(node)) walk(value, `${where}/${key}`);
      }
    };
    walk(document.components.schemas, '#/components/schemas');
    expect(integers.length).toBeGreaterThan(10);
    for (const { where, schema } of integers) {
      expect({ where, minimum: schema.minimum }).toEqual({ where, minimum: expect.any(Number) });
      expect({ where, negative: schema.minimum < 0 }).toEqual({ where, negative: false });
    }
  });
});

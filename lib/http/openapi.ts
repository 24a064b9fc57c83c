import * as z from 'zod';
import {
  createDocument,
  type ZodOpenApiOperationObject,
  type ZodOpenApiPathsObject,
  type ZodOpenApiResponseObject,
  type ZodOpenApiResponsesObject,
} from 'zod-openapi';
import { Problem, PROBLEM_CONTENT_TYPE } from './problem';
import { MAX_BODY_BYTES } from './request';
import type { RouteSpec } from './route';
import { routes } from './routes';

/** Every tag a route may carry; a route's `tag` must be one of these. */
export const TAGS = [
  { name: 'Service', description: 'The health check and this document. No key needed.' },
  { name: 'Users', description: 'Registration, which returns the user\'s API key once, and the calling user.' },
  {
    name: 'Events',
    description: 'Events with a limited number of tickets. Anyone reads them; the admin creates, changes and deletes them and reads their statistics.',
  },
  {
    name: 'Bookings',
    description:
      'A booking holds its tickets (PENDING) until it is paid (CONFIRMED) or its hold runs out, when it is cancelled and its tickets go back on sale. No sequence of requests sells more tickets than an event has.',
  },
  {
    name: 'Waiting list',
    description:
      'A line for sold-out events (v1.1). Tickets that come back are offered to the earliest WAITING entry that fits, as a PENDING booking; while an entry fits, nobody outside the line or behind it can book them.',
  },
  {
    name: 'Webhooks',
    description:
      'Signed notifications (Standard Webhooks) of bookings made, paid, cancelled and expired, and of waiting-list offers (v1.1). At least once, within seconds; retried with exponential backoff for 24 hours.',
  },
] as const;

const IdempotencyHeader = z.object({
  'Idempotency-Key': z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/)
    .optional()
    .meta({
      description:
        'A retry with the same key and body within 24 hours returns the first response and does nothing more; the same key with another body is a 422; while the first request runs, a 409.',
    }),
});

const problemResponse = (id: string, description: string, headers?: ZodOpenApiResponseObject['headers']): ZodOpenApiResponseObject => ({
  id,
  description,
  ...(headers ? { headers } : {}),
  content: { [PROBLEM_CONTENT_TYPE]: { schema: Problem } },
});

/**
 * The error answers, one reusable response per status. `type` in the body names
 * the exact problem; the operation's description lists the ones worth telling apart.
 */
const PROBLEMS: Record<number, ZodOpenApiResponseObject> = {
  400: problemResponse('MalformedJson', 'The body is not valid JSON (`malformed-json`).'),
  401: problemResponse('Unauthenticated', 'No API key, or one that matches nobody (`unauthenticated`).', {
    'WWW-Authenticate': { description: 'Always `Bearer`', schema: { type: 'string', const: 'Bearer' }, required: true },
  }),
  402: problemResponse('PaymentDeclined', 'The payment was declined (`payment-declined`); the booking stays PENDING and may be paid again before it expires.'),
  403: problemResponse(
    'Forbidden',
    'A valid key of the wrong kind (`forbidden`): a user key on a route for the admin, or the admin key on a route for users.',
  ),
  404: problemResponse(
    'NotFound',
    'No such resource, or one that belongs to another user (`event-not-found`, `booking-not-found`, `waitlist-entry-not-found`, `webhook-not-found`, `user-not-found`).',
  ),
  409: problemResponse('Conflict', 'The current state does not allow it; `type` names the conflict.'),
  413: problemResponse('PayloadTooLarge', `The body is over ${MAX_BODY_BYTES / 1024} KiB (\`payload-too-large\`).`),
  415: problemResponse('UnsupportedMediaType', 'The body is not sent as `Content-Type: application/json` (`unsupported-media-type`).'),
  422: problemResponse(
    'ValidationFailed',
    'A well-formed request that fails validation (`validation-failed`, with `errors` naming each field), or an Idempotency-Key reused with another body (`idempotency-key-reused`).',
  ),
  500: problemResponse('InternalError', 'An unexpected fault (`internal-error`); the body says nothing about internals. Quote `request_id` when reporting it.'),
  502: problemResponse(
    'PaymentGatewayError',
    'The payment gateway failed (`payment-gateway-error`); nothing was charged and the booking is unchanged.',
  ),
  503: problemResponse(
    'ServiceUnavailable',
    'Busy, or the API key could not be checked right now (`service-unavailable`): retry after `Retry-After` seconds, with the same Idempotency-Key where there is one.',
    {
      'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer', minimum: 0 }, required: true },
    },
  ),
};

/**
 * API Gateway answers a throttled request itself, before any function runs, with a
 * body of its own that an HTTP API cannot customise, so this one answer is not a problem.
 */
const TooManyRequests: ZodOpenApiResponseObject = {
  id: 'TooManyRequests',
  description:
    'Throttled by API Gateway, before the service sees the request: `{"message":"Too Many Requests"}` as application/json. ' +
    'This is not a problem+json body and cannot be made one (HTTP APIs offer no way to customise their own error answers). Nothing was done: retry with backoff.',
  content: {
    'application/json': {
      schema: z.object({ message: z.string().meta({ examples: ['Too Many Requests'] }) }).meta({ id: 'GatewayMessage' }),
    },
  },
};

/**
 * The error statuses an operation can answer, from what the handler does with its
 * spec (lib/http/handler.ts) plus the route's own `problems`:
 * - a key is checked: 401 without a valid one, 503 when it cannot be checked; 403
 *   when the route is for one kind of caller only;
 * - a body is read: 400, 413, 415, and 422 when it fails its schema;
 * - an Idempotency-Key: 409 while the first request runs, 422 when reused;
 * - a query: 422; a path id: 404 when it cannot name anything (else 422);
 * - and every route: 429 from the gateway's throttling, 500 for a fault.
 */
export function errorStatuses(route: RouteSpec): number[] {
  const statuses = new Set<number>(route.problems);
  if (route.access !== 'public') statuses.add(401).add(503);
  if (route.access === 'admin' || route.access === 'user') statuses.add(403);
  if (route.body) [400, 413, 415, 422].forEach((s) => statuses.add(s));
  if (route.idempotent) statuses.add(409).add(422);
  if (route.query) statuses.add(422);
  if (route.params) statuses.add(route.resource ? 404 : 422);
  statuses.add(429).add(500);
  return [...statuses].sort((a, b) => a - b);
}

function successResponse(route: RouteSpec): ZodOpenApiResponseObject {
  const headers: NonNullable<ZodOpenApiResponseObject['headers']> = {};
  if (route.success.location) headers.Location = { description: 'The path of the new resource', schema: { type: 'string' }, required: true };
  if (route.idempotent) {
    headers['Idempotent-Replayed'] = {
      description: '`true` when this is the stored answer to an earlier request with the same Idempotency-Key',
      schema: { type: 'string', const: 'true' },
    };
  }
  return {
    description: route.success.description,
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(route.success.schema ? { content: { 'application/json': { schema: route.success.schema } } } : {}),
  };
}

function operation(route: RouteSpec): ZodOpenApiOperationObject {
  const responses: Record<string, ZodOpenApiResponseObject> = { [route.success.status]: successResponse(route) };
  for (const status of errorStatuses(route)) {
    const response = status === 429 ? TooManyRequests : PROBLEMS[status];
    if (!response) throw new Error(`${route.operationId}: no response is documented for status ${status}`);
    responses[status] = response;
  }
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [route.tag],
    security: route.access === 'public' ? [] : [{ apiKey: [] }],
    ...(route.params || route.query || route.idempotent
      ? {
          requestParams: {
            ...(route.params ? { path: route.params } : {}),
            ...(route.query ? { query: route.query } : {}),
            ...(route.idempotent ? { header: IdempotencyHeader } : {}),
          },
        }
      : {}),
    ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: route.body } } } } : {}),
    responses: responses as ZodOpenApiResponsesObject,
  };
}

/** The OpenAPI 3.1 document of every route in the registry, built from their zod schemas. */
export function buildOpenApiDocument(): ReturnType<typeof createDocument> {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of Object.values(routes) as RouteSpec[]) {
    paths[route.path] = { ...paths[route.path], [route.method]: operation(route) };
  }
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'Ticket booking API',
      version: '1.0.0',
      description:
        'Events with limited seats, bookings that never oversell, and holds that give unpaid tickets back. Errors are RFC 9457 problem details (`application/problem+json`), but for the 429 of API Gateway\'s throttling.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [
      { url: 'http://localhost:3000', description: 'The local stack (`npm start`; `PORT` changes the port)' },
      {
        url: 'https://{api_id}.execute-api.{region}.amazonaws.com',
        description: 'A deployed stage: the URL `npm run deploy` prints',
        variables: {
          api_id: { default: 'api_id', description: 'The id of the stage\'s HTTP API' },
          region: { default: 'us-east-1', description: 'The AWS region it is deployed in' },
        },
      },
    ],
    tags: [...TAGS],
    security: [{ apiKey: [] }],
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'A user API key (from POST /users) or the admin key' },
      },
    },
    paths,
  });
}

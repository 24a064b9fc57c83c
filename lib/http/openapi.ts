import * as z from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from 'zod-openapi';
import { Problem, PROBLEM_CONTENT_TYPE } from './problem';
import type { RouteSpec } from './route';
import { routes } from './routes';

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

const REASONS: Record<number, string> = {
  400: 'Malformed JSON',
  401: 'Missing or invalid API key',
  402: 'Payment declined; the booking stays PENDING',
  403: 'Authenticated but not allowed',
  404: 'No such resource',
  409: 'The current state does not allow it',
  413: 'Request body too large',
  503: 'Busy: retry after the Retry-After seconds',
  415: 'The body is not application/json',
  422: 'The request fails validation',
  500: 'Unexpected server fault',
  502: 'Payment gateway fault; nothing charged, the booking is unchanged',
};

/** The error statuses a route can answer with: implied by its spec, plus its own. */
function problemStatuses(route: RouteSpec): number[] {
  const statuses = new Set<number>(route.problems);
  if (route.access !== 'public') statuses.add(401);
  if (route.access === 'admin' || route.access === 'user') statuses.add(403);
  if (route.body) [400, 413, 415, 422].forEach((s) => statuses.add(s));
  if (route.idempotent) statuses.add(409).add(422);
  if (route.query || (route.params && !route.resource)) statuses.add(422);
  if (route.params && route.resource) statuses.add(404);
  statuses.add(500);
  return [...statuses].sort();
}

function operation(route: RouteSpec): ZodOpenApiOperationObject {
  type Responses = NonNullable<ZodOpenApiOperationObject['responses']>;
  const responses: Record<string, Responses[`2${string}`]> = {
    [route.success.status]: {
      description: route.success.description,
      ...(route.success.location ? { headers: { Location: { schema: { type: 'string' }, description: 'The new resource' } } } : {}),
      ...(route.success.schema ? { content: { 'application/json': { schema: route.success.schema } } } : {}),
    },
  };
  for (const status of problemStatuses(route)) {
    responses[status] = { description: REASONS[status] ?? 'Error', content: { [PROBLEM_CONTENT_TYPE]: { schema: Problem } } };
  }
  return {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    ...(route.access === 'public' ? { security: [] } : {}),
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
    responses: responses as Responses,
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
        'Events with limited seats, bookings that never oversell, and holds that give unpaid tickets back. Errors are RFC 9457 problem details.',
    },
    security: [{ apiKey: [] }],
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'A user API key (from POST /users) or the admin key' },
      },
    },
    paths,
  });
}

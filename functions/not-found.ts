import { RouteNotFoundError } from '../lib/http/errors';
import { httpRoute } from '../lib/http/handler';
import { defineRoute } from '../lib/http/route';

/**
 * The catch-all route (`$default`): a path no route serves is a 404 problem, like
 * every other error, rather than API Gateway's `{"message":"Not Found"}`. Not an
 * operation of the API, so not in the route registry or the OpenAPI document.
 */
const catchAll = defineRoute({
  operationId: 'notFound',
  method: 'get',
  path: '*',
  summary: 'Any path no route serves',
  tag: 'Service',
  access: 'public',
  success: { status: 200, description: 'never' },
  problems: [404],
});

export const handler = httpRoute(catchAll, async ({ method, path }) => {
  throw new RouteNotFoundError(method, path);
});

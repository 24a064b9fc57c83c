import { MethodNotAllowedError, RouteNotFoundError } from '../lib/http/errors';
import { httpRoute } from '../lib/http/handler';
import { defineRoute, type RouteSpec } from '../lib/http/route';
import { routes } from '../lib/http/routes';

/**
 * The catch-all route (`$default`): API Gateway sends here every request no route
 * serves, so that it is answered as a problem, like every other error, rather
 * than with API Gateway's `{"message":"Not Found"}`. A path the API knows, asked
 * with a method it does not serve, is a 405 with `Allow`; any other path a 404.
 * Not an operation of the API, so not in the route registry or the OpenAPI document.
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

const pathPattern = (template: string) => new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+')}$`);
const served: { pattern: RegExp; method: string }[] = Object.values(routes as Record<string, RouteSpec>).map((route) => ({
  pattern: pathPattern(route.path),
  method: route.method.toUpperCase(),
}));

export const handler = httpRoute(catchAll, async ({ method, path }) => {
  const allowed = [...new Set(served.filter((route) => route.pattern.test(path)).map((route) => route.method))];
  if (allowed.length > 0 && !allowed.includes(method)) throw new MethodNotAllowedError(method, path, allowed);
  throw new RouteNotFoundError(method, path);
});

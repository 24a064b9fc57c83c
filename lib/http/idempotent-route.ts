import type { UserCaller } from '../domain/caller';
import type { IdempotencyCompletion } from '../ports';
import type { IdempotencyStore, StoredResponse } from '../store/idempotency';
import { httpRoute } from './handler';
import { idempotencyKeyOf, idempotently, requestFingerprint } from './idempotency';
import type { RouteRequest, RouteSpec } from './route';

/** The route, with its path parameters filled in: what a key is scoped to besides the user. */
function operationOf(route: RouteSpec, params: unknown): string {
  const values = (params ?? {}) as Record<string, string>;
  return `${route.method.toUpperCase()} ${route.path.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? '')}`;
}

/**
 * The handler of a route that honours an Idempotency-Key (a user's POST). `run`
 * does the work and gets the completion of the key's record to make part of its
 * own transaction (undefined without a key); `respond` shapes its result, which
 * is also what a retry with the same key is answered.
 */
export function idempotentRoute<R extends RouteSpec & { access: 'user'; idempotent: true }, T>(
  route: R,
  store: IdempotencyStore,
  spec: {
    run: (request: RouteRequest<R>, complete: ((result: T) => IdempotencyCompletion) | undefined) => Promise<T>;
    respond: (result: T) => StoredResponse;
  },
) {
  return httpRoute(route, (request) => {
    const key = idempotencyKeyOf(request.headers);
    const user = (request.caller as UserCaller).user_id;
    const scope = key === undefined ? undefined : { user_id: user, operation: operationOf(route, request.params), key };
    return idempotently(store, scope, requestFingerprint(request.path, request.body), request.requestId, async (complete) => {
      const result = await spec.run(request, complete && ((done) => complete(spec.respond(done))));
      return spec.respond(result);
    });
  });
}

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2WithLambdaAuthorizer, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import * as z from 'zod';
import { type Access, Caller } from '../domain/caller';
import { NotFoundError, ServiceUnavailableError, ValidationError } from '../domain/errors';
import { requireEvent } from '../invocation';
import { AuthenticationError, ForbiddenError, NotAnHttpRequestError } from './errors';
import { type Headers, lowerCaseHeaders } from './headers';
import { logger } from './logger';
import { toProblemResponse } from './problem';
import { readJsonBody, validate } from './request';
import type { Reply, RouteRequest, RouteSpec } from './route';

export type HttpEvent = APIGatewayProxyEventV2WithLambdaAuthorizer<Record<string, unknown> | undefined>;
export type HttpResult = APIGatewayProxyStructuredResultV2;

/** What API Gateway hands an HTTP API route (payload format 2.0), as far as the handler relies on it. */
const HttpApiRequest = z.looseObject({
  version: z.literal('2.0'),
  rawPath: z.string(),
  requestContext: z.looseObject({ requestId: z.string(), http: z.looseObject({ method: z.string() }) }),
});

/**
 * serverless-offline lets this header replace the authorizer's result (an emulator
 * feature; API Gateway has none). A request carrying it is never admitted, so the
 * local stack cannot be made to believe anyone is the admin or another user.
 */
const OFFLINE_AUTHORIZER_OVERRIDE = 'sls-offline-authorizer-override';

/** The caller the authorizer put in the request context; anonymous on a public route. */
function callerOf(event: HttpEvent, headers: Headers): Caller {
  if (OFFLINE_AUTHORIZER_OVERRIDE in headers) return { role: 'invalid' };
  const parsed = Caller.safeParse(event.requestContext.authorizer?.lambda);
  return parsed.success ? parsed.data : { role: 'anonymous' };
}

/** Lets the caller in, or says why not: 401 without a valid key, 403 with the wrong kind. */
function admit(access: Access, caller: Caller): Caller {
  if (access === 'public') return caller;
  if (caller.role === 'anonymous') throw new AuthenticationError('This route requires Authorization: Bearer <api key>');
  if (caller.role === 'invalid') throw new AuthenticationError('The API key is not valid');
  if (caller.role === 'unavailable') throw new ServiceUnavailableError('The API key could not be checked right now; retry shortly', 1);
  if (access === 'admin' && caller.role !== 'admin') throw new ForbiddenError('Only the admin may do this');
  if (access === 'user' && caller.role !== 'user') throw new ForbiddenError('This route is for users; the admin key has no user account');
  return caller;
}

/** Errors become problem+json here, and only here. */
const problemDetails = (): MiddlewareObj<HttpEvent, HttpResult> => ({
  onError: (request) => {
    const problem = toProblemResponse(request.error, request.event.requestContext?.requestId);
    // Every 5xx is logged with its cause (a 503's is the fault that made it one); a
    // 4xx is the client's, and the access log has it.
    if (problem.statusCode === 500) logger.error('Unhandled error', request.error as Error);
    else if (problem.statusCode >= 500) {
      const error = request.error as Error;
      logger.warn('Request failed with a server fault', { status: problem.statusCode, error, cause: error.cause });
    }
    request.response = problem;
  },
});

/** One structured line per request: route, status and duration (never headers or bodies). */
const accessLog = (): MiddlewareObj<HttpEvent, HttpResult> => {
  // Per request, not per module: invocations may overlap in one process (the local stack).
  const started = new WeakMap<object, number>();
  const log = (request: { event: HttpEvent; response: HttpResult | null }) => {
    logger.info('request', {
      route: request.event.routeKey,
      status: request.response?.statusCode,
      duration_ms: Date.now() - (started.get(request.event) ?? Date.now()),
    });
  };
  return {
    before: (request) => {
      started.set(request.event, Date.now());
      logger.appendKeys({ request_id: request.event.requestContext.requestId });
    },
    after: log,
    onError: log,
  };
};

/**
 * A Lambda handler for one route: authorise, parse and validate the body, path and
 * query against the route's zod schemas, run the use case, and shape the response.
 * Every handler in functions/ is built with this; none writes a status code for an
 * error by hand.
 */
export function httpRoute<R extends RouteSpec>(route: R, run: (request: RouteRequest<R>) => Promise<Reply>) {
  return middy<HttpEvent, HttpResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(
      requireEvent<HttpEvent, HttpResult>(HttpApiRequest, 'an API Gateway HTTP API request (payload format 2.0)', (sentence) =>
        toProblemResponse(new NotAnHttpRequestError(sentence), undefined),
      ),
    )
    .use(accessLog())
    .use(problemDetails())
    .handler(async (event) => {
      const headers = lowerCaseHeaders(event.headers);
      const caller = admit(route.access, callerOf(event, headers));

      let params: unknown;
      if (route.params) {
        try {
          params = validate(route.params, event.pathParameters ?? {});
        } catch (error) {
          // An id that fails its schema names nothing that can exist.
          if (error instanceof ValidationError && route.resource) {
            throw new NotFoundError(route.resource, String(event.pathParameters?.id ?? ''));
          }
          throw error;
        }
      }
      const query = route.query ? validate(route.query, event.queryStringParameters ?? {}) : undefined;
      let body: unknown;
      if (route.body) {
        const raw = readJsonBody({ body: event.body, isBase64Encoded: event.isBase64Encoded, headers });
        if (raw === undefined) throw ValidationError.field('', 'A JSON request body is required');
        body = validate(route.body, raw);
      }

      const reply = await run({
        body,
        params,
        query,
        caller,
        requestId: event.requestContext.requestId,
        headers,
        path: event.rawPath,
        method: event.requestContext.http?.method ?? '',
      } as RouteRequest<R>);

      const statusCode = reply.status ?? route.success.status;
      if (statusCode === 204) return { statusCode, headers: { ...reply.headers } };
      return {
        statusCode,
        headers: { 'content-type': 'application/json', ...reply.headers },
        body: JSON.stringify(reply.body),
      };
    });
}

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerWithContextResult } from 'aws-lambda';
import * as z from 'zod';
import { adminApiKey } from '../lib/adapters/admin-key';
import { config } from '../lib/config';
import type { Caller } from '../lib/domain/caller';
import { lowerCaseHeaders } from '../lib/http/headers';
import { logger } from '../lib/http/logger';
import { requireEvent } from '../lib/invocation';
import { authenticate } from '../lib/usecases/authenticate';
import { stores } from '../lib/wiring/stores';

/** What API Gateway hands a REQUEST authorizer of an HTTP API (payload format 2.0). */
const AuthorizerRequest = z.looseObject({ version: z.literal('2.0'), type: z.literal('REQUEST'), routeArn: z.string() });

/**
 * The HTTP API Lambda authorizer. It never denies: it tells the route who is
 * calling (admin, a user, anonymous, or a key that matches nobody), and the route
 * decides, so that a missing or bad key gets the contract's 401 problem+json
 * rather than API Gateway's fixed `{"message":"Forbidden"}`.
 */
export const handler = middy<APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerWithContextResult<Caller>>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(requireEvent(AuthorizerRequest, 'an API Gateway HTTP API authorizer request (type REQUEST, payload format 2.0)'))
  .handler(async (event) => {
    try {
      const authorization = lowerCaseHeaders(event.headers).authorization;
      const caller = await authenticate(stores.users, await adminApiKey(config), authorization);
      logger.debug('caller identified', { role: caller.role });
      return { isAuthorized: true, context: caller };
    } catch (error) {
      // A key that cannot be checked is not a bad key: the route answers 503, so
      // that a client retries instead of discarding a valid key.
      logger.error('caller could not be identified', error as Error);
      return { isAuthorized: true, context: { role: 'unavailable' } };
    }
  });

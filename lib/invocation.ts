import type { MiddlewareObj } from '@middy/core';
import type * as z from 'zod';
import { logger } from './http/logger';

/**
 * Thrown to an invoker that sent a function the wrong kind of event (an
 * `aws lambda invoke` by hand, a misconfigured trigger): the message says what the
 * function expects. Its name is the `errorType` the invoker sees.
 */
export class InvalidInvocationError extends Error {
  override name = 'InvalidInvocation';
}

/**
 * A middy middleware, first in a function's chain, that lets through only events
 * of the shape `schema`. Anything else is the invoker's mistake, not a fault of
 * the function: it is logged as a warning (never as an unhandled error) and
 * answered with one sentence naming what the function expects, either as
 * `answer` makes it (an HTTP function replies as HTTP would) or as an
 * InvalidInvocationError.
 */
export function requireEvent<Event, Result>(
  schema: z.ZodType,
  expected: string,
  answer?: (sentence: string) => Result,
): MiddlewareObj<Event, Result> {
  return {
    before: (request) => {
      if (schema.safeParse(request.event).success) return undefined;
      const sentence = `This function expects ${expected}; it was invoked with something else.`;
      logger.warn('invoked with the wrong kind of event', { expected });
      if (!answer) throw new InvalidInvocationError(sentence);
      request.response = answer(sentence);
      return request.response;
    },
  };
}

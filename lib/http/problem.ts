import * as z from 'zod';
import { AppError, type ErrorKind, ServiceUnavailableError } from '../domain/errors';
import { isRetryableFault } from '../faults';
import { MethodNotAllowedError, type RequestErrorKind } from './errors';

export const PROBLEM_BASE = 'https://ticket-booking.example/problems/';

/** The one mapping from kinds of failure to HTTP status codes. */
const STATUS: Record<ErrorKind | RequestErrorKind, number> = {
  malformed: 400,
  unauthenticated: 401,
  'payment-declined': 402,
  forbidden: 403,
  'not-found': 404,
  'method-not-allowed': 405,
  conflict: 409,
  'too-large': 413,
  'unsupported-media-type': 415,
  invalid: 422,
  upstream: 502,
  unavailable: 503,
};

export const Problem = z
  .object({
    type: z.string().meta({ format: 'uri', examples: [`${PROBLEM_BASE}insufficient-tickets`] }),
    title: z.string(),
    status: z.number().int().min(400).max(599),
    detail: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    request_id: z.string().optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });
export type Problem = z.infer<typeof Problem>;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/**
 * Any error into an RFC 9457 response. Our own errors say what went wrong; anything
 * else is a 500 whose body says nothing about internals (the log has the details).
 */
export interface ProblemResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export function toProblemResponse(thrown: unknown, requestId: string | undefined): ProblemResponse {
  const headers: Record<string, string> = { 'content-type': PROBLEM_CONTENT_TYPE, 'cache-control': 'no-store' };
  // A dependency that is down or busy is not the API's bug: the client may retry.
  const error =
    !(thrown instanceof AppError) && isRetryableFault(thrown)
      ? new ServiceUnavailableError('A service the API depends on is unavailable right now; retry shortly', 1, { cause: thrown })
      : thrown;
  let problem: Problem;
  if (error instanceof AppError && error.kind in STATUS) {
    const kind = error.kind as keyof typeof STATUS;
    problem = {
      type: PROBLEM_BASE + error.code,
      title: error.title,
      status: STATUS[kind],
      detail: error.detail,
      ...(error.fieldProblems ? { errors: error.fieldProblems } : {}),
    };
    if (kind === 'unauthenticated') headers['www-authenticate'] = 'Bearer';
    if (error instanceof ServiceUnavailableError) headers['retry-after'] = String(error.retryAfterSeconds);
    if (error instanceof MethodNotAllowedError) headers.allow = error.allowed.join(', ');
  } else {
    problem = {
      type: PROBLEM_BASE + 'internal-error',
      title: 'Internal server error',
      status: 500,
      detail: 'An unexpected error occurred. It has been logged; quote the request id when reporting it.',
    };
  }
  if (requestId) problem.request_id = requestId;
  return { statusCode: problem.status, headers, body: JSON.stringify(problem) };
}

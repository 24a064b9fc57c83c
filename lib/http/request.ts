import type * as z from 'zod';
import { type FieldProblem, ValidationError } from '../domain/errors';
import type { Headers } from './headers';
import { MalformedJsonError, PayloadTooLargeError, UnsupportedMediaTypeError } from './errors';

export const MAX_BODY_BYTES = 64 * 1024;
const JSON_MEDIA_TYPE = /^application\/([a-z0-9.+-]+\+)?json\s*(;.*)?$/i;

interface RawRequest {
  body?: unknown;
  isBase64Encoded?: boolean;
  /** Names in lower case (lowerCaseHeaders). */
  headers: Headers;
}

/**
 * The JSON body of a request, or `undefined` when it has none. A body in another
 * media type is a 415, one that is not JSON a 400, one over the limit a 413.
 */
export function readJsonBody(request: RawRequest): unknown {
  if (request.body === undefined || request.body === null || request.body === '') return undefined;
  // API Gateway always hands over a string; serverless-offline hands over a falsy
  // JSON body (`false`, `0`) already parsed. Either way, judge the text.
  const raw = typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
  const text = request.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) throw new PayloadTooLargeError(MAX_BODY_BYTES);
  const contentType = request.headers['content-type'];
  if (contentType === undefined || !JSON_MEDIA_TYPE.test(contentType)) throw new UnsupportedMediaTypeError();
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new MalformedJsonError(`The request body is not valid JSON: ${(error as Error).message}`);
  }
}

/** Zod issues as API field problems: a dotted path and a message, one per unknown key. */
export function fieldProblems(error: z.ZodError, prefix: string): FieldProblem[] {
  const join = (path: PropertyKey[]) => [prefix, ...path.map(String)].filter(Boolean).join('.');
  return error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: join([...issue.path, key]), message: 'is not a known field' }));
    }
    return [{ path: join(issue.path), message: issue.message }];
  });
}

export function validate<S extends z.ZodType>(schema: S, value: unknown, prefix = ''): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new ValidationError(fieldProblems(parsed.error, prefix));
}

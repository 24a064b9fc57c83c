/**
 * What responses are checked against: the shape of a timestamp, and the RFC 9457
 * problem every error must be.
 */
import type { RawResponse } from './raw-http';

/** An RFC 3339 timestamp in UTC, as every response carries it. */
export const UTC_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** What expectProblem reads of a response (the e2e client's ApiResponse). */
interface FetchedResponse {
  status: number;
  headers: Headers;
  body: any;
}

/** Asserts an RFC 9457 problem response with the given status (and problem slug, when given: any type otherwise). */
export function expectProblem(response: FetchedResponse, status: number, code?: string): void {
  expect({ status: response.status, contentType: response.headers.get('content-type') }).toEqual({
    status,
    contentType: expect.stringContaining('application/problem+json'),
  });
  expect(response.body).toMatchObject({
    status,
    title: expect.any(String),
    detail: expect.any(String),
    type: code === undefined ? expect.any(String) : expect.stringMatching(new RegExp(`/problems/${code}$`)),
  });
}

/** A 422 validation problem whose `errors` name the given field path. */
export function expectFieldProblem(response: FetchedResponse, path: string): void {
  expectProblem(response, 422, 'validation-failed');
  expect(response.body.errors).toEqual(expect.arrayContaining([{ path, message: expect.any(String) }]));
}

/** Why a response is not an RFC 9457 4xx problem, or undefined when it is one. */
export function notA4xxProblem(res: RawResponse): string | undefined {
  if (res.status === 0) return `no response: ${res.error}`;
  if (res.status >= 500) return `a ${res.status} (a server fault) for bad input`;
  if (res.status < 400) return `a ${res.status} (success) for a request that must be refused`;
  return notAProblem(res);
}

/** Why a response is not problem+json with type/title/status/detail, or undefined. */
export function notAProblem(res: RawResponse): string | undefined {
  if (!res.contentType.toLowerCase().startsWith('application/problem+json')) return `content-type ${JSON.stringify(res.contentType)}, not application/problem+json`;
  const body = res.body;
  if (typeof body !== 'object' || body === null) return 'a body that is not a JSON object';
  for (const field of ['type', 'title', 'detail'] as const) {
    if (typeof body[field] !== 'string' || body[field] === '') return `no string "${field}" in the problem`;
  }
  if (body.status !== res.status) return `problem status ${JSON.stringify(body.status)} differs from the HTTP status ${res.status}`;
  return undefined;
}

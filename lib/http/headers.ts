/**
 * Header names are case-insensitive (RFC 9110). API Gateway hands them to a
 * function in lower case; serverless-offline, and some other callers, pass them as
 * the client sent them (`Authorization`). Every header is read through this.
 */
export type Headers = Record<string, string | undefined>;

export function lowerCaseHeaders(headers: Headers | null | undefined): Headers {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
}

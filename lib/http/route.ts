import type * as z from 'zod';
import type { Access, Caller, UserCaller } from '../domain/caller';

/**
 * Everything about one HTTP route that is not its business logic: where it lives,
 * who may call it, the zod schemas of its input and output. The handlers validate
 * against these schemas and the OpenAPI document is generated from them, so the
 * two cannot disagree.
 */
export interface RouteSpec {
  operationId: string;
  method: 'get' | 'post' | 'patch' | 'delete';
  path: string;
  summary: string;
  /** What a client needs beyond the summary: who may call, the problems worth telling apart. */
  description?: string;
  /** One of the tags the OpenAPI document declares (lib/http/openapi.ts). */
  tag: string;
  access: Access;
  /** What a path id names, for the 404 of an id that cannot exist. */
  resource?: 'event' | 'booking' | 'waitlist-entry' | 'webhook';
  body?: z.ZodType;
  params?: z.ZodObject;
  query?: z.ZodObject;
  success: { status: 200 | 201 | 204; description: string; schema?: z.ZodType; location?: boolean };
  /** Accepts an Idempotency-Key header; its parameter in the OpenAPI document says what a retry does. */
  idempotent?: boolean;
  /** Statuses beyond those implied by access, body, params, query and idempotency (see `errorStatuses` in lib/http/openapi.ts). */
  problems: readonly number[];
}

export const defineRoute = <const R extends RouteSpec>(route: R): R => route;

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;

type CallerFor<A extends Access> = A extends 'user'
  ? UserCaller
  : A extends 'admin'
    ? { role: 'admin' }
    : A extends 'user-or-admin'
      ? UserCaller | { role: 'admin' }
      : Caller;

export interface RouteRequest<R extends RouteSpec> {
  body: Parsed<R['body']>;
  params: Parsed<R['params']>;
  query: Parsed<R['query']>;
  caller: CallerFor<R['access']>;
  requestId: string;
  /** Request headers, names in lower case. */
  headers: Record<string, string | undefined>;
  /** The request path as sent, e.g. `/bookings/abc/payment`. */
  path: string;
  method: string;
}

export interface Reply {
  /** The route's success status unless given (an idempotent replay carries its own). */
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

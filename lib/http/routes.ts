import * as z from 'zod';
import { CreateEventBody, EventView, UpdateEventBody } from '../domain/event';
import { CreateUserBody, NewUserView, UserView } from '../domain/user';
import { defineRoute } from './route';

const IdParams = z.object({
  id: z.string().min(1).max(128).meta({ description: 'The id returned when the resource was created' }),
});

/** `?limit=` (1..100, default 20) and `?cursor=` from the previous page. */
export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).meta({ description: 'Items per page (1..100)' }),
  cursor: z.string().min(1).max(2048).optional().meta({ description: 'next_cursor of the previous page' }),
});

const pageOf = <T extends z.ZodType>(item: T, id: string) =>
  z
    .object({
      items: z.array(item),
      next_cursor: z.string().nullable().meta({ description: 'Pass as ?cursor= for the next page; null on the last page' }),
    })
    .meta({ id });

export const routes = {
  health: defineRoute({
    operationId: 'health',
    method: 'get',
    path: '/health',
    summary: 'Liveness check',
    tag: 'Service',
    access: 'public',
    success: { status: 200, description: 'The service is up', schema: z.object({ status: z.literal('ok') }) },
    problems: [],
  }),
  openapi: defineRoute({
    operationId: 'openapi',
    method: 'get',
    path: '/openapi.json',
    summary: 'This OpenAPI 3.1 document',
    tag: 'Service',
    access: 'public',
    success: { status: 200, description: 'The OpenAPI document', schema: z.record(z.string(), z.unknown()) },
    problems: [],
  }),
  createUser: defineRoute({
    operationId: 'createUser',
    method: 'post',
    path: '/users',
    summary: 'Register a user; the API key is returned once',
    tag: 'Users',
    access: 'public',
    body: CreateUserBody,
    success: { status: 201, description: 'The user, with its API key', schema: NewUserView },
    problems: [409],
  }),
  getMe: defineRoute({
    operationId: 'getMe',
    method: 'get',
    path: '/users/me',
    summary: 'The calling user',
    tag: 'Users',
    access: 'user',
    success: { status: 200, description: 'The user', schema: UserView },
    problems: [],
  }),
  createEvent: defineRoute({
    operationId: 'createEvent',
    method: 'post',
    path: '/events',
    summary: 'Create an event',
    tag: 'Events',
    access: 'admin',
    body: CreateEventBody,
    success: { status: 201, description: 'The event', schema: EventView, location: true },
    problems: [],
  }),
  listEvents: defineRoute({
    operationId: 'listEvents',
    method: 'get',
    path: '/events',
    summary: 'Events ordered by date_time, earliest first',
    tag: 'Events',
    access: 'public',
    query: PageQuery,
    success: { status: 200, description: 'A page of events', schema: pageOf(EventView, 'EventPage') },
    problems: [],
  }),
  getEvent: defineRoute({
    operationId: 'getEvent',
    method: 'get',
    path: '/events/{id}',
    summary: 'One event',
    tag: 'Events',
    access: 'public',
    resource: 'event',
    params: IdParams,
    success: { status: 200, description: 'The event', schema: EventView },
    problems: [404],
  }),
  updateEvent: defineRoute({
    operationId: 'updateEvent',
    method: 'patch',
    path: '/events/{id}',
    summary: 'Change any subset of the writable fields',
    tag: 'Events',
    access: 'admin',
    resource: 'event',
    params: IdParams,
    body: UpdateEventBody,
    success: { status: 200, description: 'The updated event', schema: EventView },
    problems: [404, 409],
  }),
  deleteEvent: defineRoute({
    operationId: 'deleteEvent',
    method: 'delete',
    path: '/events/{id}',
    summary: 'Delete an event without PENDING or CONFIRMED bookings',
    tag: 'Events',
    access: 'admin',
    resource: 'event',
    params: IdParams,
    success: { status: 204, description: 'Deleted' },
    problems: [404, 409],
  }),
};

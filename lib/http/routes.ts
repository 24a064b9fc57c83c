import * as z from 'zod';
import { BookingStatus, BookingView, CreateBookingBody, EventStats } from '../domain/booking';
import { CreateEventBody, EventView, UpdateEventBody } from '../domain/event';
import { PayBookingBody } from '../domain/payment';
import { CreateUserBody, NewUserView, UserView } from '../domain/user';
import { defineRoute } from './route';

const IdParams = z.object({
  id: z.string().min(1).max(128).meta({ description: 'The id returned when the resource was created' }),
});

/** `?limit=` (1..100, default 20) and `?cursor=` from the previous page. */
export const PageQuery = z.object({
  // Decimal digits only: `1e2`, `0x10` or `+5` are not a page size.
  limit: z
    .string()
    .regex(/^\d{1,3}$/, 'must be a whole number from 1 to 100')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be a whole number from 1 to 100').max(100, 'must be a whole number from 1 to 100'))
    .default(20)
    .meta({ description: 'Items per page (1..100)', type: 'integer', minimum: 1, maximum: 100, default: 20 }),
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
  eventStats: defineRoute({
    operationId: 'getEventStats',
    method: 'get',
    path: '/events/{id}/stats',
    summary: 'Tickets sold, held and available, revenue and bookings per status; one read whatever the number of bookings',
    tag: 'Events',
    access: 'admin',
    resource: 'event',
    params: IdParams,
    success: { status: 200, description: 'The statistics', schema: EventStats },
    problems: [404],
  }),
  createBooking: defineRoute({
    operationId: 'createBooking',
    method: 'post',
    path: '/bookings',
    summary: 'Book tickets: they are held (PENDING) until paid or expired',
    tag: 'Bookings',
    access: 'user',
    body: CreateBookingBody,
    idempotent: true,
    success: { status: 201, description: 'The booking, PENDING', schema: BookingView, location: true },
    problems: [404, 409, 503],
  }),
  listBookings: defineRoute({
    operationId: 'listBookings',
    method: 'get',
    path: '/bookings',
    summary: "The caller's bookings, newest first (the admin sees all, and may filter by event and status)",
    tag: 'Bookings',
    access: 'user-or-admin',
    query: PageQuery.extend({
      event_id: z.string().min(1).max(128).optional().meta({ description: 'Only bookings of this event' }),
      status: BookingStatus.optional().meta({ description: 'Only bookings in this status' }),
    }),
    success: { status: 200, description: 'A page of bookings', schema: pageOf(BookingView, 'BookingPage') },
    problems: [],
  }),
  getBooking: defineRoute({
    operationId: 'getBooking',
    method: 'get',
    path: '/bookings/{id}',
    summary: 'One booking (its owner or the admin; 404 for anyone else)',
    tag: 'Bookings',
    access: 'user-or-admin',
    resource: 'booking',
    params: IdParams,
    success: { status: 200, description: 'The booking', schema: BookingView },
    problems: [404],
  }),
  cancelBooking: defineRoute({
    operationId: 'cancelBooking',
    method: 'post',
    path: '/bookings/{id}/cancel',
    summary: 'Cancel a PENDING or CONFIRMED booking; its tickets go back on sale',
    tag: 'Bookings',
    access: 'user-or-admin',
    resource: 'booking',
    params: IdParams,
    success: { status: 200, description: 'The booking, CANCELLED', schema: BookingView },
    problems: [404, 409, 503],
  }),
  payBooking: defineRoute({
    operationId: 'payBooking',
    method: 'post',
    path: '/bookings/{id}/payment',
    summary: 'Pay a PENDING booking before its hold expires (simulated gateway): it becomes CONFIRMED',
    tag: 'Bookings',
    access: 'user',
    resource: 'booking',
    params: IdParams,
    body: PayBookingBody,
    idempotent: true,
    success: { status: 200, description: 'The booking, CONFIRMED', schema: BookingView },
    problems: [402, 404, 409, 502, 503],
  }),
};

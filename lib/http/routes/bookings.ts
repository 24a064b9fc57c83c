import * as z from 'zod';
import { BookingStatus, BookingView, CreateBookingBody } from '../../domain/booking';
import { PayBookingBody } from '../../domain/payment';
import { defineRoute } from '../route';
import { IdParams, PageQuery, pageOf } from './shared';

/** The booking routes (functions/bookings.ts). */
export const bookingsRoutes = {
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

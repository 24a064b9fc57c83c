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
    description:
      'For users (the admin key has no user account: 403). The tickets are held until `expires_at`; a booking still unpaid then is cancelled (`PAYMENT_TIMEOUT`) and its tickets go back on sale. ' +
      '404 `event-not-found`; 409 `insufficient-tickets` (nothing is held), `event-started`, `per-user-limit` or `idempotency-in-progress`; ' +
      "422 for a quantity above the event's `max_per_booking`, or an Idempotency-Key reused with another body; 503 when the hold could not be started (nothing is held).",
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
    summary: "The caller's bookings, newest first",
    description: "A user sees their own bookings, the admin everyone's; either may filter by `event_id` and `status`.",
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
    summary: 'One booking',
    description: 'For its owner or the admin; anyone else gets 404 `booking-not-found`, as for an id that names no booking.',
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
    description:
      "For its owner or the admin (anyone else's booking is a 404). A CONFIRMED booking counts as refunded: it leaves `tickets_sold` and `revenue`. 409 `invalid-booking-status` for a booking already CANCELLED.",
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
    summary: 'Pay a PENDING booking before its hold expires: it becomes CONFIRMED',
    description:
      "For its owner (anyone else's booking is a 404). A simulated gateway: `tok_declined` is declined (402; the booking stays PENDING and may be paid again before it expires), `tok_error` is a gateway fault (502; nothing charged), any other `tok_[a-z0-9_]+` succeeds. " +
      '409 `hold-expired` at or after `expires_at`, whether or not the expiry has been processed; `invalid-booking-status` when the booking is not PENDING; `idempotency-in-progress`.',
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

import { type Booking, toBookingView } from '../lib/domain/booking';
import { InsufficientTicketsError, PaymentDeclinedError, PaymentGatewayError } from '../lib/domain/errors';
import { httpRoute } from '../lib/http/handler';
import { idempotentRoute } from '../lib/http/idempotent-route';
import { counted, publishMetrics } from '../lib/http/metrics';
import { bookingsRoutes as routes } from '../lib/http/routes/bookings';
import { cancelBooking, createBooking, getBooking, listBookings } from '../lib/usecases/bookings';
import { payBooking } from '../lib/usecases/holds';
import { stores } from '../lib/wiring/stores';
import { bookingDeps, gateway } from '../lib/wiring/booking-deps';

export const create = idempotentRoute(routes.createBooking, stores.idempotency, {
  run: ({ body, caller }, complete) =>
    counted(createBooking(bookingDeps, { user_id: caller.user_id, ...body }, complete), 'BookingsCreated', [
      [InsufficientTicketsError, 'BookingsRefusedSoldOut'],
    ]),
  respond: (booking: Booking) => ({ status: 201, headers: { location: `/bookings/${booking.id}` }, body: toBookingView(booking) }),
}).use(publishMetrics());

export const list = httpRoute(routes.listBookings, async ({ caller, query }) => {
  const { event_id, status, ...page } = query;
  const result = await listBookings(stores.bookings, caller, { event_id, status }, page);
  return { body: { items: result.items.map(toBookingView), next_cursor: result.next_cursor } };
});

export const get = httpRoute(routes.getBooking, async ({ caller, params }) => ({
  body: toBookingView(await getBooking(stores.bookings, params.id, caller)),
}));

export const cancel = httpRoute(routes.cancelBooking, async ({ caller, params }) => ({
  body: toBookingView(await cancelBooking(bookingDeps, params.id, caller)),
}));

export const pay = idempotentRoute(routes.payBooking, stores.idempotency, {
  run: ({ body, caller, params }, complete) =>
    counted(payBooking({ ...bookingDeps, gateway }, params.id, caller, body.payment_token, complete), 'PaymentsConfirmed', [
      [PaymentDeclinedError, 'PaymentsDeclined'],
      [PaymentGatewayError, 'PaymentGatewayErrors'],
    ]),
  respond: (booking: Booking) => ({ status: 200, body: toBookingView(booking) }),
}).use(publishMetrics());

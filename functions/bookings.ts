import { type Booking, toBookingView } from '../lib/domain/booking';
import { httpRoute } from '../lib/http/handler';
import { idempotencyKeyOf, idempotently, requestFingerprint } from '../lib/http/idempotency';
import { counted } from '../lib/http/metrics';
import { InsufficientTicketsError, PaymentDeclinedError, PaymentGatewayError } from '../lib/domain/errors';
import { bookingsRoutes as routes } from '../lib/http/routes/bookings';
import { cancelBooking, createBooking, getBooking, listBookings } from '../lib/usecases/bookings';
import { payBooking } from '../lib/usecases/holds';
import { bookingDeps, gateway } from '../lib/booking-wiring';
import { stores } from '../lib/wiring';

export const create = httpRoute(routes.createBooking, async ({ body, caller, headers, path, requestId }) => {
  const key = idempotencyKeyOf(headers);
  const scope = key === undefined ? undefined : { user_id: caller.user_id, operation: 'POST /bookings', key };
  return idempotently(stores.idempotency, scope, requestFingerprint(path, body), requestId, async (complete) => {
    const respond = (booking: Booking) => ({
      status: 201,
      headers: { location: `/bookings/${booking.id}` },
      body: toBookingView(booking),
    });
    const booking = await counted(
      createBooking(bookingDeps, { user_id: caller.user_id, ...body }, complete && ((b) => complete(respond(b)))),
      'BookingsCreated',
      [[InsufficientTicketsError, 'BookingsRefusedSoldOut']],
    );
    return respond(booking);
  });
});

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

export const pay = httpRoute(routes.payBooking, async ({ body, caller, params, headers, path, requestId }) => {
  const key = idempotencyKeyOf(headers);
  const scope = key === undefined ? undefined : { user_id: caller.user_id, operation: `POST /bookings/${params.id}/payment`, key };
  return idempotently(stores.idempotency, scope, requestFingerprint(path, body), requestId, async (complete) => {
    const respond = (booking: Booking) => ({ status: 200, body: toBookingView(booking) });
    const booking = await counted(
      payBooking({ ...bookingDeps, gateway }, params.id, caller, body.payment_token, complete && ((b) => complete(respond(b)))),
      'PaymentsConfirmed',
      [
        [PaymentDeclinedError, 'PaymentsDeclined'],
        [PaymentGatewayError, 'PaymentGatewayErrors'],
      ],
    );
    return respond(booking);
  });
});

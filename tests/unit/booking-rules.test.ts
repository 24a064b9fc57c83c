import {
  type Booking,
  cancelBooking,
  confirmDelta,
  holdDelta,
  planBooking,
  releaseDelta,
  toBookingView,
  toEventStats,
  ZERO_COUNTERS,
} from '../../lib/domain/booking';
import { applyDelta } from '../support/counters';
import { BookingStatusError, EventStartedError, PerUserLimitError, ValidationError } from '../../lib/domain/errors';
import { CreateEventBody, type Event, type EventWithStock, newEvent } from '../../lib/domain/event';

const now = new Date('2026-06-01T12:00:00.000Z');
const event = (fields: Record<string, unknown> = {}): Event =>
  newEvent(
    CreateEventBody.parse({ name: 'Gig', date_time: '2026-07-01T20:00:00Z', total_tickets: 10, ticket_price: 0.1, ...fields }),
    'e1',
    new Date('2026-05-01T00:00:00Z'),
  );
/** An event whose shards add up to every ticket available and every counter at zero. */
const stocked = (fields: Record<string, unknown> = {}): EventWithStock => {
  const e = event(fields);
  return { ...e, ...ZERO_COUNTERS, available_tickets: e.total_tickets };
};
const request = (quantity: number, userTickets = 0) => ({ id: 'b1', user_id: 'u1', quantity, userTickets });

describe('planning a booking', () => {
  it('holds the tickets, PENDING, priced at the event price, until the hold expires', () => {
    const booking = planBooking(event(), request(3), now, 900);
    expect(booking).toMatchObject({
      status: 'PENDING',
      quantity: 3,
      unit_price_cents: 10,
      amount_cents: 30,
      created_at: '2026-06-01T12:00:00.000Z',
      expires_at: '2026-06-01T12:15:00.000Z',
      confirmed_at: null,
      cancelled_at: null,
      cancel_reason: null,
    });
    expect(toBookingView(booking).amount).toBe(0.3);
  });

  it('is refused for a quantity over the event limit, as a validation problem', () => {
    expect(() => planBooking(event({ max_per_booking: 2 }), request(3), now, 900)).toThrow(ValidationError);
  });

  it('is refused once the event has started', () => {
    expect(() => planBooking(event({ date_time: now.toISOString() }), request(1), now, 900)).toThrow(EventStartedError);
  });

  it('is refused when it would take the user over max_per_user', () => {
    expect(() => planBooking(event({ max_per_user: 4 }), request(2, 3), now, 900)).toThrow(PerUserLimitError);
    expect(planBooking(event({ max_per_user: 4 }), request(1, 3), now, 900).quantity).toBe(1);
  });
});

describe('counters', () => {
  const booking = (status: Booking['status']): Booking => ({ ...planBooking(event(), request(3), now, 900), status });

  it('a hold moves tickets from available to held', () => {
    const after = applyDelta(stocked(), holdDelta(booking('PENDING')));
    expect(after).toMatchObject({ available_tickets: 7, tickets_held: 3, bookings_pending: 1 });
  });

  it('cancelling a PENDING booking releases its tickets', () => {
    const held = applyDelta(stocked(), holdDelta(booking('PENDING')));
    const after = applyDelta(held, releaseDelta(booking('PENDING')));
    expect(after).toMatchObject({ available_tickets: 10, tickets_held: 0, bookings_pending: 0, bookings_cancelled: 1 });
  });

  it('cancelling a CONFIRMED booking refunds it: tickets and revenue leave the sold figures', () => {
    const held = applyDelta(stocked(), holdDelta(booking('PENDING')));
    const sold = applyDelta(held, confirmDelta(booking('PENDING')));
    expect(sold).toMatchObject({ tickets_sold: 3, revenue_cents: 30, tickets_held: 0, bookings_confirmed: 1 });
    const refunded = applyDelta(sold, releaseDelta(booking('CONFIRMED')));
    expect(refunded).toMatchObject({ available_tickets: 10, tickets_sold: 0, revenue_cents: 0, bookings_confirmed: 0, bookings_cancelled: 1 });
  });

  it('keeps sold + held + available equal to the total through any sequence', () => {
    let state = stocked({ total_tickets: 50 });
    const live: Booking[] = [];
    for (let i = 0; i < 200; i++) {
      const roll = (i * 7919) % 3;
      if (roll === 0 && state.available_tickets >= 2) {
        const b = { ...planBooking(state, request(2), now, 900), id: `b${i}` };
        state = applyDelta(state, holdDelta(b));
        live.push(b);
      } else if (roll === 1 && live.length > 0) {
        const b = live.shift()!;
        state = applyDelta(state, confirmDelta(b));
        live.push({ ...b, status: 'CONFIRMED' });
      } else if (live.length > 0) {
        state = applyDelta(state, releaseDelta(live.pop()!));
      }
      const stats = toEventStats(state);
      expect(stats.tickets_sold + stats.tickets_held + stats.tickets_available).toBe(50);
    }
  });

  it('a CANCELLED booking cannot be cancelled again', () => {
    expect(() => cancelBooking(booking('CANCELLED'), 'USER_CANCELLED', now)).toThrow(BookingStatusError);
    expect(() => releaseDelta(booking('CANCELLED'))).toThrow(BookingStatusError);
  });

  it('a cancellation records when and why', () => {
    expect(cancelBooking(booking('PENDING'), 'USER_CANCELLED', now)).toMatchObject({
      status: 'CANCELLED',
      cancelled_at: now.toISOString(),
      cancel_reason: 'USER_CANCELLED',
    });
  });
});

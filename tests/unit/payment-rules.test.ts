import {
  assertPayable,
  type Booking,
  paidBooking,
  expireBooking,
  holdDelta,
  holdExpired,
  planBooking,
  releaseDelta,
  ZERO_COUNTERS,
} from '../../lib/domain/booking';
import { applyDelta } from '../support/counters';
import { BookingStatusError, HoldExpiredError, PaymentDeclinedError, PaymentGatewayError } from '../../lib/domain/errors';
import { CreateEventBody, type Event, newEvent } from '../../lib/domain/event';
import { simulatedGateway } from '../../lib/adapters/simulated-gateway';

const created = new Date('2026-06-01T12:00:00.000Z');
const expiresAt = new Date('2026-06-01T12:15:00.000Z');
const ms = (offset: number) => new Date(expiresAt.getTime() + offset);

const event = (): Event =>
  newEvent(
    CreateEventBody.parse({ name: 'Gig', date_time: '2026-07-01T20:00:00Z', total_tickets: 10, ticket_price: '12.50' }),
    'e1',
    new Date('2026-05-01T00:00:00Z'),
  );
/** A booking of 3 tickets made at `created`, holding them for 900 s (until `expiresAt`). */
const booking = (fields: Partial<Booking> = {}): Booking => ({
  ...planBooking(event(), { id: 'b1', user_id: 'u1', quantity: 3, userTickets: 0 }, created, 900),
  ...fields,
});

describe('paying a booking', () => {
  it('confirms a PENDING booking before its hold expires, recording when and with which payment', () => {
    const paidAt = ms(-1);

    const paid = paidBooking(booking(), 'pay_123', paidAt);

    expect(() => assertPayable(booking(), paidAt)).not.toThrow();
    expect(paid).toMatchObject({ status: 'CONFIRMED', confirmed_at: paidAt.toISOString(), payment_id: 'pay_123' });
  });

  it('leaves the cancellation fields empty on a confirmed booking', () => {
    const paid = paidBooking(booking(), 'pay_123', ms(-1));

    expect(paid).toMatchObject({ cancelled_at: null, cancel_reason: null });
  });

  it('is refused at exactly expires_at with HoldExpiredError', () => {
    expect(() => assertPayable(booking(), expiresAt)).toThrow(HoldExpiredError);
  });

  it('is refused after expires_at with HoldExpiredError', () => {
    expect(() => assertPayable(booking(), ms(60_000))).toThrow(HoldExpiredError);
  });

  it('is refused for a CONFIRMED booking with BookingStatusError', () => {
    const paid = booking({ status: 'CONFIRMED', confirmed_at: created.toISOString(), payment_id: 'pay_1' });

    expect(() => assertPayable(paid, ms(-1))).toThrow(BookingStatusError);
  });

  it('is refused for a CANCELLED booking with BookingStatusError', () => {
    const cancelled = booking({ status: 'CANCELLED', cancelled_at: created.toISOString(), cancel_reason: 'USER_CANCELLED' });

    expect(() => assertPayable(cancelled, ms(-1))).toThrow(BookingStatusError);
  });

  it('of a booking that is not PENDING is a status problem even after expiry', () => {
    const cancelled = booking({ status: 'CANCELLED', cancelled_at: expiresAt.toISOString(), cancel_reason: 'PAYMENT_TIMEOUT' });

    expect(() => assertPayable(cancelled, ms(1))).toThrow(BookingStatusError);
  });
});

describe('the hold', () => {
  it('is running one millisecond before expires_at', () => {
    expect(holdExpired(booking(), ms(-1))).toBe(false);
  });

  it('has run out at exactly expires_at', () => {
    expect(holdExpired(booking(), expiresAt)).toBe(true);
  });
});

describe('expiring a hold', () => {
  it('cancels an expired PENDING booking with PAYMENT_TIMEOUT', () => {
    const expired = expireBooking(booking(), expiresAt);

    expect(expired).toMatchObject({ status: 'CANCELLED', cancel_reason: 'PAYMENT_TIMEOUT', cancelled_at: expiresAt.toISOString() });
  });

  it('returns the tickets of the expired booking through its release delta', () => {
    const pending = booking();
    const held = applyDelta({ ...ZERO_COUNTERS, available_tickets: 10 }, holdDelta(pending));

    const after = applyDelta(held, releaseDelta(pending));

    expect(after).toMatchObject({
      available_tickets: 10,
      tickets_held: 0,
      tickets_sold: 0,
      revenue_cents: 0,
      bookings_pending: 0,
      bookings_cancelled: 1,
    });
  });

  it('does nothing to a paid (CONFIRMED) booking', () => {
    const paid = booking({ status: 'CONFIRMED', confirmed_at: created.toISOString(), payment_id: 'pay_1' });

    expect(expireBooking(paid, ms(1))).toBeNull();
  });

  it('does nothing to a CANCELLED booking', () => {
    const cancelled = booking({ status: 'CANCELLED', cancelled_at: created.toISOString(), cancel_reason: 'USER_CANCELLED' });

    expect(expireBooking(cancelled, ms(1))).toBeNull();
  });

  it('does nothing before expires_at', () => {
    expect(expireBooking(booking(), ms(-1))).toBeNull();
  });
});

describe('the simulated gateway', () => {
  const gateway = simulatedGateway({ latencyMs: 0 });
  const charge = (token: string, reference = 'b1') => gateway.charge({ reference, amount_cents: 3750, token });

  afterEach(() => jest.useRealTimers());

  it('declines tok_declined with PaymentDeclinedError', async () => {
    await expect(charge('tok_declined')).rejects.toBeInstanceOf(PaymentDeclinedError);
  });

  it('fails tok_error with PaymentGatewayError', async () => {
    await expect(charge('tok_error')).rejects.toBeInstanceOf(PaymentGatewayError);
  });

  it('charges any other token and returns a payment_id', async () => {
    const { payment_id } = await charge('tok_visa');

    expect(payment_id).toMatch(/^pay_[0-9a-f]+$/);
  });

  it('returns the same payment_id for the same reference charged twice, so a retry never charges twice', async () => {
    const first = await charge('tok_visa', 'booking-42');

    const second = await charge('tok_mastercard', 'booking-42');

    expect(second.payment_id).toBe(first.payment_id);
  });

  it('returns different payment_ids for different references', async () => {
    const first = await charge('tok_visa', 'booking-1');

    const second = await charge('tok_visa', 'booking-2');

    expect(second.payment_id).not.toBe(first.payment_id);
  });

  it('answers a charge only once its latency has passed', async () => {
    jest.useFakeTimers();
    const slow = simulatedGateway({ latencyMs: 100 });
    let answered = false;
    const charging = slow.charge({ reference: 'b1', amount_cents: 100, token: 'tok_visa' }).then(() => (answered = true));

    await jest.advanceTimersByTimeAsync(99);
    const beforeLatency = answered;
    await jest.advanceTimersByTimeAsync(1);
    await charging;

    expect({ beforeLatency, afterLatency: answered }).toEqual({ beforeLatency: false, afterLatency: true });
  });

  it('declines only once its latency has passed', async () => {
    jest.useFakeTimers();
    const slow = simulatedGateway({ latencyMs: 100 });
    let settled = false;
    const declining = slow.charge({ reference: 'b1', amount_cents: 100, token: 'tok_declined' }).catch((error: unknown) => {
      settled = true;
      return error;
    });

    await jest.advanceTimersByTimeAsync(99);
    const beforeLatency = settled;
    await jest.advanceTimersByTimeAsync(1);

    expect(beforeLatency).toBe(false);
    expect(await declining).toBeInstanceOf(PaymentDeclinedError);
  });

  it('refunds only once its latency has passed', async () => {
    jest.useFakeTimers();
    const slow = simulatedGateway({ latencyMs: 100 });
    let refunded = false;
    const refunding = slow.refund('pay_1').then(() => (refunded = true));

    await jest.advanceTimersByTimeAsync(99);
    const beforeLatency = refunded;
    await jest.advanceTimersByTimeAsync(1);
    await refunding;

    expect({ beforeLatency, afterLatency: refunded }).toEqual({ beforeLatency: false, afterLatency: true });
  });
});

import { assertPayable, type Booking, confirmDelta, expireBooking, paidBooking, releaseDelta } from '../domain/booking';
import type { Caller } from '../domain/caller';
import { BookingStatusError, HoldExpiredError } from '../domain/errors';
import type { IdempotencyCompletion, PaymentGateway } from '../ports';
import { RETRY, withRetry } from '../store/retry';
import { type BookingDeps, getBooking } from './bookings';

/**
 * Pays a booking and confirms it.
 * 1. Read it: 404 unless the caller owns it; 409 unless PENDING and unexpired.
 * 2. Charge the gateway, once: a decline is a 402 and a gateway fault a 502, both
 *    with the booking unchanged (it may be paid again before it expires). The
 *    charge is referenced by the booking, so a retried payment never charges twice.
 * 3. Confirm in one transaction conditioned on `status = PENDING` and
 *    `expires_at > now`: the tickets move from held to sold and the amount into
 *    revenue. Only this step is retried (transaction conflicts, throttling).
 * 4. If it does not confirm (the hold ran out during the charge, the expiry won the
 *    race, the retries ran out), the charge is refunded, whatever the error.
 */
export async function payBooking(
  deps: BookingDeps & { gateway: PaymentGateway },
  id: string,
  caller: Caller,
  token: string,
  complete?: (booking: Booking) => IdempotencyCompletion,
): Promise<Booking> {
  const booking = await getBooking(deps.bookings, id, caller);
  assertPayable(booking, deps.clock()); // 409 before anything is charged
  const { payment_id } = await deps.gateway.charge({ reference: booking.id, amount_cents: booking.amount_cents, token });
  try {
    return await withRetry(async () => {
      const paidAt = deps.clock();
      const next = paidBooking(booking, payment_id, paidAt);
      const outcome = await deps.bookings.transition(booking, next, {
        delta: confirmDelta(booking),
        tallyDelta: 0,
        hold: { must: 'be-running', now: paidAt },
        idempotency: complete?.(next),
      });
      if (outcome === RETRY) return RETRY;
      if (outcome.kind === 'done') return outcome.booking;
      const current = outcome.current;
      // Our own confirmation, applied on an earlier try whose answer was lost.
      if (current?.status === 'CONFIRMED' && current.payment_id === payment_id) return current;
      if (current && current.status !== 'PENDING') throw new BookingStatusError(current.status, 'paid');
      throw new HoldExpiredError(booking.expires_at);
    });
  } catch (error) {
    await deps.gateway.refund(payment_id);
    throw error;
  }
}

export type ExpiryResult = 'expired' | 'not-found' | 'already-final' | 'not-yet-due';

/**
 * Ends a hold that ran out: the booking becomes CANCELLED (PAYMENT_TIMEOUT) and its
 * tickets go back on sale, in one transaction conditioned on `status = PENDING`
 * and `expires_at <= now`. A booking paid or cancelled meanwhile is left alone, so
 * running this twice, or late, or racing a payment, is harmless: exactly one of
 * payment and expiry wins.
 */
export function expireHold(deps: BookingDeps, id: string): Promise<ExpiryResult> {
  return withRetry(async () => {
    const booking = await deps.bookings.get(id);
    if (!booking) return 'not-found';
    const now = deps.clock();
    const next = expireBooking(booking, now);
    if (!next) return booking.status === 'PENDING' ? 'not-yet-due' : 'already-final';
    const outcome = await deps.bookings.transition(booking, next, {
      delta: releaseDelta(booking),
      tallyDelta: -booking.quantity,
      hold: { must: 'have-expired', now },
    });
    if (outcome === RETRY || outcome.kind === 'status-changed') return RETRY;
    return 'expired';
  });
}

/**
 * The safety net: expires every PENDING booking whose hold ran out and that no
 * execution ended (an execution lost, a local stack restarted mid-hold).
 */
export async function sweepExpiredHolds(deps: BookingDeps, limit = 500): Promise<{ found: number; expired: number }> {
  const due = await deps.bookings.expiredPending(deps.clock(), limit);
  const results = await Promise.all(due.map((booking) => expireHold(deps, booking.id)));
  return { found: due.length, expired: results.filter((r) => r === 'expired').length };
}

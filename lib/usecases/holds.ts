import { randomUUID } from 'node:crypto';
import { assertPayable, type Booking, confirmDelta, expireBooking, paidBooking } from '../domain/booking';
import type { Caller } from '../domain/caller';
import { AppError, BookingStatusError, HoldExpiredError, ServiceUnavailableError } from '../domain/errors';
import type { IdempotencyCompletion, PaymentGateway } from '../ports';
import { RETRY, withRetry } from '../store/retry';
import { type BookingDeps, getBooking, releaseChange } from './bookings';

/**
 * Pays a booking and confirms it.
 * 1. Read it: 404 unless the caller owns it; 409 unless PENDING and unexpired.
 * 2. Charge the gateway, once: a decline is a 402 and a gateway fault a 502, both
 *    with the booking unchanged (it may be paid again before it expires). The
 *    charge is referenced by the booking, so a retried payment never charges twice.
 * 3. Confirm in one transaction conditioned on `status = PENDING` and
 *    `expires_at > now`: the tickets move from held to sold and the amount into
 *    revenue. Only this step is retried (transaction conflicts, throttling).
 * 4. If it does not confirm, the charge is refunded, but only once the booking is
 *    known not to be confirmed by it: a refusal (the hold ran out during the
 *    charge, the expiry won the race) says so; an unknown outcome (the retries ran
 *    out, an answer was lost) is resolved by reading the booking. A confirmation
 *    that did land is the success it is; one that cannot be read is never refunded
 *    on a guess (a 503: the client's retry charges the same reference once and
 *    finds the booking confirmed or confirms it).
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
  const changeId = randomUUID();
  try {
    return await withRetry(async () => {
      const paidAt = deps.clock();
      const next = paidBooking(booking, payment_id, paidAt);
      const outcome = await deps.bookings.transition(booking, next, {
        changeId,
        delta: confirmDelta(booking),
        tallyDelta: 0,
        hold: { must: 'be-running', now: paidAt },
        idempotency: complete?.(next),
        entry: { to: 'ACCEPTED', now: paidAt },
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
    if (error instanceof AppError && error.kind === 'conflict') {
      // Refused by the table itself: the booking is not confirmed by this charge.
      await deps.gateway.refund(payment_id);
      throw error;
    }
    const current = await readAfterUnknownOutcome(deps, booking.id, payment_id, error);
    if (current.status === 'CONFIRMED' && current.payment_id === payment_id) return current;
    await deps.gateway.refund(payment_id);
    throw error;
  }
}

/**
 * The booking as the table has it after a confirmation whose outcome is unknown.
 * If even that cannot be read, the charge stands and the client is told to retry.
 */
async function readAfterUnknownOutcome(deps: BookingDeps, id: string, paymentId: string, cause: unknown): Promise<Booking> {
  try {
    return await withRetry(async () => (await deps.bookings.get(id)) ?? RETRY);
  } catch {
    throw new ServiceUnavailableError(
      `The payment ${paymentId} was charged but its confirmation could not be checked; retry the payment to complete it (it will not be charged twice)`,
      2,
      { cause },
    );
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
  const changeId = randomUUID();
  return withRetry(async () => {
    const booking = await deps.bookings.get(id);
    if (!booking) return 'not-found';
    if (booking.status === 'CANCELLED' && booking.change_id === changeId) return 'expired';
    const now = deps.clock();
    const next = expireBooking(booking, now);
    if (!next) return booking.status === 'PENDING' ? 'not-yet-due' : 'already-final';
    const outcome = await deps.bookings.transition(booking, next, {
      changeId,
      ...(await releaseChange(deps, booking)),
      tallyDelta: -booking.quantity,
      hold: { must: 'have-expired', now },
      entry: { to: 'EXPIRED', now },
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
  const results = await Promise.all(due.map((id) => expireHold(deps, id)));
  return { found: due.length, expired: results.filter((r) => r === 'expired').length };
}

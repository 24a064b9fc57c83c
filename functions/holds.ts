import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import * as z from 'zod';
import { logger } from '../lib/http/logger';
import { count, publishMetrics } from '../lib/http/metrics';
import { requireEvent } from '../lib/invocation';
import { expireHold, type ExpiryResult, sweepExpiredHolds } from '../lib/usecases/holds';
import { bookingDeps } from '../lib/wiring/with-step-functions';

/** The booking-hold state machine's input, which it passes on to this function. */
const ExpireInput = z.looseObject({ booking_id: z.string().min(1) });

/** Thrown so that the state machine's Retry tries again: its clock fired before expires_at. */
class HoldNotYetDueError extends Error {
  override name = 'HoldNotYetDue';
}

/**
 * Invoked by the booking-hold state machine at `expires_at`. Ends the hold unless
 * the booking was paid or cancelled meanwhile; running twice or late is harmless.
 */
export const expire = middy<z.infer<typeof ExpireInput>, { booking_id: string; result: ExpiryResult }>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(requireEvent(ExpireInput, '{ "booking_id": "<the id of the booking whose hold ends>" }'))
  .use(publishMetrics())
  .handler(async ({ booking_id }) => {
    const result = await expireHold(bookingDeps, booking_id);
    logger.info('hold ended', { booking_id, result });
    if (result === 'expired') count('HoldsExpired');
    if (result === 'not-yet-due') throw new HoldNotYetDueError(`Booking ${booking_id} is not due yet`);
    return { booking_id, result };
  });

/** Every minute: expires PENDING bookings whose hold ran out and that no execution ended. */
export const sweep = middy<unknown, { found: number; expired: number }>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(publishMetrics())
  .handler(async () => {
    const result = await sweepExpiredHolds(bookingDeps);
    if (result.found > 0) logger.warn('sweeper ended holds that no execution ended', result);
    count('HoldsSwept', result.expired);
    return result;
  });

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import * as z from 'zod';
import { logger } from '../lib/http/logger';
import { count, publishMetrics } from '../lib/http/metrics';
import { requireEvent } from '../lib/invocation';
import { expireHolds, MAX_HOLDS_PER_BATCH } from '../lib/usecases/hold-timers';
import { type ExpiryResult, sweepExpiredHolds } from '../lib/usecases/holds';
import { bookingDeps } from '../lib/wiring/booking-deps';

/** The booking-hold state machine's input, which it passes on to this function: a batch of holds. */
const ExpireInput = z.object({ booking_ids: z.array(z.string().min(1)).min(1).max(MAX_HOLDS_PER_BATCH) });
type ExpireInput = z.infer<typeof ExpireInput>;

interface ExpireOutput {
  holds: number;
  expired: number;
  already_final: number;
  not_found: number;
}

/** Thrown so that the state machine's Retry tries again: its clock fired before expires_at. */
class HoldNotYetDueError extends Error {
  override name = 'HoldNotYetDue';
}

/** Thrown so that the state machine's Retry tries the batch again: some of its holds could not be ended yet. */
class HoldsNotEndedError extends Error {
  override name = 'HoldsNotEnded';
}

/**
 * Invoked by the booking-hold state machine once the batch's holds have run out.
 * Ends each hold unless its booking was paid or cancelled meanwhile; running twice
 * or late is harmless. A hold not ended (not yet due, or its expiry failed) fails
 * the invocation once every other hold has been ended, so that the Retry tries
 * again and finds the ended ones final.
 */
export const expire = middy<ExpireInput, ExpireOutput>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(requireEvent(ExpireInput, '{ "booking_ids": ["<the ids of the bookings whose holds end>"] }'))
  .use(publishMetrics())
  .handler(async (input) => {
    const { results, failures } = await expireHolds(bookingDeps, input.booking_ids);
    const outcomes = Object.values(results);
    const tally = (result: ExpiryResult) => outcomes.filter((r) => r === result).length;
    const output = { holds: input.booking_ids.length, expired: tally('expired'), already_final: tally('already-final'), not_found: tally('not-found') };
    count('HoldsExpired', output.expired);
    const notYetDue = Object.keys(results).filter((id) => results[id] === 'not-yet-due');
    logger.info('holds ended', { ...output, not_yet_due: notYetDue.length, failed: failures.length });
    if (output.not_found > 0) {
      // Bookings are never deleted: a timer for one that does not exist was started for nothing.
      logger.warn('holds of bookings that do not exist', { booking_ids: Object.keys(results).filter((id) => results[id] === 'not-found') });
    }
    if (failures.length > 0) {
      logger.warn('holds not ended: the state machine retries the batch', { failures });
      throw new HoldsNotEndedError(`${failures.length} of ${output.holds} holds could not be ended yet`, { cause: failures[0]!.error });
    }
    if (notYetDue.length > 0) throw new HoldNotYetDueError(`${notYetDue.length} of ${output.holds} holds are not due yet (${notYetDue[0]}, ...)`);
    return output;
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

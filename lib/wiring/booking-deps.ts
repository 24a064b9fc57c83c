import { simulatedGateway } from '../adapters/simulated-gateway';
import { config } from '../config';
import { systemClock } from '../domain/time';
import { logger } from '../http/logger';
import { recentEvents } from '../store/recent-events';
import type { BookingDeps } from '../usecases/bookings';
import { stores } from './stores';

/**
 * What the booking and hold functions run with besides the stores: the copy of
 * recently read events, the hold's length, the clock, and the payment gateway.
 * Only their bundles import it.
 */
export const bookingDeps: BookingDeps = {
  events: recentEvents(stores.events),
  bookings: stores.bookings,
  stock: stores.events.stock,
  waitlist: stores.waitlist,
  holdSeconds: config.HOLD_SECONDS,
  clock: systemClock,
  log: (message, data) => logger.error(message, data),
};

export const gateway = simulatedGateway({
  latencyMs: config.PAYMENT_LATENCY_MS,
  log: (message, data) => logger.info(message, { ...data }),
});

import { config } from '../config';
import { systemClock } from '../domain/time';
import { logger } from '../http/logger';
import type { WaitlistDeps } from '../usecases/waitlist';
import { stores } from './stores';

/** What the waiting-list functions run with: the stores, the offer's hold, the clock. */
export const waitlistDeps: WaitlistDeps = {
  events: stores.events,
  bookings: stores.bookings,
  stock: stores.events.stock,
  waitlist: stores.waitlist,
  offerSeconds: config.WAITLIST_OFFER_SECONDS ?? config.HOLD_SECONDS,
  clock: systemClock,
  log: (message, data) => logger.error(message, data),
};

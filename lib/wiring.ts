import { sfnClient, stepFunctionsHoldTimer } from './adapters/hold-timer';
import { simulatedGateway } from './adapters/simulated-gateway';
import { config } from './config';
import { systemClock } from './domain/time';
import { logger } from './http/logger';
import { bookingStore } from './store/bookings';
import { documentClient, type Table } from './store/client';
import { eventStore } from './store/events';
import { idempotencyStore } from './store/idempotency';
import { userStore } from './store/users';
import type { BookingDeps } from './usecases/bookings';

/** The stores of a running function: the configured table, the process-wide client. */
export const table: Table = { client: documentClient(), name: config.TABLE_NAME };
export const stores = {
  events: eventStore(table),
  users: userStore(table),
  bookings: bookingStore(table),
  idempotency: idempotencyStore(table),
};

export const bookingDeps: BookingDeps = {
  events: stores.events,
  bookings: stores.bookings,
  holds: stepFunctionsHoldTimer(sfnClient(), config.HOLD_STATE_MACHINE_ARN),
  holdSeconds: config.HOLD_SECONDS,
  clock: systemClock,
};

export const gateway = simulatedGateway({
  latencyMs: config.PAYMENT_LATENCY_MS,
  log: (message, data) => logger.info(message, { ...data }),
});

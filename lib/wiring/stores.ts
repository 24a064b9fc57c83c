import { config } from '../config';
import { bookingStore } from '../store/bookings';
import { documentClient, type Table } from '../store/client';
import { eventStore } from '../store/events';
import { idempotencyStore } from '../store/idempotency';
import { userStore } from '../store/users';

/**
 * What every function runs with: the stores of the configured table, on the
 * process-wide DynamoDB client. Nothing here loads the Step Functions client: the
 * functions that need it (bookings, holds) import lib/wiring/with-step-functions.ts
 * as well, and the others (users, events, the authorizer) stay without it, since
 * every SDK client a bundle loads adds to its cold start.
 */
export const table: Table = { client: documentClient(), name: config.TABLE_NAME };
export const stores = {
  events: eventStore(table),
  users: userStore(table),
  bookings: bookingStore(table),
  idempotency: idempotencyStore(table),
};

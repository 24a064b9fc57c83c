import { documentClient, type Table } from './store/client';
import { bookingStore } from './store/bookings';
import { eventStore } from './store/events';
import { idempotencyStore } from './store/idempotency';
import { userStore } from './store/users';
import { config } from './config';

/**
 * The stores of a running function: the configured table, the process-wide client.
 * What only the booking functions need (Step Functions, the payment gateway) is in
 * lib/booking-wiring.ts, so that the other bundles never load the Step Functions
 * client: every SDK client a bundle requires adds to its cold start.
 */
export const table: Table = { client: documentClient(), name: config.TABLE_NAME };
export const stores = {
  events: eventStore(table),
  users: userStore(table),
  bookings: bookingStore(table),
  idempotency: idempotencyStore(table),
};

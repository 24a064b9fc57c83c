import { config } from '../config';
import { bookingStore } from '../store/bookings';
import { documentClient, type Table } from '../store/client';
import { eventStore } from '../store/events';
import { idempotencyStore } from '../store/idempotency';
import { userStore } from '../store/users';
import { waitlistStore } from '../store/waitlist';
import { webhookStore } from '../store/webhooks';

/**
 * What every function runs with: the stores of the configured table, on the
 * process-wide DynamoDB client. The booking and hold functions import
 * lib/wiring/booking-deps.ts as well; the stream consumer that starts hold
 * timers imports only lib/wiring/hold-timer.ts (the Step Functions client),
 * since every SDK client a bundle loads adds to its cold start.
 */
export const table: Table = { client: documentClient(), name: config.TABLE_NAME };
export const stores = {
  events: eventStore(table),
  users: userStore(table),
  bookings: bookingStore(table),
  idempotency: idempotencyStore(table),
  waitlist: waitlistStore(table),
  webhooks: webhookStore(table),
};

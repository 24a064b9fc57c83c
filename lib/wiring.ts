import { config } from './config';
import { documentClient, type Table } from './store/client';
import { eventStore } from './store/events';
import { userStore } from './store/users';

/** The stores of a running function: the configured table, the process-wide client. */
export const table: Table = { client: documentClient(), name: config.TABLE_NAME };
export const stores = {
  events: eventStore(table),
  users: userStore(table),
};

import { bookingsRoutes } from './bookings';
import { eventsRoutes } from './events';
import { serviceRoutes } from './service';
import { usersRoutes } from './users';
import { waitlistRoutes } from './waitlist';
import { webhooksRoutes } from './webhooks';

/**
 * Every operation of the API, for the OpenAPI document and the tests. A function
 * imports only its own area's routes (./events, ./bookings, ...): each route's
 * schemas are built when its module loads, and a bundle should build only its own.
 */
export const routes = { ...serviceRoutes, ...usersRoutes, ...eventsRoutes, ...bookingsRoutes, ...waitlistRoutes, ...webhooksRoutes };

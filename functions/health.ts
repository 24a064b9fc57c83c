import { httpRoute } from '../lib/http/handler';
import { serviceRoutes as routes } from '../lib/http/routes/service';

export const handler = httpRoute(routes.health, async () => ({ body: { status: 'ok' } }));

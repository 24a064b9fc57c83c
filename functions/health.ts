import { httpRoute } from '../lib/http/handler';
import { routes } from '../lib/http/routes';

export const handler = httpRoute(routes.health, async () => ({ body: { status: 'ok' } }));

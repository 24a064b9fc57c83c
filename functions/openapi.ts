import { httpRoute } from '../lib/http/handler';
import { buildOpenApiDocument } from '../lib/http/openapi';
import { routes } from '../lib/http/routes';

let document: ReturnType<typeof buildOpenApiDocument> | undefined;

export const handler = httpRoute(routes.openapi, async () => {
  document ??= buildOpenApiDocument();
  return { body: document };
});

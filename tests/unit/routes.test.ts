import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { buildOpenApiDocument } from '../../lib/http/openapi';
import type { RouteSpec } from '../../lib/http/route';
import { routes } from '../../lib/http/routes';

interface HttpApiEvent {
  httpApi: string | { method: string; path: string; authorizer?: { name: string } };
}

/** The routes serverless.yml deploys, as "METHOD /path", with whether the authorizer runs. */
function deployedRoutes(): Map<string, boolean> {
  // CloudFormation tags (!GetAtt, !Join) are not needed here: parse them as plain values.
  const doc = parseDocument(readFileSync(resolve(__dirname, '../../serverless.yml'), 'utf8'), { strict: false, logLevel: 'silent' });
  const functions = doc.toJS().functions as Record<string, { events?: HttpApiEvent[] }>;
  const deployed = new Map<string, boolean>();
  for (const fn of Object.values(functions)) {
    for (const event of fn.events ?? []) {
      if (event.httpApi === '*') continue; // the catch-all 404 (functions/not-found.ts), no operation
      if (typeof event.httpApi === 'string') deployed.set(event.httpApi, false);
      else if (event.httpApi) deployed.set(`${event.httpApi.method.toUpperCase()} ${event.httpApi.path}`, event.httpApi.authorizer?.name === 'caller');
    }
  }
  return deployed;
}

describe('the route registry', () => {
  const registry = Object.values(routes) as RouteSpec[];

  it('names exactly the routes serverless.yml deploys', () => {
    const registered = registry.map((r) => `${r.method.toUpperCase()} ${r.path}`).sort();
    expect(registered).toEqual([...deployedRoutes().keys()].sort());
  });

  it('runs the authorizer on every route that needs a key, and on no public one', () => {
    const deployed = deployedRoutes();
    for (const route of registry) {
      expect({ route: `${route.method} ${route.path}`, authorizer: deployed.get(`${route.method.toUpperCase()} ${route.path}`) }).toEqual({
        route: `${route.method} ${route.path}`,
        authorizer: route.access !== 'public',
      });
    }
  });

  it('generates an OpenAPI 3.1 document with every route and its problems', () => {
    const document = buildOpenApiDocument();
    expect(document.openapi).toBe('3.1.0');
    for (const route of registry) {
      const operation = document.paths?.[route.path]?.[route.method];
      expect(operation?.operationId).toBe(route.operationId);
      expect(Object.keys(operation?.responses ?? {})).toContain(String(route.success.status));
    }
    expect(document.components?.schemas).toHaveProperty('Event');
    expect(document.components?.schemas).toHaveProperty('Problem');
  });
});

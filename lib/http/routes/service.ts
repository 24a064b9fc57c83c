import * as z from 'zod';
import { defineRoute } from '../route';

/** The service's own routes. */
export const serviceRoutes = {
  health: defineRoute({
    operationId: 'health',
    method: 'get',
    path: '/health',
    summary: 'Liveness check',
    description: 'Answers while the function runs; it reads neither the table nor a key.',
    tag: 'Service',
    access: 'public',
    success: { status: 200, description: 'The service is up', schema: z.object({ status: z.literal('ok') }) },
    problems: [],
  }),
  openapi: defineRoute({
    operationId: 'openapi',
    method: 'get',
    path: '/openapi.json',
    summary: 'This OpenAPI 3.1 document',
    description: 'Generated from the zod schemas that validate every request, so it cannot disagree with them.',
    tag: 'Service',
    access: 'public',
    success: { status: 200, description: 'The OpenAPI document', schema: z.record(z.string(), z.unknown()) },
    problems: [],
  }),
};

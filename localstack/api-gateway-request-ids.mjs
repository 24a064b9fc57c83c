// Preloaded into `serverless offline` (node --import) by localstack/stack.ts.
//
// API Gateway gives every request its own id (`requestContext.requestId`), which
// the API returns in every problem's `request_id` and logs with every line, so
// that a client's report can be found in the logs. serverless-offline hands every
// HTTP API (payload 2.0) request the same constant, `offlineContext_resourceId`.
// This gives each request a fresh one, as API Gateway does, so the local stack
// behaves as AWS does and the product code needs no local case.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const offlineSource = dirname(createRequire(import.meta.url).resolve('serverless-offline'));
// The same file serverless-offline imports, so the same module instance.
const { default: HttpApiEvent } = await import(
  pathToFileURL(join(offlineSource, 'events/http/lambda-events/LambdaProxyIntegrationEventV2.js')).href
);

const create = HttpApiEvent.prototype.create;
HttpApiEvent.prototype.create = function createWithRequestId(...args) {
  const event = create.apply(this, args);
  event.requestContext.requestId = randomUUID();
  return event;
};

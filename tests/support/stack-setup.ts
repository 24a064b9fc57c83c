import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { freePort } from '../../localstack/processes';
import { type RunningStack, startStack } from '../../localstack/stack';

/**
 * The whole stack, as `npm start` runs it, but in memory, on free ports, with a
 * known admin key; its output goes to .data/e2e-stack.log.
 */
export default async function setup(): Promise<void> {
  const logFile = resolve(__dirname, '../../.data/e2e-stack.log');
  mkdirSync(resolve(logFile, '..'), { recursive: true });
  writeFileSync(logFile, '');
  const [httpPort, lambdaPort, dynamoDbPort] = [await freePort(), await freePort(), await freePort()];
  const adminApiKey = `adm_e2e_${Date.now()}_0123456789`;
  const stack = await startStack({
    httpPort,
    lambdaPort,
    dynamoDbPort,
    inMemory: true,
    adminApiKey,
    holdSeconds: 900,
    // Its own build folder, so it can run beside `npm start` or another test run.
    buildFolder: `.esbuild-e2e/${process.pid}`,
    log: (line) => appendFileSync(logFile, line),
  });
  process.env.E2E_BUILD_FOLDER = resolve(__dirname, '../..', `.esbuild-e2e/${process.pid}`);
  process.env.E2E_URL = stack.url;
  process.env.E2E_ADMIN_KEY = adminApiKey;
  process.env.E2E_DYNAMODB_ENDPOINT = stack.dynamoDbEndpoint;
  process.env.E2E_TABLE_NAME = stack.tableName;
  (globalThis as { __stack?: RunningStack }).__stack = stack;
}

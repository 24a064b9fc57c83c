import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { LikeAwsSettings } from './like-aws/settings';
import { freePort } from './processes';
import { type RunningStack, startStack } from './stack';

export interface IsolatedStack extends RunningStack {
  logFile: string;
}

/**
 * The whole stack as `npm start` runs it, but in memory, on free ports, with a
 * known admin key, building in its own folder (so it can run beside `npm start` or
 * another stack), its output in .data/<name>.log.
 */
export async function startIsolatedStack(
  name: string,
  settings: {
    holdSeconds?: number;
    /** How long a waiting-list offer holds its tickets; unset: as long as the hold. */
    waitlistOfferSeconds?: number;
    paymentLatencyMs?: number;
    /** DynamoDB data on disk, so it survives a restart. */
    fileBacked?: boolean;
    /** Run it like AWS (localstack/like-aws). */
    likeAws?: LikeAwsSettings;
  } = {},
): Promise<IsolatedStack> {
  const root = resolve(__dirname, '..');
  const logFile = resolve(root, `.data/${name}.log`);
  mkdirSync(resolve(logFile, '..'), { recursive: true });
  writeFileSync(logFile, '');
  const buildFolder = `.esbuild-e2e/${name}-${process.pid}`;
  const dataDir = resolve(root, `.data/${name}-dynamodb-${process.pid}`);
  const stack = await startStack({
    httpPort: await freePort(),
    lambdaPort: await freePort(),
    dynamoDbPort: await freePort(),
    stepFunctionsPort: await freePort(),
    sqsPort: 0,
    inMemory: !settings.fileBacked,
    dataDir,
    adminApiKey: `adm_${name}_${Date.now()}_0123456789`,
    holdSeconds: settings.holdSeconds ?? 900,
    waitlistOfferSeconds: settings.waitlistOfferSeconds,
    paymentLatencyMs: settings.paymentLatencyMs,
    likeAws: settings.likeAws,
    buildFolder,
    log: (line) => appendFileSync(logFile, line),
  });
  return {
    ...stack,
    logFile,
    async stop() {
      await stack.stop();
      rmSync(resolve(root, buildFolder), { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

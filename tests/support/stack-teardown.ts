import { rmSync } from 'node:fs';
import type { RunningStack } from '../../localstack/stack';

export default async function teardown(): Promise<void> {
  await (globalThis as { __stack?: RunningStack }).__stack?.stop();
  if (process.env.E2E_BUILD_FOLDER) rmSync(process.env.E2E_BUILD_FOLDER, { recursive: true, force: true });
}

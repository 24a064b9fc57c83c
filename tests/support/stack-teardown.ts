import type { RunningStack } from '../../localstack/stack';

export default async function teardown(): Promise<void> {
  await (globalThis as { __stack?: RunningStack }).__stack?.stop();
}

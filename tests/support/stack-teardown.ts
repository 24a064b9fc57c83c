import type { TestStack } from './test-stack';

export default async function teardown(): Promise<void> {
  await (globalThis as { __stack?: TestStack }).__stack?.stop();
}

import type { IsolatedStack } from '../../localstack/isolated-stack';

export default async function teardown(): Promise<void> {
  await (globalThis as { __stack?: IsolatedStack }).__stack?.stop();
}

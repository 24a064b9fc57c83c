import { startIsolatedStack, type IsolatedStack } from '../../localstack/isolated-stack';
import { UNDER_THE_MODEL } from './under-the-model';

/** The stack every e2e test file talks to (files that need other settings start their own). */
export default async function setup(): Promise<void> {
  const stack = await startIsolatedStack('e2e-stack', { likeAws: UNDER_THE_MODEL });
  process.env.E2E_URL = stack.url;
  process.env.E2E_ADMIN_KEY = stack.adminApiKey;
  process.env.E2E_DYNAMODB_ENDPOINT = stack.dynamoDbEndpoint;
  process.env.E2E_TABLE_NAME = stack.tableName;
  process.env.E2E_SFN_ENDPOINT = stack.stepFunctionsEndpoint;
  process.env.E2E_HOLD_STATE_MACHINE_ARN = stack.holdStateMachineArn;
  process.env.E2E_LAMBDA_ENDPOINT = stack.lambdaEndpoint;
  (globalThis as { __stack?: IsolatedStack }).__stack = stack;
}

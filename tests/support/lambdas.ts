/** The stack's Lambdas, invoked as Step Functions and the schedule invoke them, through serverless-offline's invoke endpoint. */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { IsolatedStack } from '../../localstack/isolated-stack';

/** Credentials and region for the stack's local AWS endpoints (Lambda, Step Functions): any will do. */
export const AWS_LOCAL = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

export const EXPIRE_FUNCTION = 'ticket-booking-dev-expireBooking';
export const SWEEP_FUNCTION = 'ticket-booking-dev-sweepExpiredHolds';

export function lambdaInvoker(stack: Pick<IsolatedStack, 'lambdaEndpoint'>) {
  const lambda = new LambdaClient({ ...AWS_LOCAL, endpoint: stack.lambdaEndpoint });
  return {
    /** Invokes a function: its parsed result, and its FunctionError if it failed. */
    async invoke(functionName: string, payload: unknown): Promise<{ error: string | undefined; result: any }> {
      const response = await lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(payload)) }));
      const text = response.Payload ? Buffer.from(response.Payload).toString('utf8') : '';
      return { error: response.FunctionError, result: text === '' ? undefined : JSON.parse(text) };
    },
    destroy: () => lambda.destroy(),
  };
}

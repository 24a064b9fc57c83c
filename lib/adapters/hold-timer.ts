import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { HoldBatch, HoldTimer } from '../ports';
import { SDK_MAX_ATTEMPTS } from '../store/retry';

let shared: SFNClient | undefined;

/** The Step Functions client, one per process; its endpoint comes from AWS_ENDPOINT_URL_SFN when set. */
export function sfnClient(): SFNClient {
  shared ??= new SFNClient({ maxAttempts: SDK_MAX_ATTEMPTS });
  return shared;
}

/**
 * The execution's input, which the state machine hands whole to the expire
 * Lambda: the batch's booking ids and when to fire.
 */
export function executionInput(batch: HoldBatch): string {
  return JSON.stringify({ booking_ids: batch.booking_ids, expires_at: batch.expires_at });
}

/**
 * One Standard execution per batch of holds, named after the batch: a retried
 * start with the same input is accepted by Step Functions as the same execution,
 * and a name it has seen with another input (or already finished) is
 * ExecutionAlreadyExists, which means a timer for the batch exists. So starting a
 * batch twice never ends its holds twice, and never fails.
 */
export function stepFunctionsHoldTimer(client: SFNClient, stateMachineArn: string): HoldTimer {
  return {
    async start(batch) {
      try {
        await client.send(new StartExecutionCommand({ stateMachineArn, name: batch.id, input: executionInput(batch) }));
      } catch (error) {
        if (!(error instanceof ExecutionAlreadyExists)) throw error;
      }
    },
  };
}

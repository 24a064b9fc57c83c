import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { HoldTimer } from '../ports';
import { SDK_MAX_ATTEMPTS } from '../store/retry';

let shared: SFNClient | undefined;

/** The Step Functions client, one per process; its endpoint comes from AWS_ENDPOINT_URL_SFN when set. */
export function sfnClient(): SFNClient {
  shared ??= new SFNClient({ maxAttempts: SDK_MAX_ATTEMPTS });
  return shared;
}

/**
 * One Standard execution per booking, named after the booking: a retried start
 * with the same input is accepted by Step Functions as the same execution, so
 * starting twice never expires a booking twice.
 */
export function stepFunctionsHoldTimer(client: SFNClient, stateMachineArn: string): HoldTimer {
  return {
    async start(booking) {
      try {
        await client.send(
          new StartExecutionCommand({
            stateMachineArn,
            name: booking.id,
            input: JSON.stringify({ booking_id: booking.id, expires_at: booking.expires_at }),
          }),
        );
      } catch (error) {
        // Same name, other input: an execution for this booking exists already.
        if (!(error instanceof ExecutionAlreadyExists)) throw error;
      }
    },
  };
}

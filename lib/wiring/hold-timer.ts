import { sfnClient, stepFunctionsHoldTimer } from '../adapters/hold-timer';
import { config } from '../config';

/**
 * The hold timer on Step Functions, alone: the stream consumer that starts the
 * timers needs it and nothing of the table, so its bundle loads no DynamoDB client.
 */
export const holdTimer = stepFunctionsHoldTimer(sfnClient(), config.HOLD_STATE_MACHINE_ARN);

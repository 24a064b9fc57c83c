import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SDK_MAX_ATTEMPTS } from './retry';

/**
 * The DynamoDB document client, one per process (created on first use, reused by
 * every invocation of a warm Lambda). The endpoint comes from the SDK's own
 * `AWS_ENDPOINT_URL_DYNAMODB` when set (DynamoDB Local, LocalStack), so no code
 * here knows where it runs.
 */
let shared: DynamoDBDocumentClient | undefined;

export function documentClient(): DynamoDBDocumentClient {
  shared ??= DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: SDK_MAX_ATTEMPTS }), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return shared;
}

/** Where a store reads and writes: the client and the table name. */
export interface Table {
  client: DynamoDBDocumentClient;
  name: string;
}

/**
 * A ClientRequestToken for one TransactWriteItems call. The SDK retries a call
 * whose answer was lost (a 500, a timeout) with the same input, so with the same
 * token: DynamoDB then answers success without applying the transaction a second
 * time (within ten minutes). A new token per call, never per request: a later
 * attempt that plans again sends other items, and the same token with another
 * payload is refused (IdempotentParameterMismatch).
 */
export const transactionToken = (): string => randomUUID();

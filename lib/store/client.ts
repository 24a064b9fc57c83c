import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * The DynamoDB document client, one per process (created on first use, reused by
 * every invocation of a warm Lambda). The endpoint comes from the SDK's own
 * `AWS_ENDPOINT_URL_DYNAMODB` when set (DynamoDB Local, LocalStack), so no code
 * here knows where it runs.
 */
let shared: DynamoDBDocumentClient | undefined;

export function documentClient(): DynamoDBDocumentClient {
  shared ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
  return shared;
}

/** Where a store reads and writes: the client and the table name. */
export interface Table {
  client: DynamoDBDocumentClient;
  name: string;
}

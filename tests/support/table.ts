import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { localClient } from '../../localstack/dynamodb-local';
import type { Table } from '../../lib/store/client';

/** The table of the integration run (DynamoDB Local started by the global setup). */
export function testTable(): Table & { close(): void } {
  const endpoint = process.env.TEST_DYNAMODB_ENDPOINT;
  const name = process.env.TEST_TABLE_NAME;
  if (!endpoint || !name) throw new Error('DynamoDB Local is not running: run through jest (tests/support/dynamodb-setup.ts)');
  const client = DynamoDBDocumentClient.from(localClient(endpoint), { marshallOptions: { removeUndefinedValues: true } });
  return { client, name, close: () => client.destroy() };
}

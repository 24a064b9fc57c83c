import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type DynamoDbLocal, localClient, startDynamoDbLocal } from '../../localstack/dynamodb-local';
import { freePort } from '../../localstack/processes';
import type { CfnTable } from '../../localstack/service';
import { ensureTable } from '../../localstack/table';
import type { Table } from '../../lib/store/client';
import { onCleanup } from './cleanup';

/**
 * DynamoDB Local for the parts that talk to DynamoDB directly (booking path, cost,
 * scale, cold start): AWS's jar, in memory, on a free port, with the table
 * created from serverless.yml exactly as `npm start` creates it.
 */
export interface BenchDynamo {
  endpoint: string;
  /** The table definition of serverless.yml (CloudFormation properties). */
  definition: CfnTable;
  tableName: string;
  process: DynamoDbLocal['process'];
  stop(): Promise<void>;
}

export async function startBenchDynamo(definition: CfnTable): Promise<BenchDynamo> {
  const dynamo = await startDynamoDbLocal({ port: await freePort(), dataDir: null });
  const stop = onCleanup('DynamoDB Local', () => dynamo.stop());
  await ensureTable(dynamo.endpoint, definition);
  return { endpoint: dynamo.endpoint, definition, tableName: definition.TableName!, process: dynamo.process, stop };
}

/** Another table of the same definition (same keys and indexes) under another name, on the same DynamoDB Local. */
export async function createTableCopy(dynamo: Pick<BenchDynamo, 'endpoint' | 'definition'>, name: string): Promise<void> {
  await ensureTable(dynamo.endpoint, { ...dynamo.definition, TableName: name });
}

export async function deleteTable(endpoint: string, name: string): Promise<void> {
  const client = localClient(endpoint);
  try {
    await client.send(new DeleteTableCommand({ TableName: name }));
  } finally {
    client.destroy();
  }
}

/** The document client the functions use (lib/store/client.ts), pointed at DynamoDB Local. */
export function documentClientFor(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/** A store Table on DynamoDB Local, with its own client. */
export function benchTable(endpoint: string, name: string): Table & { raw: DynamoDBClient; close(): void } {
  const raw = localClient(endpoint);
  const client = documentClientFor(raw);
  return { client, name, raw, close: () => client.destroy() };
}

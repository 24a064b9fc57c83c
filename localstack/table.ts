import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  ResourceNotFoundException,
  type TableDescription,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { localClient } from './dynamodb-local';
import type { CfnTable } from './service';

/**
 * Creates the table in DynamoDB Local unless it exists; brings an existing one
 * (a file-backed DynamoDB Local keeps it across restarts) up to serverless.yml:
 * its stream, and every global secondary index it lacks. Returns whether it
 * created the table.
 */
export async function ensureTable(endpoint: string, table: CfnTable, log: (line: string) => void = () => undefined): Promise<boolean> {
  const client = localClient(endpoint);
  try {
    const existing = await describe(client, table.TableName!);
    if (existing) {
      await bringUpToDate(client, table, existing, log);
      return false;
    }
    // CloudFormation's table properties are CreateTable's, but for those managed by
    // other APIs (TTL) or meaningless locally (PITR, deletion protection, tags).
    await client.send(
      new CreateTableCommand({
        TableName: table.TableName,
        AttributeDefinitions: table.AttributeDefinitions,
        KeySchema: table.KeySchema,
        GlobalSecondaryIndexes: table.GlobalSecondaryIndexes,
        LocalSecondaryIndexes: table.LocalSecondaryIndexes,
        BillingMode: table.BillingMode,
        ProvisionedThroughput: table.ProvisionedThroughput,
        // CloudFormation names the view type only; CreateTable also wants it switched on.
        StreamSpecification: table.StreamSpecification ? { ...table.StreamSpecification, StreamEnabled: true } : undefined,
      }),
    );
    if (table.TimeToLiveSpecification) {
      await client.send(
        new UpdateTimeToLiveCommand({ TableName: table.TableName, TimeToLiveSpecification: table.TimeToLiveSpecification }),
      );
    }
    return true;
  } finally {
    client.destroy();
  }
}

async function describe(client: DynamoDBClient, name: string): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: name }))).Table;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

/**
 * What serverless.yml added since the table was made, as CloudFormation would
 * apply it: the stream switched on, then each missing index created, one at a
 * time (DynamoDB takes one index creation per UpdateTable), waiting for it to be
 * ACTIVE. Indexes the table has but serverless.yml no longer names are left: a
 * local table loses no data to an edit.
 */
async function bringUpToDate(client: DynamoDBClient, table: CfnTable, existing: TableDescription, log: (line: string) => void): Promise<void> {
  const name = table.TableName!;
  const wanted = table.StreamSpecification;
  const current = existing.StreamSpecification;
  if (wanted && (!current?.StreamEnabled || current.StreamViewType !== wanted.StreamViewType)) {
    // A stream's view type cannot change in place: switch the old one off first.
    if (current?.StreamEnabled) await client.send(new UpdateTableCommand({ TableName: name, StreamSpecification: { StreamEnabled: false } }));
    await client.send(new UpdateTableCommand({ TableName: name, StreamSpecification: { ...wanted, StreamEnabled: true } }));
    log(`[table] ${name}: stream switched on (${wanted.StreamViewType})\n`);
  }
  const has = new Set((existing.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  for (const index of table.GlobalSecondaryIndexes ?? []) {
    if (has.has(index.IndexName)) continue;
    await createIndex(client, table, index);
    log(`[table] ${name}: index ${index.IndexName} created\n`);
  }
}

async function createIndex(client: DynamoDBClient, table: CfnTable, index: GlobalSecondaryIndex): Promise<void> {
  const keyNames = new Set(index.KeySchema?.map((key) => key.AttributeName));
  await client.send(
    new UpdateTableCommand({
      TableName: table.TableName,
      AttributeDefinitions: table.AttributeDefinitions?.filter((definition) => keyNames.has(definition.AttributeName)),
      GlobalSecondaryIndexUpdates: [
        {
          Create: {
            IndexName: index.IndexName,
            KeySchema: index.KeySchema,
            Projection: index.Projection,
            ProvisionedThroughput: index.ProvisionedThroughput,
            OnDemandThroughput: index.OnDemandThroughput,
          },
        },
      ],
    }),
  );
  const deadline = Date.now() + 60_000;
  for (;;) {
    const described = await describe(client, table.TableName!);
    const status = described?.GlobalSecondaryIndexes?.find((i) => i.IndexName === index.IndexName)?.IndexStatus;
    if (status === 'ACTIVE') return;
    if (Date.now() > deadline) throw new Error(`Index ${index.IndexName} of ${table.TableName} is still ${status ?? 'missing'} after a minute`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

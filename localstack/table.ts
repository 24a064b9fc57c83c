import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { localClient } from './dynamodb-local';
import type { CfnTable } from './service';

/** Creates the table in DynamoDB Local unless it exists. Returns whether it created it. */
export async function ensureTable(endpoint: string, table: CfnTable): Promise<boolean> {
  const client = localClient(endpoint);
  try {
    try {
      await client.send(new DescribeTableCommand({ TableName: table.TableName }));
      return false;
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
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
        StreamSpecification: table.StreamSpecification,
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

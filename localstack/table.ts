import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  type CreateTableCommandInput,
  CreateTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { localClient } from './dynamodb-local';

const ROOT = resolve(__dirname, '..');
const SERVERLESS = resolve(ROOT, 'node_modules/serverless/bin/serverless.js');

type CfnTable = CreateTableCommandInput & {
  TimeToLiveSpecification?: { AttributeName: string; Enabled: boolean };
};

/**
 * The table as serverless.yml defines it, variables resolved by the framework
 * itself (`serverless print`), so the local table can never drift from the one
 * deployed: there is no second copy of the schema.
 */
export async function tableFromServerless(stage = 'dev'): Promise<CfnTable> {
  const { stdout } = await promisify(execFile)(process.execPath, [SERVERLESS, 'print', '--format', 'json', '--stage', stage], {
    cwd: ROOT,
    maxBuffer: 16 * 1024 * 1024,
    env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
  });
  const service = JSON.parse(stdout.slice(stdout.indexOf('{'))) as {
    resources: { Resources: Record<string, { Type: string; Properties: CfnTable }> };
  };
  const tables = Object.values(service.resources.Resources).filter((r) => r.Type === 'AWS::DynamoDB::Table');
  if (tables.length !== 1) throw new Error(`serverless.yml should define exactly one DynamoDB table, found ${tables.length}`);
  return tables[0]!.Properties;
}

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

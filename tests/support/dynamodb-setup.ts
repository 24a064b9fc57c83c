import { startDynamoDbLocal } from '../../localstack/dynamodb-local';
import { freePort } from '../../localstack/processes';
import { readService, tableOf } from '../../localstack/service';
import { ensureTable } from '../../localstack/table';

/** DynamoDB Local in memory on a free port, with the table from serverless.yml. */
export default async function setup(): Promise<void> {
  const [dynamo, service] = await Promise.all([freePort().then((port) => startDynamoDbLocal({ port, dataDir: null })), readService()]);
  const table = tableOf(service);
  await ensureTable(dynamo.endpoint, table);
  process.env.TEST_DYNAMODB_ENDPOINT = dynamo.endpoint;
  process.env.TEST_TABLE_NAME = table.TableName;
  (globalThis as { __dynamo?: typeof dynamo }).__dynamo = dynamo;
}

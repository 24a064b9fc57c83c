import { startDynamoDbLocal } from '../../localstack/dynamodb-local';
import { startLikeAwsDynamoDb } from '../../localstack/like-aws/dynamodb';
import { freePort } from '../../localstack/processes';
import { readService, tableOf } from '../../localstack/service';
import { ensureTable } from '../../localstack/table';
import { UNDER_THE_MODEL } from './under-the-model';

/**
 * DynamoDB Local in memory on a free port, with the table from serverless.yml, and
 * the model of AWS in front of it: the tests reach the table through the model
 * (TEST_DYNAMODB_ENDPOINT); a test that starts a model of its own puts it in front
 * of DynamoDB Local itself (TEST_DYNAMODB_LOCAL_ENDPOINT).
 */
export default async function setup(): Promise<void> {
  const [dynamo, service] = await Promise.all([freePort().then((port) => startDynamoDbLocal({ port, dataDir: null })), readService()]);
  const table = tableOf(service);
  await ensureTable(dynamo.endpoint, table);
  const model = await startLikeAwsDynamoDb({ port: 0, upstream: dynamo.endpoint, table, settings: UNDER_THE_MODEL });
  process.env.TEST_DYNAMODB_ENDPOINT = model.endpoint;
  process.env.TEST_DYNAMODB_LOCAL_ENDPOINT = dynamo.endpoint;
  process.env.TEST_TABLE_NAME = table.TableName;
  (globalThis as { __dynamo?: { stop(): Promise<void> } }).__dynamo = {
    async stop() {
      await model.stop();
      await dynamo.stop();
    },
  };
}

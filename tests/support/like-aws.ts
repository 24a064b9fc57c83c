import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { localClient } from '../../localstack/dynamodb-local';
import { type LikeAwsDynamoDb, type LikeAwsDynamoDbOptions, startLikeAwsDynamoDb } from '../../localstack/like-aws/dynamodb';
import { type LikeAwsSettings, likeAwsSettings } from '../../localstack/like-aws/settings';

export interface ModelUnderTest {
  model: LikeAwsDynamoDb;
  tableName: string;
  /** A document client of the model, with the SDK's own retries unless told otherwise. */
  client(settings?: { maxAttempts?: number }): DynamoDBDocumentClient;
  /** The same, taking and giving items in DynamoDB's own types. */
  lowLevelClient(settings?: { maxAttempts?: number }): DynamoDBClient;
  stop(): Promise<void>;
}

/**
 * The DynamoDB model in front of the integration run's DynamoDB Local (started by
 * the global setup), on a free port, with the default settings but for `overrides`.
 */
export async function startModel(
  overrides: Partial<LikeAwsSettings>,
  extra: Pick<LikeAwsDynamoDbOptions, 'loseAnswer' | 'clock'> = {},
): Promise<ModelUnderTest> {
  const upstream = process.env.TEST_DYNAMODB_LOCAL_ENDPOINT;
  const tableName = process.env.TEST_TABLE_NAME;
  if (!upstream || !tableName) throw new Error('DynamoDB Local is not running: run through jest (tests/support/dynamodb-setup.ts)');
  const admin = localClient(upstream);
  const { Table } = await admin.send(new DescribeTableCommand({ TableName: tableName })).finally(() => admin.destroy());
  const model = await startLikeAwsDynamoDb({ port: 0, upstream, table: Table!, settings: { ...likeAwsSettings({}), ...overrides }, ...extra });
  const clients: DynamoDBClient[] = [];
  const lowLevelClient = (settings: { maxAttempts?: number } = {}) => {
    const client = new DynamoDBClient({
      endpoint: model.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      ...settings,
    });
    clients.push(client);
    return client;
  };
  return {
    model,
    tableName,
    lowLevelClient,
    client: (settings = {}) => DynamoDBDocumentClient.from(lowLevelClient(settings), { marshallOptions: { removeUndefinedValues: true } }),
    async stop() {
      for (const client of clients) client.destroy();
      await model.stop();
    },
  };
}

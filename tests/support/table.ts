import { type DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { localClient } from '../../localstack/dynamodb-local';
import type { Table } from '../../lib/store/client';

function runningTable(): { endpoint: string; name: string } {
  const endpoint = process.env.TEST_DYNAMODB_ENDPOINT;
  const name = process.env.TEST_TABLE_NAME;
  if (!endpoint || !name) throw new Error('DynamoDB Local is not running: run through jest (tests/support/dynamodb-setup.ts)');
  return { endpoint, name };
}

const tableThrough = (base: DynamoDBClient, name: string) => {
  const client = DynamoDBDocumentClient.from(base, { marshallOptions: { removeUndefinedValues: true } });
  return { client, name, close: () => client.destroy() };
};

/** The table of the integration run (DynamoDB Local started by the global setup). */
export function testTable(): Table & { close(): void } {
  const { endpoint, name } = runningTable();
  return tableThrough(localClient(endpoint), name);
}

/**
 * The table of the integration run through a client that cancels the first `count`
 * TransactWriteItems as DynamoDB does under contention (TransactionConflict on the
 * first item), each after running `meanwhile` (the other transaction) against
 * DynamoDB Local. Every other request, and every later transaction, reaches DynamoDB
 * Local unchanged.
 */
export function conflictingTable(count: number, meanwhile: () => Promise<unknown> = async () => undefined): Table & { injected(): number; close(): void } {
  const { endpoint, name } = runningTable();
  let injected = 0;
  const base = localClient(endpoint);
  base.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'TransactWriteItemsCommand' && injected < count) {
        injected++;
        await meanwhile();
        const items = (args.input as { TransactItems?: unknown[] }).TransactItems ?? [];
        const codes = items.map((_, i) => (i === 0 ? 'TransactionConflict' : 'None'));
        throw new TransactionCanceledException({
          message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(', ')}]`,
          $metadata: {},
          CancellationReasons: codes.map((Code) => ({ Code })),
        });
      }
      return next(args);
    },
    { step: 'initialize', name: 'injectTransactionConflict' },
  );
  return { ...tableThrough(base, name), injected: () => injected };
}

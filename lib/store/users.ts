import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { User } from '../domain/user';
import { type Table, transactionToken } from './client';
import { cancelledTransaction, lostARace } from './conditions';
import { keys, stripKeys } from './keys';
import { RETRY, withRetry } from './retry';

export type UserCreateOutcome = { kind: 'created' } | { kind: 'email-taken' };

export interface UserStore {
  /** The user, its email guard and its key hash, all or nothing. */
  create(user: User, normalizedEmail: string, keyHash: string): Promise<UserCreateOutcome>;
  get(id: string): Promise<User | undefined>;
  /** The id of the user holding the key with this hash. */
  userIdForKey(keyHash: string): Promise<string | undefined>;
}

export function userStore(table: Table): UserStore {
  const { client, name: TableName } = table;
  const notExists = 'attribute_not_exists(pk)';

  async function createOnce(user: User, normalizedEmail: string, keyHash: string): Promise<UserCreateOutcome | typeof RETRY> {
    try {
      await client.send(
        new TransactWriteCommand({
          ClientRequestToken: transactionToken(),
          TransactItems: [
            { Put: { TableName, Item: { ...keys.user(user.id), type: 'user', ...user }, ConditionExpression: notExists } },
            {
              Put: {
                TableName,
                Item: { ...keys.email(normalizedEmail), type: 'email', user_id: user.id },
                ConditionExpression: notExists,
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            {
              Put: { TableName, Item: { ...keys.apiKey(keyHash), type: 'api-key', user_id: user.id }, ConditionExpression: notExists },
            },
          ],
        }),
      );
      return { kind: 'created' };
    } catch (error) {
      const cancelled = cancelledTransaction(error);
      const email = cancelled?.reasons[1];
      if (email?.code === 'ConditionalCheckFailed') {
        // Guarded for this very user: an earlier attempt was applied and its answer lost.
        return email.item?.user_id === user.id ? { kind: 'created' } : { kind: 'email-taken' };
      }
      if (lostARace(cancelled)) return RETRY;
      throw error;
    }
  }

  return {
    /**
     * Concurrent registrations of one email: DynamoDB lets one transaction win and
     * cancels the others with TransactionConflict; those retry, and then fail the
     * email guard's condition like any later duplicate.
     */
    create: (user, normalizedEmail, keyHash) => withRetry(() => createOnce(user, normalizedEmail, keyHash)),

    async get(id) {
      const result = await client.send(new GetCommand({ TableName, Key: keys.user(id), ConsistentRead: true }));
      return result.Item ? stripKeys<User>(result.Item) : undefined;
    },

    async userIdForKey(keyHash) {
      const result = await client.send(
        new GetCommand({ TableName, Key: keys.apiKey(keyHash), ConsistentRead: true, ProjectionExpression: 'user_id' }),
      );
      return typeof result.Item?.user_id === 'string' ? result.Item.user_id : undefined;
    },
  };
}

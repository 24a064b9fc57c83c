import { randomUUID } from 'node:crypto';
import { DeleteCommand, PutCommand, type TransactWriteCommandInput, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { IdempotencyCompletion } from '../ports';
import type { Table } from './client';
import { failedConditionItem } from './conditions';
import { keys } from './keys';
import { withRetry } from './retry';

/** What an Idempotency-Key replays: the first response, opaque to the store. */
export interface StoredResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface IdempotencyScope {
  user_id: string;
  /** The operation the key belongs to, e.g. `POST /bookings`. */
  operation: string;
  key: string;
}

/** This request owns the key until it completes or releases it. */
export interface IdempotencyClaim {
  scope: IdempotencyScope;
  token: string;
}

export type ClaimOutcome =
  | { kind: 'claimed'; claim: IdempotencyClaim }
  | { kind: 'replay'; response: StoredResponse }
  | { kind: 'in-progress' }
  | { kind: 'mismatch' };

type TransactUpdate = NonNullable<NonNullable<TransactWriteCommandInput['TransactItems']>[number]['Update']>;

/** The write that completes a claim, to be put inside the transaction that does the work. */
class ClaimCompletion implements IdempotencyCompletion {
  readonly kind = 'idempotency-completion';
  constructor(readonly update: (tableName: string) => TransactUpdate) {}
}

const ofThisStore = (completion: IdempotencyCompletion): ClaimCompletion => {
  if (!(completion instanceof ClaimCompletion)) throw new TypeError('Not an idempotency completion of this store');
  return completion;
};

/** The transaction item of a completion this store made. */
export function completionUpdate(completion: IdempotencyCompletion, tableName: string): TransactUpdate {
  return ofThisStore(completion).update(tableName);
}


export interface IdempotencyStore {
  claim(scope: IdempotencyScope, fingerprint: string, now: Date): Promise<ClaimOutcome>;
  completion(claim: IdempotencyClaim, response: StoredResponse, now: Date): IdempotencyCompletion;
  complete(claim: IdempotencyClaim, response: StoredResponse, now: Date): Promise<void>;
  release(claim: IdempotencyClaim): Promise<void>;
}

/** Keys are remembered for 24 hours (the Idempotency-Key header in the OpenAPI document); DynamoDB's TTL deletes them later. */
export const RETENTION_SECONDS = 24 * 60 * 60;
/** A claim older than this belongs to a request that died; another may take it over. */
export const LEASE_MS = 30_000;

/**
 * Idempotency records, one per (user, operation, key). The protocol, after the
 * Powertools idempotency utility, with one change: completion can be part of the
 * transaction that does the work, so the work and the record of it are atomic.
 *
 *   request 1                          record                       request 2 (same key)
 *   claim: Put IF absent or expired ─▶ IN_PROGRESS, token 1, lease
 *                                      IN_PROGRESS ◀─────────────── claim fails: 409 in progress
 *   work + complete(token 1) ────────▶ COMPLETED, response
 *                                      COMPLETED ◀───────────────── claim fails: replay response
 *
 * A request that dies leaves IN_PROGRESS; after the lease, a retry with the same
 * body takes the record over with a new token. If the first then wakes up, its
 * transaction fails on the token condition and writes nothing: one booking, ever.
 * A different body with the same key is a mismatch (422), whatever the state.
 *
 * Answers get lost: a write can be applied and its answer never arrive, and the
 * SDK then sends it again. A retried claim finds the record it wrote itself (its
 * own token) and takes it as claimed. Completion and release are conditioned on
 * the record being still IN_PROGRESS under this request's token, so a request
 * whose work transaction (with the completion in it) was applied but answered with
 * an error never releases the completed record: the client's retry with the same
 * key replays the response instead of doing the work again.
 */
export function idempotencyStore(table: Table): IdempotencyStore {
  const { client, name: TableName } = table;

  // Completing and releasing act only on a record this request still holds: never
  // on one completed already (by this request's own transaction, whose answer
  // may have been lost), never on one another request took over.
  const OWNED_IN_PROGRESS = '#token = :token AND #status = :inProgress';

  const completeUpdate = (claim: IdempotencyClaim, response: StoredResponse, now: Date) => (tableName: string): TransactUpdate => ({
    TableName: tableName,
    Key: keys.idempotency(claim.scope.user_id, claim.scope.operation, claim.scope.key),
    UpdateExpression: 'SET #status = :completed, #response = :response, completed_at = :now',
    ConditionExpression: OWNED_IN_PROGRESS,
    ExpressionAttributeNames: { '#status': 'status', '#response': 'response', '#token': 'token' },
    ExpressionAttributeValues: {
      ':completed': 'COMPLETED',
      ':response': response,
      ':now': now.toISOString(),
      ':token': claim.token,
      ':inProgress': 'IN_PROGRESS',
    },
  });

  /** One attempt to claim the key with `token`. */
  async function claimOnce(scope: IdempotencyScope, fingerprint: string, now: Date, token: string): Promise<ClaimOutcome> {
    try {
      await client.send(
        new PutCommand({
          TableName,
          Item: {
            ...keys.idempotency(scope.user_id, scope.operation, scope.key),
            type: 'idempotency',
            status: 'IN_PROGRESS',
            token,
            fingerprint,
            locked_until: now.getTime() + LEASE_MS,
            ttl: Math.floor(now.getTime() / 1000) + RETENTION_SECONDS,
          },
          ConditionExpression:
            'attribute_not_exists(pk) OR #ttl < :nowSeconds OR (#status = :inProgress AND locked_until < :nowMs AND fingerprint = :fingerprint)',
          ExpressionAttributeNames: { '#ttl': 'ttl', '#status': 'status' },
          ExpressionAttributeValues: {
            ':nowSeconds': Math.floor(now.getTime() / 1000),
            ':nowMs': now.getTime(),
            ':inProgress': 'IN_PROGRESS',
            ':fingerprint': fingerprint,
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { kind: 'claimed', claim: { scope, token } };
    } catch (error) {
      const existing = failedConditionItem(error);
      if (!existing) throw error;
      // Our own claim: the Put was applied and its answer lost, then sent again.
      if (existing.token === token) return { kind: 'claimed', claim: { scope, token } };
      if (existing.fingerprint !== fingerprint) return { kind: 'mismatch' };
      if (existing.status === 'COMPLETED') return { kind: 'replay', response: existing.response as StoredResponse };
      return { kind: 'in-progress' };
    }
  }

  /** A conditional write on the record whose failed condition means "nothing left to do". */
  async function ifStillOurs(send: () => Promise<unknown>): Promise<void> {
    try {
      await send();
    } catch (error) {
      if (failedConditionItem(error) === undefined) throw error;
    }
  }

  // Each write is retried on transient faults (withRetry), each in a form that is
  // safe to send again: the claim by its token, completion and release by their
  // conditions.
  return {
    claim(scope, fingerprint, now) {
      // One token for every attempt: a claim sent again finds its own record by it.
      const token = randomUUID();
      return withRetry(() => claimOnce(scope, fingerprint, now, token));
    },

    completion(claim, response, now) {
      return new ClaimCompletion(completeUpdate(claim, response, now));
    },

    // A failed condition: completed already (by this request, an answer lost) or
    // taken over after the lease ran out (the new owner's response stands).
    complete: (claim, response, now) =>
      withRetry(() => ifStillOurs(() => client.send(new UpdateCommand(completeUpdate(claim, response, now)(TableName))))),

    release: (claim) =>
      withRetry(() =>
        ifStillOurs(() =>
          client.send(
            new DeleteCommand({
              TableName,
              Key: keys.idempotency(claim.scope.user_id, claim.scope.operation, claim.scope.key),
              ConditionExpression: OWNED_IN_PROGRESS,
              ExpressionAttributeNames: { '#token': 'token', '#status': 'status' },
              ExpressionAttributeValues: { ':token': claim.token, ':inProgress': 'IN_PROGRESS' },
            }),
          ),
        ),
      ),
  };
}

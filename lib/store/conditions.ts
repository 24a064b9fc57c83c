import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';

/**
 * A failed condition tells us *which* item failed and what it held at that moment
 * (ReturnValuesOnConditionCheckFailure: ALL_OLD). These helpers hand that item to
 * the store, which turns it into the domain error that explains it: no guessing
 * from a re-read that may already see a different state.
 */
export function failedConditionItem(error: unknown): Record<string, unknown> | null | undefined {
  if (!(error instanceof ConditionalCheckFailedException)) return undefined;
  return error.Item ? unmarshall(error.Item as never) : null;
}

export interface CancelledTransaction {
  /** One entry per action of the transaction, in order. */
  reasons: { code: string; item: Record<string, unknown> | null }[];
}

export function cancelledTransaction(error: unknown): CancelledTransaction | undefined {
  if (!(error instanceof TransactionCanceledException)) return undefined;
  return {
    reasons: (error.CancellationReasons ?? []).map((reason) => ({
      code: reason.Code ?? 'None',
      item: reason.Item ? unmarshall(reason.Item as never) : null,
    })),
  };
}

/**
 * Whether a cancelled transaction did nothing for a reason that passes: another
 * transaction held one of its items (TransactionConflict), or a partition it writes
 * lacked the units (ThrottlingError). Such a transaction is simply tried again.
 */
export function lostARace(cancelled: CancelledTransaction | undefined): boolean {
  return cancelled?.reasons.some((r) => r.code === 'TransactionConflict' || r.code === 'ThrottlingError') ?? false;
}

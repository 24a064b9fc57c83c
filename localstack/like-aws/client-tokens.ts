import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json';

/** How long DynamoDB remembers a ClientRequestToken after its transaction completed. */
export const TOKEN_WINDOW_MS = 10 * 60 * 1000;

export type TokenCheck = 'new' | 'in-progress' | 'replay' | 'mismatch';

interface Seen {
  hash: string;
  /** When the window closes; undefined while the transaction is in progress. */
  expiresAt: number | undefined;
}

/**
 * ClientRequestToken idempotency of TransactWriteItems (AWS API reference): within
 * ten minutes of a transaction that succeeded, the same token with the same request
 * succeeds without writing again, with another request it is an
 * IdempotentParameterMismatchException, and while the first is still in progress a
 * TransactionInProgressException. A transaction that failed leaves no token behind,
 * as DynamoDB Local does: its retry runs again.
 */
export class ClientTokens {
  private readonly seen = new Map<string, Seen>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The request without its token, hashed: what "the same request" compares. */
  static hashOf(body: Record<string, unknown>): string {
    const rest = { ...body };
    delete rest.ClientRequestToken;
    return createHash('sha256').update(canonicalJson(rest)).digest('base64url');
  }

  /** What a request with `token` is; a new one is recorded as in progress. */
  check(token: string, hash: string): TokenCheck {
    this.forgetExpired();
    const seen = this.seen.get(token);
    if (!seen) {
      this.seen.set(token, { hash, expiresAt: undefined });
      return 'new';
    }
    if (seen.hash !== hash) return 'mismatch';
    return seen.expiresAt === undefined ? 'in-progress' : 'replay';
  }

  /** The transaction of `token` ended: remembered if it succeeded, forgotten if not. */
  complete(token: string, succeeded: boolean): void {
    const seen = this.seen.get(token);
    if (!seen || seen.expiresAt !== undefined) return;
    if (succeeded) seen.expiresAt = this.now() + TOKEN_WINDOW_MS;
    else this.seen.delete(token);
  }

  private forgetExpired(): void {
    const now = this.now();
    // Map order is insertion order, close enough to expiry order to stop at the first live one.
    for (const [token, seen] of this.seen) {
      if (seen.expiresAt === undefined) continue;
      if (seen.expiresAt > now) break;
      this.seen.delete(token);
    }
  }
}

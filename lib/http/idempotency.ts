import { createHash } from 'node:crypto';
import { AppError, IdempotencyInProgressError, IdempotencyKeyReusedError, ValidationError } from '../domain/errors';
import type { IdempotencyCompletion } from '../ports';
import type { IdempotencyScope, IdempotencyStore, StoredResponse } from '../store/idempotency';
import { toProblemResponse } from './problem';

const KEY = /^[\x21-\x7e]{1,255}$/;

/** The Idempotency-Key header: absent, or 1..255 visible ASCII characters (else 422). */
export function idempotencyKeyOf(headers: Record<string, string | undefined>): string | undefined {
  const key = headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (!KEY.test(key)) throw ValidationError.field('Idempotency-Key', 'must be 1 to 255 visible ASCII characters');
  return key;
}

/** What "the same request" means: the same path and the same JSON body (key order aside). */
export function requestFingerprint(path: string, body: unknown): string {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
    }
    return value;
  };
  return createHash('sha256').update(JSON.stringify([path, canonical(body)])).digest('hex');
}

export type Complete = (response: StoredResponse) => IdempotencyCompletion;

/**
 * Runs `work` at most once per Idempotency-Key: a retry with the same key
 * and body gets the first response again; another body is a 422; a retry while
 * the first is still running is a 409. `work` receives `complete`, to make the
 * record's completion part of its own transaction; otherwise it is completed after.
 * Client errors (4xx) are remembered like successes; server faults release the key
 * so that a retry can do the work.
 */
export async function idempotently(
  store: IdempotencyStore,
  scope: IdempotencyScope | undefined,
  fingerprint: string,
  requestId: string,
  work: (complete: Complete | undefined) => Promise<StoredResponse>,
): Promise<StoredResponse> {
  if (!scope) return work(undefined);
  const now = new Date();
  const claimed = await store.claim(scope, fingerprint, now);
  if (claimed.kind === 'replay') return { ...claimed.response, headers: { ...claimed.response.headers, 'idempotent-replayed': 'true' } };
  if (claimed.kind === 'mismatch') throw new IdempotencyKeyReusedError();
  if (claimed.kind === 'in-progress') throw new IdempotencyInProgressError();

  let completedInTransaction = false;
  try {
    const response = await work((stored) => {
      completedInTransaction = true;
      return store.completion(claimed.claim, stored, now);
    });
    if (!completedInTransaction) await store.complete(claimed.claim, response, now);
    return response;
  } catch (error) {
    if (error instanceof AppError) {
      const problem = toProblemResponse(error, requestId);
      if (problem.statusCode < 500) {
        await store.complete(claimed.claim, { status: problem.statusCode, headers: problem.headers, body: JSON.parse(problem.body) }, now);
        throw error;
      }
    }
    await store.release(claimed.claim);
    throw error;
  }
}

/**
 * Faults of the services the API depends on that say "not now", never "no". Which
 * they are is decided here, once: withRetry (lib/store/retry.ts) retries the ones
 * that AWS answers, and the problem mapper (lib/http/problem.ts) answers any that
 * still escapes with a 503 and Retry-After, since a client's retry may succeed.
 */

/** AWS's own answers for "try again": throttles, conflicts with a transaction in flight, its own faults. */
const AWS_TRANSIENT = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TransactionInProgressException',
  // A plain write to an item that a transaction in flight holds (AWS cancels, never queues).
  'TransactionConflictException',
  'InternalServerError',
  'ServiceUnavailable',
]);

/**
 * The service could not be reached at all. Not a timeout: the function's own
 * deadline (middy's TimeoutError) may strike after a booking was made, and a 503
 * would tell the client nothing happened.
 */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH']);

export function isTransient(error: unknown): boolean {
  return error instanceof Error && AWS_TRANSIENT.has(error.name);
}

export function isRetryableFault(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { code } = error as Error & { code?: unknown };
  return isTransient(error) || UNREACHABLE.has(error.name) || (typeof code === 'string' && UNREACHABLE.has(code));
}

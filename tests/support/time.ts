/** Waiting in tests: for a while, for a hold to run out, or for a moment when no scheduled sweep is due. */

/** How long a test file may take to start a stack of its own (localstack/isolated-stack.ts). */
export const STACK_START_TIMEOUT = 120_000;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Sleeps until `ms` milliseconds after the booking's expires_at (before it, when `ms` is negative). */
export const untilExpiry = (booking: { expires_at: string }, ms = 0): Promise<void> => sleep(Math.max(0, Date.parse(booking.expires_at) + ms - Date.now()));

/**
 * Reads a booking (`read`) until it has left PENDING, or until `deadlineMs` after
 * its expires_at, and returns what it read last: the caller asserts on that.
 */
export async function settled<B extends { status: string }>(read: () => Promise<B>, booking: { expires_at: string }, deadlineMs: number): Promise<B> {
  const deadline = Date.parse(booking.expires_at) + deadlineMs;
  for (;;) {
    const current = await read();
    if (current.status !== 'PENDING' || Date.now() > deadline) return current;
    await sleep(200);
  }
}

/**
 * The sweeper is also scheduled, `rate(1 minute)`, which serverless-offline turns
 * into a cron job that fires at second 0 of every minute. A test in which nothing
 * may end a hold but what the test itself invokes starts only when the next
 * `windowMs` hold no minute boundary (allowing 3 s for a scheduled sweep to finish).
 */
/** The timeout of a test that waits clear of the scheduled sweep: the wait alone may be a minute. */
export const CLEAR_OF_SWEEP_TIMEOUT_MS = 90_000;

export async function clearOfScheduledSweep(windowMs: number): Promise<void> {
  const intoMinute = Date.now() % 60_000;
  if (intoMinute >= 3_000 && intoMinute + windowMs < 60_000) return;
  await sleep(60_000 - intoMinute + 3_000);
}

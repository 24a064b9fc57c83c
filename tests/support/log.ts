/**
 * A stack's log, read from its file (localstack/isolated-stack.ts). Lines reach
 * the file through a pipe and the test process's event loop, so a line logged
 * before a response was sent may land after the response is read: a test waits
 * for a line that must be there before it concludes anything from the file,
 * above all that something is absent.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IsolatedStack } from '../../localstack/isolated-stack';
import { EXPIRE_FUNCTION, lambdaInvoker } from './lambdas';
import { sleep } from './time';

/** How long a line may take to reach the file before the wait for it fails the test. */
const LOG_DEADLINE_MS = 15_000;

export type LogEntry = Record<string, unknown>;

/** The JSON lines of a log (Powertools writes one object per line), parsed; other lines are left out. */
export function logEntries(log: string): LogEntry[] {
  return log.split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      return [JSON.parse(line) as LogEntry];
    } catch {
      return [];
    }
  });
}

/** The access log: the line the HTTP handler writes for every request, as `<route> <status>`. */
export function accessLog(log: string): string[] {
  return logEntries(log)
    .filter((entry) => entry.message === 'request')
    .map((entry) => `${String(entry.route)} ${String(entry.status)}`);
}

/**
 * Polls the log file until one of its JSON lines matches, and returns the whole log
 * as it then is. Fails, naming `what`, when no line matches within the deadline.
 */
export async function waitForLogLine(logFile: string, what: string, match: (entry: LogEntry) => boolean, deadlineMs = LOG_DEADLINE_MS): Promise<string> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const log = readFileSync(logFile, 'utf8');
    if (logEntries(log).some(match)) return log;
    if (Date.now() > deadline) throw new Error(`No log line ${what} in ${logFile} after ${deadlineMs} ms`);
    await sleep(100);
  }
}

/**
 * The stack's log with everything it logged before this call. A marker goes through
 * the stack last: the expire Lambda, invoked with a batch of one booking id nobody
 * has, logs "holds of bookings that do not exist" naming that id (and changes
 * nothing). The functions run in one process (serverless-offline, in-process)
 * that writes each line to its pipe before going on, so a line logged before the
 * marker was sent was in a pipe before the marker, and is in the file by the time
 * the marker is.
 */
export async function logSoFar(stack: Pick<IsolatedStack, 'lambdaEndpoint' | 'logFile'>): Promise<string> {
  const marker = `log-marker-${randomUUID()}`;
  const lambda = lambdaInvoker(stack);
  try {
    const { error, result } = await lambda.invoke(EXPIRE_FUNCTION, { booking_ids: [marker] });
    if (error !== undefined || result?.not_found !== 1) throw new Error(`the log marker: the expire Lambda answered ${error ?? ''} ${JSON.stringify(result)}`);
  } finally {
    lambda.destroy();
  }
  return waitForLogLine(
    stack.logFile,
    `naming the marker ${marker}`,
    (entry) => entry.message === 'holds of bookings that do not exist' && Array.isArray(entry.booking_ids) && entry.booking_ids.includes(marker),
  );
}

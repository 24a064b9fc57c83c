/**
 * What the chaos tests share: a raw HTTP client (the path goes on the wire as
 * written, any header, any body, a deadline on every request), a snapshot of the
 * whole table, the check that a response is a 4xx problem, and the Lambda invoke.
 * Every chaos test file starts its own stack (localstack/isolated-stack.ts).
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { Agent, request } from 'node:http';
import type { IsolatedStack } from '../../localstack/isolated-stack';

export const AWS_LOCAL = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

/** How long a chaos file may take to start its stack. */
export const STACK_START_TIMEOUT = 120_000;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The stack's HTTP API on the loopback address (startIsolatedStack reports it as localhost). */
export function loopbackUrl(stack: Pick<IsolatedStack, 'url'>): string {
  const url = new URL(stack.url);
  url.hostname = '127.0.0.1';
  return url.origin;
}

export interface RawRequest {
  method: string;
  /** Sent as written: no normalisation, no encoding. */
  path: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  /** Per-request deadline (default 30 s): a request that takes longer is reported as `timeout`. */
  timeoutMs?: number;
}

export interface RawResponse {
  /** 0 when no HTTP response arrived (see `error`). */
  status: number;
  headers: Record<string, string | string[] | undefined>;
  contentType: string;
  text: string;
  /** The parsed JSON body, or undefined when the body is not JSON. */
  body: any;
  /** Why no response arrived: a connection error, or `timeout`. */
  error?: string;
  ms: number;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/**
 * One HTTP request through node:http (fetch would normalise `..` in the path,
 * percent-encode it, and refuse a body on GET). Never throws: a transport error
 * or a missed deadline comes back as status 0 with `error`.
 */
export function send(base: string, req: RawRequest): Promise<RawResponse> {
  const url = new URL(base);
  const started = Date.now();
  return new Promise((resolve) => {
    let settled = false;
    const finish = (response: Omit<RawResponse, 'ms'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...response, ms: Date.now() - started });
    };
    const headers: Record<string, string | string[]> = { ...req.headers };
    if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
    const outgoing = request(
      { host: url.hostname, port: Number(url.port), method: req.method, path: req.path, headers, agent },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('error', (error) => finish({ status: 0, headers: {}, contentType: '', text: '', body: undefined, error: error.message }));
        incoming.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          try {
            body = text === '' ? undefined : JSON.parse(text);
          } catch {
            body = undefined;
          }
          finish({
            status: incoming.statusCode ?? 0,
            headers: incoming.headers,
            contentType: String(incoming.headers['content-type'] ?? ''),
            text,
            body,
          });
        });
      },
    );
    const timer = setTimeout(() => {
      finish({ status: 0, headers: {}, contentType: '', text: '', body: undefined, error: 'timeout' });
      outgoing.destroy();
    }, req.timeoutMs ?? 30_000);
    outgoing.on('error', (error) => finish({ status: 0, headers: {}, contentType: '', text: '', body: undefined, error: error.message }));
    if (req.body !== undefined) outgoing.write(req.body);
    outgoing.end();
  });
}

/** A JSON request as a client would send it. */
export function sendJson(
  base: string,
  method: string,
  path: string,
  options: { key?: string; json?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RawResponse> {
  const headers: Record<string, string> = {};
  let body: string | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`;
  Object.assign(headers, options.headers);
  return send(base, { method, path, headers, body, timeoutMs: options.timeoutMs });
}

/**
 * A header value as it travels: UTF-8 bytes (HTTP/1.1 carries octets; node:http
 * writes a string's code units as Latin-1). Characters no HTTP client can put in
 * a header (C0 controls but tab, DEL) are left out: they cannot reach the API.
 */
export function onTheWire(value: string): string {
  return (
    Buffer.from(wellFormed(value), 'utf8')
      .toString('latin1')
      // eslint-disable-next-line no-control-regex -- the control characters are the point
      .replace(/[\x00-\x08\x0a-\x1f\x7f]/g, '')
  );
}

/** The string with every lone surrogate replaced by U+FFFD (what UTF-8 can carry). */
export function wellFormed(value: string): string {
  return value.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/** A short, printable account of a request or response for a failure message. */
export function brief(value: unknown, max = 300): string {
  const text = typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('utf8') : JSON.stringify(value);
  if (text === undefined) return 'undefined';
  return text.length <= max ? JSON.stringify(text) : `${JSON.stringify(text.slice(0, max))}… (${text.length} chars)`;
}

export function describeRequest(req: RawRequest): string {
  return `${req.method} ${brief(req.path, 200)} headers=${brief(req.headers ?? {}, 400)} body=${req.body === undefined ? 'none' : brief(req.body)}`;
}

export function describeResponse(res: RawResponse): string {
  if (res.status === 0) return `no response (${res.error}) after ${res.ms} ms`;
  return `${res.status} content-type=${JSON.stringify(res.contentType)} body=${brief(res.text, 400)}`;
}

/** Why a response is not an RFC 9457 4xx problem, or undefined when it is one. */
export function notA4xxProblem(res: RawResponse): string | undefined {
  if (res.status === 0) return `no response: ${res.error}`;
  if (res.status >= 500) return `a ${res.status} (a server fault) for bad input`;
  if (res.status < 400) return `a ${res.status} (success) for a request that must be refused`;
  return notAProblem(res);
}

/** Why a response is not problem+json with type/title/status/detail, or undefined. */
export function notAProblem(res: RawResponse): string | undefined {
  if (!res.contentType.toLowerCase().startsWith('application/problem+json')) return `content-type ${JSON.stringify(res.contentType)}, not application/problem+json`;
  const body = res.body;
  if (typeof body !== 'object' || body === null) return 'a body that is not a JSON object';
  for (const field of ['type', 'title', 'detail'] as const) {
    if (typeof body[field] !== 'string' || body[field] === '') return `no string "${field}" in the problem`;
  }
  if (body.status !== res.status) return `problem status ${JSON.stringify(body.status)} differs from the HTTP status ${res.status}`;
  return undefined;
}

// ---------------------------------------------------------------------------
// The table, read directly: a rejected request must write nothing at all.

export type Snapshot = Map<string, string>;

function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (value instanceof Set) return [...value].map(stable).sort();
  if (value && typeof value === 'object' && !(value instanceof Uint8Array)) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, stable((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

export function tableReader(stack: Pick<IsolatedStack, 'dynamoDbEndpoint' | 'tableName'>) {
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ ...AWS_LOCAL, endpoint: stack.dynamoDbEndpoint }));
  return {
    /** Every item of the table (a full, strongly consistent Scan), keyed by `pk|sk`, as stable JSON. */
    async snapshot(): Promise<Snapshot> {
      const items = new Map<string, string>();
      let start: Record<string, unknown> | undefined;
      for (let page = 0; page < 10_000; page++) {
        const result = await client.send(new ScanCommand({ TableName: stack.tableName, ConsistentRead: true, ExclusiveStartKey: start }));
        for (const item of result.Items ?? []) items.set(`${String(item.pk)}|${String(item.sk)}`, JSON.stringify(stable(item)));
        start = result.LastEvaluatedKey;
        if (!start) return items;
      }
      throw new Error('The table scan did not end');
    },
    destroy: () => client.destroy(),
  };
}

/**
 * What changed between two snapshots, one line per item (empty when nothing did).
 * One kind of new item is expected even of a refused request: the record of an
 * Idempotency-Key, because API.md makes a retry with that key return the first
 * response, refusals included, so the refusal has to be remembered (in the
 * caller's own scope). Any other addition, and any change or removal, counts.
 */
export function snapshotDiff(before: Snapshot, after: Snapshot): string[] {
  const lines: string[] = [];
  for (const [key, value] of after) {
    const old = before.get(key);
    if (old === undefined && key.startsWith('IDEMPOTENCY#')) continue;
    if (old === undefined) lines.push(`added   ${key}: ${brief(value, 500)}`);
    else if (old !== value) lines.push(`changed ${key}: ${brief(old, 400)} -> ${brief(value, 400)}`);
  }
  for (const key of before.keys()) if (!after.has(key)) lines.push(`removed ${key}`);
  return lines;
}

// ---------------------------------------------------------------------------
// Lambdas, invoked as Step Functions and the schedule invoke them.

export const EXPIRE_FUNCTION = 'ticket-booking-dev-expireBooking';
export const SWEEP_FUNCTION = 'ticket-booking-dev-sweepExpiredHolds';

export function lambdaInvoker(stack: Pick<IsolatedStack, 'lambdaEndpoint'>) {
  const lambda = new LambdaClient({ ...AWS_LOCAL, endpoint: stack.lambdaEndpoint });
  return {
    /** Invokes a function: its parsed result, and its FunctionError if it failed. */
    async invoke(functionName: string, payload: unknown): Promise<{ error: string | undefined; result: any }> {
      const response = await lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(payload)) }));
      const text = response.Payload ? Buffer.from(response.Payload).toString('utf8') : '';
      return { error: response.FunctionError, result: text === '' ? undefined : JSON.parse(text) };
    },
    destroy: () => lambda.destroy(),
  };
}

/**
 * The sweeper is scheduled `rate(1 minute)` (serverless-offline fires it at second
 * 0 of every minute). A test in which nothing may end a hold but what the test
 * invokes starts only when the next `windowMs` hold no minute boundary.
 */
export async function clearOfScheduledSweep(windowMs: number): Promise<void> {
  const intoMinute = Date.now() % 60_000;
  if (intoMinute >= 3_000 && intoMinute + windowMs < 60_000) return;
  await sleep(60_000 - intoMinute + 3_000);
}

/** Runs `work` over `items`, at most `concurrency` at a time, in order of the items. */
export async function inBatches<T, R>(items: T[], concurrency: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      for (;;) {
        const index = next++;
        if (index >= items.length) return;
        results[index] = await work(items[index]!, index);
      }
    }),
  );
  return results;
}

/**
 * A raw HTTP client for tests that send what no well-behaved client would: the
 * path goes on the wire as written, any header, any body, and every request has
 * a deadline. Also the short accounts of requests and responses that failure
 * messages quote.
 */
import { Agent, request } from 'node:http';
import type { IsolatedStack } from '../../localstack/isolated-stack';

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

/** The body of a response that must have `status`; any other answer throws, naming `what` and what came back. */
export async function okBody(response: Promise<RawResponse>, status: number, what: string): Promise<any> {
  const r = await response;
  if (r.status !== status) throw new Error(`${what}: ${describeResponse(r)}`);
  return r.body;
}

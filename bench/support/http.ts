import { Agent, request } from 'node:http';

/**
 * A small JSON-over-HTTP client on node:http, timing every call.
 *
 * Why not fetch: under a sustained burst, Node 20's fetch (undici) opens a new
 * connection whenever the one a client just used has not been handed back to its
 * pool yet, so 200 busy clients end up with hundreds of connections. On this
 * (gVisor) machine a server that is saturated accepts new connections late, up to
 * the end of the burst (measured: requests waiting 20 s for their connection to be
 * accepted, with the server's handler taking 5 ms), which measures the sandbox's
 * network stack rather than the service. With node:http, each client owns one
 * keep-alive connection, opened before the clock starts, as a browser would.
 */
export interface HttpResult<T = unknown> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | undefined>;
  /** Milliseconds from sending the request to having read the whole response. */
  ms: number;
}

export interface CallOptions {
  key?: string;
  json?: unknown;
  headers?: Record<string, string>;
  /** The connection pool to use (a client's own); the shared one otherwise. */
  agent?: Agent;
}

export function httpClient(base: string) {
  const url = new URL(base);
  const shared = new Agent({ keepAlive: true, maxSockets: 64 });
  const agents: Agent[] = [shared];
  let resent = 0;

  function call<T = unknown>(method: string, path: string, options: CallOptions = {}): Promise<HttpResult<T>> {
    const headers: Record<string, string> = { ...options.headers };
    const payload = options.json === undefined ? undefined : JSON.stringify(options.json);
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`;
    const start = performance.now();
    const send = (retry: boolean): Promise<HttpResult<T>> => new Promise((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, method, path, headers, agent: options.agent ?? shared }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const ms = performance.now() - start;
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = text === '' ? undefined : JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode ?? 0, body: body as T, headers: res.headers, ms });
        });
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        // The server closed this kept-alive connection for idleness just as the
        // request went out on it, so it never read the request: sending it again,
        // on a new connection, is safe (Node's own advice for this race).
        if (retry && req.reusedSocket && error.code === 'ECONNRESET') {
          resent++;
          resolve(send(false));
        } else reject(error);
      });
      req.end(payload);
    });
    return send(true);
  }

  /** The call's body, or a thrown error naming what came back instead of `status`. */
  async function expect<T = unknown>(status: number, method: string, path: string, options: CallOptions = {}): Promise<T> {
    const result = await call<T>(method, path, options);
    if (result.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${result.status} ${JSON.stringify(result.body)}`);
    return result.body;
  }

  /** A connection of one's own (one client, one keep-alive connection). */
  function ownConnection(): Agent {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    return agent;
  }

  return {
    call,
    expect,
    ownConnection,
    /** How many requests were sent again after their kept-alive connection was closed under them. */
    resent: () => resent,
    close: () => agents.forEach((a) => a.destroy()),
  };
}

export type HttpClient = ReturnType<typeof httpClient>;

import { randomUUID } from 'node:crypto';
import { Agent, createServer, type IncomingHttpHeaders, type IncomingMessage, request, type ServerResponse } from 'node:http';
import { crc32 } from 'node:zlib';

/**
 * The HTTP plumbing of the models: a proxy that passes a call through untouched
 * (headers, body and answer, streamed), or holds it to look at it first. SigV4
 * signatures stay valid because nothing signed changes (the Host header included:
 * the local services do not check it), so the SDKs and the AWS CLI work through it.
 */
export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Headers that belong to one connection, not to the call. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const kept: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (!HOP_BY_HOP.has(name)) kept[name] = value;
  return kept;
}

export async function readBody(message: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of message) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** One local service behind a model, reached over kept-alive connections. */
export class Upstream {
  // Kept-alive connections make the proxy's cost a write and a read on a warm socket.
  private readonly agent = new Agent({ keepAlive: true, timeout: 15_000 });
  private readonly url: URL;

  constructor(readonly endpoint: string) {
    this.url = new URL(endpoint);
  }

  /** Streams a call through and its answer back. A failure reaches the client as a broken connection, as the service itself would. */
  pipe(req: IncomingMessage, res: ServerResponse): void {
    const call = request(
      { host: this.url.hostname, port: this.url.port, method: req.method, path: req.url, headers: endToEnd(req.headers), agent: this.agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
        answer.pipe(res);
      },
    );
    call.on('error', () => res.destroy());
    req.pipe(call);
  }

  /** Sends a call whose body was read, and reads its answer. */
  send(method: string, path: string, headers: IncomingHttpHeaders, body: Buffer): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const call = request(
        {
          host: this.url.hostname,
          port: this.url.port,
          method,
          path,
          headers: { ...endToEnd(headers), 'content-length': String(body.length) },
          agent: this.agent,
        },
        (answer) => {
          readBody(answer).then((data) => resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: data }), reject);
        },
      );
      call.on('error', reject);
      call.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Sends an answer read from the service, as it came. */
export function forward(res: ServerResponse, answer: Answer): void {
  res.writeHead(answer.status, { ...endToEnd(answer.headers), 'content-length': String(answer.body.length) });
  res.end(answer.body);
}

/** An answer of the model's own, in the AWS JSON 1.0 protocol. */
export function replyJson(res: ServerResponse, status: number, body: unknown): void {
  const text = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': String(text.length),
    'x-amzn-requestid': randomUUID(),
    // DynamoDB's SDKs check this checksum of a successful answer's body.
    ...(status === 200 ? { 'x-amz-crc32': String(crc32(text)) } : {}),
  });
  res.end(text);
}

export interface ModelServer {
  endpoint: string;
  close(): Promise<void>;
}

/**
 * Serves a model on `port` (0: a free one). Besides the service's own calls, it
 * answers GET /__like-aws/stats with what the model counted, and DELETE on the same
 * path with a fresh start.
 */
export async function serveModel(options: {
  port: number;
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;
  stats: () => unknown;
  reset: () => void;
  log?: ((line: string) => void) | undefined;
}): Promise<ModelServer> {
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/__like-aws/stats')) {
      if (req.method === 'DELETE') options.reset();
      const text = req.method === 'DELETE' ? '' : JSON.stringify(options.stats());
      res.writeHead(req.method === 'DELETE' ? 204 : 200, { 'content-type': 'application/json' }).end(text);
      return;
    }
    Promise.resolve(options.handle(req, res)).catch((error: Error) => {
      options.log?.(`[like-aws] ${req.headers['x-amz-target'] ?? req.url}: ${error.message}\n`);
      res.destroy();
    });
  });
  // Clients keep their connections open between calls; closing them sooner than the
  // service would makes a race in which a call meets a closing socket.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

import { request as httpRequest } from 'node:http';
import { resolve } from 'node:path';
import { EXPIRE_FUNCTION, lambdaInvoker } from '../support/lambdas';
import { expectProblem } from '../support/expectations';
import { logEntries, waitForLogLine } from '../support/log';
import { uniqueEmail } from '../support/fixtures';
import { adminKey, api, baseUrl, createEvent, createUser } from './client';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One request over node:http, header names exactly as given: fetch lower-cases
 * them, so it cannot show what a client sending `Authorization` meets.
 */
function raw(method: string, path: string, headers: Record<string, string>, body?: string): Promise<RawResponse> {
  return new Promise((resolvePromise, reject) => {
    const url = new URL(path, baseUrl());
    const req = httpRequest(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

describe('header names are read case-insensitively', () => {
  it.each(['Authorization', 'AUTHORIZATION', 'authorization'])('accepts the API key in a header named %s', async (name) => {
    const user = await createUser();

    const response = await raw('GET', '/users/me', { [name]: `Bearer ${user.key}` });

    expect({ status: response.status, id: JSON.parse(response.body).id }).toEqual({ status: 200, id: user.id });
  });

  it('takes a JSON body announced by a header named CONTENT-TYPE', async () => {
    const response = await raw('POST', '/users', { 'CONTENT-TYPE': 'application/json' }, JSON.stringify({ name: 'Case', email: uniqueEmail() }));

    expect(response.status).toBe(201);
  });

  it('takes an Idempotency-Key sent with capitals: the retry replays the first booking', async () => {
    const user = await createUser();
    const event = await createEvent({ total_tickets: 5 });
    const headers = { Authorization: `Bearer ${user.key}`, 'Content-Type': 'application/json', 'Idempotency-Key': `caps-${Date.now()}` };
    const book = () => raw('POST', '/bookings', headers, JSON.stringify({ event_id: event.id, quantity: 1 }));

    const first = await book();
    const again = await book();

    expect([first.status, again.status]).toEqual([201, 201]);
    expect(JSON.parse(again.body).id).toBe(JSON.parse(first.body).id);
    expect(again.headers['idempotent-replayed']).toBe('true');
  });
});

describe('CORS', () => {
  const origin = 'https://shop.example';

  it('lets a browser send Authorization, Content-Type and Idempotency-Key, with the methods the API serves', async () => {
    const response = await raw('OPTIONS', '/bookings', {
      Origin: origin,
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'authorization,content-type,idempotency-key',
    });

    const allowedHeaders = String(response.headers['access-control-allow-headers']).toLowerCase().split(/\s*,\s*/);
    const allowedMethods = String(response.headers['access-control-allow-methods']).split(/\s*,\s*/);
    expect(response.status).toBeLessThan(300);
    expect(allowedHeaders).toEqual(expect.arrayContaining(['authorization', 'content-type', 'idempotency-key']));
    expect(allowedMethods.sort()).toEqual(['DELETE', 'GET', 'PATCH', 'POST']);
  });

  it('lets browser code read Location and Retry-After', async () => {
    const response = await raw('GET', '/health', { Origin: origin });

    const exposed = String(response.headers['access-control-expose-headers']).toLowerCase().split(/\s*,\s*/);
    expect(response.headers['access-control-allow-origin']).toBe(origin);
    expect(exposed).toEqual(expect.arrayContaining(['location', 'retry-after']));
  });
});

describe('paths and methods no route serves', () => {
  it('answers a known path asked with a method it does not serve with 405 and Allow', async () => {
    const response = await api('PUT', '/events', { key: adminKey(), json: {} });

    expectProblem(response, 405, 'method-not-allowed');
    expect(response.headers.get('allow')?.split(', ').sort()).toEqual(['GET', 'POST']);
  });

  it('answers a known path with an id in it the same way', async () => {
    const response = await api('DELETE', '/bookings/some-id', { key: adminKey() });

    expectProblem(response, 405, 'method-not-allowed');
    expect(response.headers.get('allow')).toBe('GET');
  });

  it('answers a path no route serves with 404', async () => {
    expectProblem(await api('GET', '/no/such/path'), 404, 'route-not-found');
  });
});

describe('request ids', () => {
  it('gives every problem a request id of its own', async () => {
    const ids = await Promise.all([1, 2, 3].map(async () => (await api('GET', '/no/such/path')).body.request_id as string));

    expect(new Set(ids).size).toBe(3);
    expect(ids).not.toContain('offlineContext_resourceId');
  });
});

describe('functions invoked directly with the wrong kind of event', () => {
  const logFile = resolve(__dirname, '../../.data/e2e-stack.log');
  let lambda: ReturnType<typeof lambdaInvoker>;
  beforeAll(() => {
    lambda = lambdaInvoker({ lambdaEndpoint: process.env.E2E_LAMBDA_ENDPOINT! });
  });
  afterAll(() => lambda.destroy());

  it('an HTTP function answers a 400 problem saying it expects an API Gateway HTTP API request', async () => {
    const { error, result } = await lambda.invoke('ticket-booking-dev-createUser', {});

    expect(error).toBeUndefined();
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body)).toMatchObject({
      status: 400,
      detail: expect.stringContaining('expects an API Gateway HTTP API request'),
    });
  });

  it('the expire function fails with one sentence naming the booking_ids it expects', async () => {
    const { error, result } = await lambda.invoke(EXPIRE_FUNCTION, { id: 'b1' });

    // errorType is the error's name (InvalidInvocation) on AWS; serverless-offline always says "Error".
    expect(error).toBeDefined();
    expect(result).toMatchObject({ errorMessage: expect.stringContaining('expects { "booking_ids"') });
  });

  it('the authorizer fails naming the authorizer request it expects', async () => {
    const { error, result } = await lambda.invoke('ticket-booking-dev-authorizer', {});

    expect(error).toBeDefined();
    expect(result).toMatchObject({ errorMessage: expect.stringContaining('expects an API Gateway HTTP API authorizer request') });
  });

  it('logs it as a client mistake (a warning), not as an unhandled error', async () => {
    await lambda.invoke('ticket-booking-dev-getMe', { not: 'an http request' });

    const log = await waitForLogLine(logFile, 'saying a function was invoked with the wrong event', (entry) => entry.message === 'invoked with the wrong kind of event');
    const wrongEvent = logEntries(log).filter((entry) => entry.message === 'invoked with the wrong kind of event');
    expect(wrongEvent.map((entry) => entry.level)).toEqual(wrongEvent.map(() => 'WARN'));
  });
});

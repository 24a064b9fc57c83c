import * as z from 'zod';
import { NotFoundError, ServiceUnavailableError, ValidationError } from '../../lib/domain/errors';
import { MalformedJsonError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../../lib/http/errors';
import { toProblemResponse } from '../../lib/http/problem';
import { MAX_BODY_BYTES, readJsonBody, validate } from '../../lib/http/request';

const json = { 'content-type': 'application/json' };

describe('reading a JSON body', () => {
  it('parses JSON sent as application/json, with or without charset', () => {
    expect(readJsonBody({ body: '{"a":1}', headers: json })).toEqual({ a: 1 });
    expect(readJsonBody({ body: '{"a":1}', headers: { 'content-type': 'application/json; charset=utf-8' } })).toEqual({ a: 1 });
  });

  it('decodes a base64-encoded body', () => {
    expect(readJsonBody({ body: Buffer.from('{"a":1}').toString('base64'), isBase64Encoded: true, headers: json })).toEqual({ a: 1 });
  });

  it('has no body when none was sent', () => {
    expect(readJsonBody({ body: undefined, headers: {} })).toBeUndefined();
  });

  it('refuses another media type (415)', () => {
    expect(() => readJsonBody({ body: '{}', headers: { 'content-type': 'text/plain' } })).toThrow(UnsupportedMediaTypeError);
  });

  it('refuses malformed JSON (400)', () => {
    expect(() => readJsonBody({ body: '{"a":', headers: json })).toThrow(MalformedJsonError);
  });

  it('refuses a body over the limit (413)', () => {
    expect(() => readJsonBody({ body: `"${'x'.repeat(MAX_BODY_BYTES)}"`, headers: json })).toThrow(PayloadTooLargeError);
  });
});

describe('validation', () => {
  const schema = z.strictObject({ n: z.number().int(), nested: z.object({ s: z.string() }).optional() });

  it('names every failing field by its path, and every unknown key', () => {
    try {
      validate(schema, { n: 'x', nested: { s: 1 }, extra: true });
      throw new Error('should have failed');
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).fieldProblems?.map((p) => p.path).sort()).toEqual(['extra', 'n', 'nested.s']);
    }
  });
});

describe('problem details', () => {
  const body = (error: unknown) => JSON.parse(toProblemResponse(error, 'req-1').body!);

  it('maps a domain error to its status and a stable type URI', () => {
    const response = toProblemResponse(new NotFoundError('event', 'e1'), 'req-1');
    expect(response.statusCode).toBe(404);
    expect(response.headers?.['content-type']).toBe('application/problem+json');
    expect(body(new NotFoundError('event', 'e1'))).toMatchObject({ type: expect.stringMatching(/\/problems\/event-not-found$/), status: 404 });
  });

  it('lists field problems of a validation error', () => {
    expect(body(ValidationError.field('total_tickets', 'too small'))).toMatchObject({
      status: 422,
      errors: [{ path: 'total_tickets', message: 'too small' }],
    });
  });

  it('tells when to retry a 503', () => {
    expect(toProblemResponse(new ServiceUnavailableError('busy', 2), undefined).headers?.['retry-after']).toBe('2');
  });

  it('answers a dependency that cannot be reached with a 503 and Retry-After, revealing nothing', () => {
    const unreachable = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:8000 table secret-table'), { code: 'ECONNREFUSED' });

    const response = toProblemResponse(unreachable, 'req-1');

    expect({ status: response.statusCode, retryAfter: response.headers['retry-after'] }).toEqual({ status: 503, retryAfter: '1' });
    expect(response.body).not.toMatch(/ECONNREFUSED|secret-table/);
  });

  it("answers AWS's own 'try again' that escaped the retries with a 503", () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' });

    expect(toProblemResponse(throttled, 'req-1').statusCode).toBe(503);
  });

  it('turns anything unexpected into a 500 that reveals nothing', () => {
    const problem = body(new Error('connect ECONNREFUSED 10.0.0.1:8000 table secret-table'));
    expect(problem.status).toBe(500);
    expect(JSON.stringify(problem)).not.toMatch(/ECONNREFUSED|secret-table/);
  });
});

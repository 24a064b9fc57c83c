import { expectFieldProblem, expectProblem, UTC_TIMESTAMP } from '../support/expectations';
import { emailOfLength, uniqueEmail } from '../support/fixtures';
import { adminKey, api, createUser } from './client';

const register = (body: unknown) => api('POST', '/users', { json: body });

describe('POST /users', () => {
  it('registers a user without any API key and returns 201 with id, name, email, created_at and api_key', async () => {
    const email = uniqueEmail();
    const response = await api('POST', '/users', { json: { name: 'Ada Lovelace', email } });

    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(response.body).toEqual({
      id: expect.any(String),
      name: 'Ada Lovelace',
      email,
      created_at: expect.stringMatching(UTC_TIMESTAMP),
      api_key: expect.any(String),
    });
    expect(response.body.id).not.toBe('');
    expect(response.body.api_key).not.toBe('');
  });

  it('returns an api_key that authenticates the new user on GET /users/me', async () => {
    const created = await register({ name: 'Grace Hopper', email: uniqueEmail() });

    const me = await api('GET', '/users/me', { key: created.body.api_key });

    expect(me.status).toBe(200);
    expect(me.body).toEqual({
      id: created.body.id,
      name: created.body.name,
      email: created.body.email,
      created_at: created.body.created_at,
    });
  });

  it('gives every user a different id and api_key', async () => {
    const first = await register({ name: 'First', email: uniqueEmail() });
    const second = await register({ name: 'Second', email: uniqueEmail() });

    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.body.id).not.toBe(first.body.id);
    expect(second.body.api_key).not.toBe(first.body.api_key);
  });

  it('accepts a Content-Type of application/json with a charset parameter', async () => {
    const response = await api('POST', '/users', {
      raw: JSON.stringify({ name: 'Charset', email: uniqueEmail() }),
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });

    expect(response.status).toBe(201);
  });

  it('accepts a name of exactly 200 characters', async () => {
    const name = 'n'.repeat(200);

    const response = await register({ name, email: uniqueEmail() });

    expect(response.status).toBe(201);
    expect(response.body.name).toBe(name);
  });

  it('accepts an email of exactly 254 characters', async () => {
    const email = emailOfLength(254);

    const response = await register({ name: 'Long Email', email });

    expect(response.status).toBe(201);
    expect(response.body.email).toBe(email);
  });

  it('answers 409 email-taken when the email is already registered', async () => {
    const email = uniqueEmail();
    expect((await register({ name: 'Original', email })).status).toBe(201);

    const response = await register({ name: 'Copycat', email });

    expectProblem(response, 409, 'email-taken');
  });

  it('compares emails case-insensitively: the same address in another case is 409 email-taken', async () => {
    const email = uniqueEmail('Mixed.Case');
    expect((await register({ name: 'Lower', email: email.toLowerCase() })).status).toBe(201);

    const response = await register({ name: 'Upper', email: email.toUpperCase() });

    expectProblem(response, 409, 'email-taken');
  });

  it('keeps the first user intact when a duplicate registration is refused', async () => {
    const email = uniqueEmail();
    const first = await register({ name: 'Keeper', email });
    await register({ name: 'Intruder', email });

    const me = await api('GET', '/users/me', { key: first.body.api_key });

    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: first.body.id, name: 'Keeper', email });
  });

  const invalidBodies: Array<[string, () => Record<string, unknown>, string]> = [
    ['the name is missing', () => ({ email: uniqueEmail() }), 'name'],
    ['the name is empty', () => ({ name: '', email: uniqueEmail() }), 'name'],
    ['the name is not a string', () => ({ name: 42, email: uniqueEmail() }), 'name'],
    ['the name is over 200 characters', () => ({ name: 'n'.repeat(201), email: uniqueEmail() }), 'name'],
    ['the email is missing', () => ({ name: 'No Email' }), 'email'],
    ['the email is not an address', () => ({ name: 'Bad Email', email: 'not-an-email' }), 'email'],
    ['the email has no domain', () => ({ name: 'Bad Email', email: 'someone@' }), 'email'],
    ['the email is not a string', () => ({ name: 'Bad Email', email: 12345 }), 'email'],
    ['the email is over 254 characters', () => ({ name: 'Long Email', email: emailOfLength(255) }), 'email'],
    ['the body has an unknown field', () => ({ name: 'Sneaky', email: uniqueEmail(), role: 'admin' }), 'role'],
  ];

  it.each(invalidBodies)('answers 422 naming the field when %s', async (_case, body, path) => {
    const response = await register(body());

    expectFieldProblem(response, path);
  });

  it('answers 422 when the JSON body is not an object', async () => {
    const response = await register([{ name: 'In an array', email: uniqueEmail() }]);

    expectProblem(response, 422, 'validation-failed');
  });

  it('answers 400 malformed-json when the body is not valid JSON', async () => {
    const response = await api('POST', '/users', {
      raw: '{"name": "Broken", "email": ',
      headers: { 'content-type': 'application/json' },
    });

    expectProblem(response, 400, 'malformed-json');
  });

  it('answers 415 unsupported-media-type when the body is not sent as application/json', async () => {
    const response = await api('POST', '/users', {
      raw: JSON.stringify({ name: 'Plain Text', email: uniqueEmail() }),
      headers: { 'content-type': 'text/plain' },
    });

    expectProblem(response, 415, 'unsupported-media-type');
  });

  it('answers 415 for a form-encoded body', async () => {
    const response = await api('POST', '/users', {
      raw: `name=Form&email=${encodeURIComponent(uniqueEmail())}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });

    expectProblem(response, 415, 'unsupported-media-type');
  });

  it('answers 413 payload-too-large for a body over 64 KiB', async () => {
    const response = await register({ name: 'n'.repeat(70_000), email: uniqueEmail() });

    expectProblem(response, 413, 'payload-too-large');
  });
});

describe('GET /users/me', () => {
  it('returns the calling user without its api_key', async () => {
    const user = await createUser('Me Myself');

    const response = await api('GET', '/users/me', { key: user.key });

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(response.body).toEqual({
      id: user.id,
      name: 'Me Myself',
      email: user.email,
      created_at: expect.stringMatching(UTC_TIMESTAMP),
    });
    expect(response.body).not.toHaveProperty('api_key');
  });

  it('tells two users apart by their keys', async () => {
    const [alice, bob] = [await createUser('Alice'), await createUser('Bob')];

    const [forAlice, forBob] = [await api('GET', '/users/me', { key: alice.key }), await api('GET', '/users/me', { key: bob.key })];

    expect(forAlice.body.id).toBe(alice.id);
    expect(forBob.body.id).toBe(bob.id);
  });

  it('answers 401 unauthenticated without an Authorization header', async () => {
    const response = await api('GET', '/users/me');

    expectProblem(response, 401, 'unauthenticated');
  });

  it('answers 401 unauthenticated for a key that was never issued', async () => {
    const response = await api('GET', '/users/me', { key: 'tbk_thisKeyWasNeverIssuedByTheServer0000000000' });

    expectProblem(response, 401, 'unauthenticated');
  });

  it('answers 401 unauthenticated for the Basic scheme', async () => {
    const response = await api('GET', '/users/me', { headers: { authorization: 'Basic x' } });

    expectProblem(response, 401, 'unauthenticated');
  });

  it('answers 401 unauthenticated for a valid user key under a non-Bearer scheme', async () => {
    const user = await createUser();

    const response = await api('GET', '/users/me', { headers: { authorization: `Token ${user.key}` } });

    expectProblem(response, 401, 'unauthenticated');
  });

  it('answers 401 unauthenticated for "Bearer" without a key', async () => {
    const response = await api('GET', '/users/me', { headers: { authorization: 'Bearer' } });

    expectProblem(response, 401, 'unauthenticated');
  });

  it('answers 403 forbidden for the admin key, which has no user account', async () => {
    const response = await api('GET', '/users/me', { key: adminKey() });

    expectProblem(response, 403, 'forbidden');
  });
});

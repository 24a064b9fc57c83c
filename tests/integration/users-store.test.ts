import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { EmailTakenError, NotFoundError } from '../../lib/domain/errors';
import { userStore } from '../../lib/store/users';
import { authenticate } from '../../lib/usecases/authenticate';
import { getUser, registerUser } from '../../lib/usecases/users';
import { uniqueEmail } from '../support/fixtures';
import { testTable } from '../support/table';

/**
 * The users store against a real DynamoDB Local, through the use cases. The table is
 * shared with the other integration tests, so every test uses emails of its own.
 */
const table = testTable();
const store = userStore(table);
const ADMIN_KEY = 'adm_integration_0123456789abcdef';

afterAll(() => table.close());

async function scanAll(): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await table.client.send(new ScanCommand({ TableName: table.name, ExclusiveStartKey: startKey, ConsistentRead: true }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** Every string found anywhere in a value: attribute names and values, nested or not. */
function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value instanceof Set) return [...value].flatMap(stringsIn);
  if (value instanceof Uint8Array) return [Buffer.from(value).toString('utf8'), Buffer.from(value).toString('base64')];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, nested]) => [key, ...stringsIn(nested)]);
  }
  return [];
}

/** The items a registration writes: the user, its email guard and its key hash. */
async function userItems(): Promise<Record<string, unknown>[]> {
  return (await scanAll()).filter((item) => ['user', 'email', 'api-key'].includes(String(item.type)));
}

describe('registering a user', () => {
  it('returns the user with an id, the trimmed email, created_at and an api_key', async () => {
    const email = uniqueEmail();
    const now = new Date();

    const registered = await registerUser(store, { name: 'Ann', email: `  ${email} ` }, now);

    expect(registered).toEqual({
      id: expect.any(String),
      name: 'Ann',
      email,
      created_at: now.toISOString(),
      api_key: expect.stringMatching(/^tbk_[A-Za-z0-9_-]{43}$/),
    });
  });

  it('stores the user, so getUser returns it', async () => {
    const email = uniqueEmail();
    const now = new Date();
    const registered = await registerUser(store, { name: 'Bob', email }, now);

    const user = await getUser(store, registered.id);

    expect(user).toEqual({ id: registered.id, name: 'Bob', email, created_at: now.toISOString() });
  });

  it('returns the user from getUser without any key or hash', async () => {
    const registered = await registerUser(store, { name: 'Cid', email: uniqueEmail() }, new Date());

    const user = await getUser(store, registered.id);

    expect(Object.keys(user).sort()).toEqual(['created_at', 'email', 'id', 'name']);
  });

  it('gives every user a different api_key', async () => {
    const first = await registerUser(store, { name: 'Dee', email: uniqueEmail() }, new Date());
    const second = await registerUser(store, { name: 'Eve', email: uniqueEmail() }, new Date());

    expect(first.api_key).not.toBe(second.api_key);
  });

  it('never stores the raw api_key anywhere in the table', async () => {
    const registered = await registerUser(store, { name: 'Fay', email: uniqueEmail() }, new Date());

    const strings = (await scanAll()).flatMap(stringsIn);

    expect(strings.filter((value) => value.includes(registered.api_key))).toEqual([]);
  });

  it('throws NotFoundError from getUser for an unknown id', async () => {
    await expect(getUser(store, 'no-such-user')).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('registering an email that is taken', () => {
  it('refuses the same email in a different case with EmailTakenError', async () => {
    const email = uniqueEmail();
    await registerUser(store, { name: 'Gus', email: email.toLowerCase() }, new Date());

    await expect(registerUser(store, { name: 'Gus again', email: email.toUpperCase() }, new Date())).rejects.toBeInstanceOf(
      EmailTakenError,
    );
  });

  it('stores nothing when the email is taken', async () => {
    const email = uniqueEmail();
    await registerUser(store, { name: 'Hal', email }, new Date());
    const before = await userItems();

    await registerUser(store, { name: 'Hal again', email: email.toUpperCase() }, new Date()).catch(() => undefined);

    expect(await userItems()).toEqual(expect.arrayContaining(before));
    expect((await userItems()).length).toBe(before.length);
  });

  it('lets exactly one of 10 concurrent registrations of one email succeed', async () => {
    const email = uniqueEmail();

    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, index) => registerUser(store, { name: `Racer ${index}`, email }, new Date())),
    );

    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
  });

  it('refuses the losers of 10 concurrent registrations of one email with EmailTakenError', async () => {
    const email = uniqueEmail();

    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, index) => registerUser(store, { name: `Racer ${index}`, email }, new Date())),
    );

    const reasons = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
    const names = reasons.map((reason) => (reason instanceof Error ? reason.name : String(reason)));
    expect(names).toEqual(Array.from({ length: reasons.length }, () => 'EmailTakenError'));
  });

  it('stores one user for an email registered 10 times concurrently', async () => {
    const email = uniqueEmail();

    await Promise.allSettled(
      Array.from({ length: 10 }, (_, index) => registerUser(store, { name: `Racer ${index}`, email }, new Date())),
    );

    const users = (await scanAll()).filter((item) => item.type === 'user' && item.email === email);
    expect(users).toHaveLength(1);
  });
});

describe('authenticating a request', () => {
  let registered: Awaited<ReturnType<typeof registerUser>>;

  beforeAll(async () => {
    registered = await registerUser(store, { name: 'Ivy', email: uniqueEmail() }, new Date());
  });

  it("identifies the user from 'Bearer <api_key>'", async () => {
    expect(await authenticate(store, ADMIN_KEY, `Bearer ${registered.api_key}`)).toEqual({
      role: 'user',
      user_id: registered.id,
    });
  });

  it('identifies the admin from the admin key', async () => {
    expect(await authenticate(store, ADMIN_KEY, `Bearer ${ADMIN_KEY}`)).toEqual({ role: 'admin' });
  });

  it('treats a request without an Authorization header as anonymous', async () => {
    expect(await authenticate(store, ADMIN_KEY, undefined)).toEqual({ role: 'anonymous' });
  });

  it('treats an empty Authorization header as anonymous', async () => {
    expect(await authenticate(store, ADMIN_KEY, '')).toEqual({ role: 'anonymous' });
  });

  it('treats a key that matches nobody as invalid', async () => {
    expect(await authenticate(store, ADMIN_KEY, 'Bearer tbk_this-key-was-never-issued')).toEqual({ role: 'invalid' });
  });

  it('does not accept the hash of a key in place of the key', async () => {
    const [item] = (await scanAll()).filter((candidate) => candidate.type === 'api-key' && candidate.user_id === registered.id);
    const hash = String(item!.pk).replace(/^APIKEY#/, '');

    expect(await authenticate(store, ADMIN_KEY, `Bearer ${hash}`)).toEqual({ role: 'invalid' });
  });

  it.each([
    ['another scheme', 'Basic x'],
    ['the scheme alone', 'Bearer'],
    ['the scheme and a space alone', 'Bearer '],
    ['two tokens', 'Bearer a b'],
  ])('treats a malformed header (%s) as invalid', async (_what, header) => {
    expect(await authenticate(store, ADMIN_KEY, header)).toEqual({ role: 'invalid' });
  });

  it('treats a user key sent with another scheme as invalid', async () => {
    expect(await authenticate(store, ADMIN_KEY, `Basic ${registered.api_key}`)).toEqual({ role: 'invalid' });
  });
});

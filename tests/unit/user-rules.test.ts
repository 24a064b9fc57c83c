import { CreateUserBody, generateApiKey, hashApiKey, normalizeEmail, secretsEqual } from '../../lib/domain/user';
import type { UserStore } from '../../lib/store/users';
import { authenticate } from '../../lib/usecases/authenticate';

describe('user input', () => {
  it('accepts a name and an email', () => {
    expect(CreateUserBody.safeParse({ name: 'Ann', email: 'ann@example.org' }).success).toBe(true);
  });

  it.each([
    [{ name: '', email: 'ann@example.org' }],
    [{ name: 'x'.repeat(201), email: 'ann@example.org' }],
    [{ name: 'Ann', email: 'not-an-email' }],
    [{ name: 'Ann', email: `${'a'.repeat(250)}@x.org` }],
    [{ name: 'Ann', email: 'ann@example.org', admin: true }],
  ])('refuses %p', (body) => {
    expect(CreateUserBody.safeParse(body).success).toBe(false);
  });

  it('compares emails regardless of case', () => {
    expect(normalizeEmail(' Ann@Example.ORG ')).toBe('ann@example.org');
  });
});

describe('API keys', () => {
  it('are random and stored only as a hash', () => {
    const [a, b] = [generateApiKey(), generateApiKey()];
    expect(a).not.toBe(b);
    expect(hashApiKey(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashApiKey(a)).not.toContain(a);
  });

  it('compare equal only when identical', () => {
    expect(secretsEqual('secret-one', 'secret-one')).toBe(true);
    expect(secretsEqual('secret-one', 'secret-two')).toBe(false);
    expect(secretsEqual('short', 'a much longer secret')).toBe(false);
  });
});

describe('identifying the caller', () => {
  const adminKey = 'admin-key-0123456789';
  const userKey = 'tbk_user-key';
  // An in-memory stand-in for the user store: the real one is tested against DynamoDB Local.
  const store: Pick<UserStore, 'userIdForKey'> = {
    userIdForKey: async (hash) => (hash === hashApiKey(userKey) ? 'u1' : undefined),
  };
  const identify = (header: string | undefined) => authenticate(store as UserStore, adminKey, header);

  it('knows the admin by the admin key', async () => {
    await expect(identify(`Bearer ${adminKey}`)).resolves.toEqual({ role: 'admin' });
  });

  it('knows a user by the hash of their key', async () => {
    await expect(identify(`Bearer ${userKey}`)).resolves.toEqual({ role: 'user', user_id: 'u1' });
  });

  it('accepts the scheme in any case', async () => {
    await expect(identify(`bearer ${userKey}`)).resolves.toEqual({ role: 'user', user_id: 'u1' });
  });

  it('treats a missing header as anonymous', async () => {
    await expect(identify(undefined)).resolves.toEqual({ role: 'anonymous' });
  });

  it.each(['Bearer unknown', 'Basic abc', 'Bearer', 'Bearer a b', adminKey])('treats %p as an invalid key', async (header) => {
    await expect(identify(header)).resolves.toEqual({ role: 'invalid' });
  });
});

import type { Caller } from '../domain/caller';
import { hashApiKey, secretsEqual } from '../domain/user';
import type { UserStore } from '../store/users';

const BEARER = /^Bearer[ ]+([\x21-\x7e]{1,512})[ ]*$/i;

/**
 * Identifies the caller from an `Authorization` header value.
 * 1. No header: anonymous. Not `Bearer <key>`: invalid.
 * 2. The admin key, compared in constant time.
 * 3. Otherwise the user whose key hash matches (one GetItem), or invalid.
 * The key itself is never logged or returned.
 */
export async function authenticate(store: UserStore, adminKey: string, authorization: string | undefined): Promise<Caller> {
  if (authorization === undefined || authorization.trim() === '') return { role: 'anonymous' };
  const key = BEARER.exec(authorization)?.[1];
  if (key === undefined) return { role: 'invalid' };
  if (secretsEqual(key, adminKey)) return { role: 'admin' };
  const userId = await store.userIdForKey(hashApiKey(key));
  return userId === undefined ? { role: 'invalid' } : { role: 'user', user_id: userId };
}

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import { Text } from './text';

export const CreateUserBody = z
  .strictObject({
    name: Text(1, 200),
    email: z.email().max(254),
  })
  .meta({ id: 'CreateUser' });
export type CreateUserInput = z.infer<typeof CreateUserBody>;

export interface User {
  id: string;
  name: string;
  email: string;
  created_at: string;
}

export const UserView = z
  .object({
    id: z.string(),
    name: z.string(),
    email: z.string(),
    created_at: z.string().meta({ format: 'date-time' }),
  })
  .meta({ id: 'User' });

export const NewUserView = UserView.extend({
  api_key: z.string().meta({ description: 'The API key of this user. Shown once: only its hash is stored.' }),
}).meta({ id: 'NewUser' });

/** Emails are unique regardless of case: `Ann@X.org` and `ann@x.org` are one address. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

const KEY_PREFIX = 'tbk_';

/** A new API key: 256 random bits, so a fast hash is enough to store it safely. */
export function generateApiKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

/**
 * Keys are stored and looked up only by their SHA-256. A slow password hash would
 * buy nothing: the keys are random, not chosen by people, so they cannot be guessed
 * from a dictionary, and every request would pay for it.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Compares two secrets in constant time (hashing first makes the lengths equal). */
export function secretsEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb);
}

export function toUserView(user: User): z.infer<typeof UserView> {
  return { id: user.id, name: user.name, email: user.email, created_at: user.created_at };
}

import { randomUUID } from 'node:crypto';
import { EmailTakenError, NotFoundError } from '../domain/errors';
import { type CreateUserInput, generateApiKey, hashApiKey, normalizeEmail, type User } from '../domain/user';
import type { UserStore } from '../store/users';

/**
 * Registers a user.
 * 1. Generate an API key; keep only its hash.
 * 2. Store the user, an email guard (unique, case-insensitive) and the key hash
 *    in one transaction: 409 if the email is taken, and then nothing is stored.
 * 3. Return the user with the key: the only time the key is ever shown.
 */
export async function registerUser(store: UserStore, input: CreateUserInput, now: Date): Promise<User & { api_key: string }> {
  const apiKey = generateApiKey();
  const user: User = { id: randomUUID(), name: input.name, email: input.email.trim(), created_at: now.toISOString() };
  const outcome = await store.create(user, normalizeEmail(input.email), hashApiKey(apiKey));
  if (outcome.kind === 'email-taken') throw new EmailTakenError();
  return { ...user, api_key: apiKey };
}

export async function getUser(store: UserStore, id: string): Promise<User> {
  const user = await store.get(id);
  if (!user) throw new NotFoundError('user', id);
  return user;
}

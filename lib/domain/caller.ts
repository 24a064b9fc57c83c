import * as z from 'zod';

/**
 * Who is calling, as the authorizer established it. `anonymous` sent no key;
 * `invalid` sent one that matches nobody; `unavailable`: the key could not be
 * checked (the table unreachable). All reach the handler, which decides (401 or
 * 503 where a key is required), so that every refusal is a problem+json body.
 */
export const Caller = z.discriminatedUnion('role', [
  z.object({ role: z.literal('admin') }),
  z.object({ role: z.literal('user'), user_id: z.string().min(1) }),
  z.object({ role: z.literal('anonymous') }),
  z.object({ role: z.literal('invalid') }),
  z.object({ role: z.literal('unavailable') }),
]);
export type Caller = z.infer<typeof Caller>;
export type UserCaller = Extract<Caller, { role: 'user' }>;

/** Who may call a route. */
export type Access = 'public' | 'user' | 'admin' | 'user-or-admin';

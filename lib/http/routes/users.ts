import { CreateUserBody, NewUserView, UserView } from '../../domain/user';
import { defineRoute } from '../route';

/** The user routes (functions/users.ts). */
export const usersRoutes = {
  createUser: defineRoute({
    operationId: 'createUser',
    method: 'post',
    path: '/users',
    summary: 'Register a user; the API key is returned once',
    description:
      'Anyone may register. `api_key` is in this response only: the service keeps only its SHA-256. 409 `email-taken` when the email, compared case-insensitively, is registered already.',
    tag: 'Users',
    access: 'public',
    body: CreateUserBody,
    success: { status: 201, description: 'The user, with its API key', schema: NewUserView },
    problems: [409, 503],
  }),
  getMe: defineRoute({
    operationId: 'getMe',
    method: 'get',
    path: '/users/me',
    summary: 'The calling user',
    description: 'The user whose key is sent. The admin key has no user account (403).',
    tag: 'Users',
    access: 'user',
    success: { status: 200, description: 'The user', schema: UserView },
    problems: [404],
  }),
};

import { CreateUserBody, NewUserView, UserView } from '../../domain/user';
import { defineRoute } from '../route';

/** The user routes (functions/users.ts). */
export const usersRoutes = {
  createUser: defineRoute({
    operationId: 'createUser',
    method: 'post',
    path: '/users',
    summary: 'Register a user; the API key is returned once',
    tag: 'Users',
    access: 'public',
    body: CreateUserBody,
    success: { status: 201, description: 'The user, with its API key', schema: NewUserView },
    problems: [409],
  }),
  getMe: defineRoute({
    operationId: 'getMe',
    method: 'get',
    path: '/users/me',
    summary: 'The calling user',
    tag: 'Users',
    access: 'user',
    success: { status: 200, description: 'The user', schema: UserView },
    problems: [],
  }),
};

import { toUserView } from '../lib/domain/user';
import { httpRoute } from '../lib/http/handler';
import { usersRoutes as routes } from '../lib/http/routes/users';
import { getUser, registerUser } from '../lib/usecases/users';
import { stores } from '../lib/wiring/stores';

export const create = httpRoute(routes.createUser, async ({ body }) => {
  return { body: await registerUser(stores.users, body, new Date()) };
});

export const me = httpRoute(routes.getMe, async ({ caller }) => ({
  body: toUserView(await getUser(stores.users, caller.user_id)),
}));

import type { FastifyInstance } from 'fastify';
import { pageLinkOf } from '../../plugins/request-context.js';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ID_PARAM, idParams, looseBody } from '../../lib/validation.js';
import { ALL_ROLES, actorOf, STAFF, SUPERUSER } from '../../plugins/auth.js';
import { deniedAudit } from '../audit/index.js';
import { type AccountService, type PrivilegedKind } from './account-service.js';
import {
  checkProfileUpdate,
  checkUserUpdate,
  parseNewAccount,
  parseNewUser,
  UserListQuery,
} from './input.js';
import type { ProfileService } from './profile-service.js';
import {
  ActivationSchema,
  CreatedAccountSchema,
  ProfileSchema,
  UserPageSchema,
  UserSchema,
} from './schemas.js';
import type { UsersService } from './service.js';

// Bodies are parsed in the handlers by input.ts, whose messages and order are the contract's (access
// checks first where it says so): a stricter schema here would answer before them. These shapes
// document the bodies.
const field = z.unknown().optional();
const UserBody = looseBody({ email: field, first_name: field, last_name: field, role: field });
const NewUserBody = looseBody({
  email: field,
  first_name: field,
  last_name: field,
  role: field,
  password: field,
});
const AccountBody = looseBody({ email: field, password: field, first_name: field, last_name: field });
const ProfileBody = looseBody({});

/** Users routes (docs/contract.md#users): declare, validate, delegate. */
export function usersRoutes({
  users,
  profiles,
  accounts,
}: {
  users: UsersService;
  profiles: ProfileService;
  accounts: AccountService;
}) {
  return async (app: FastifyInstance) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const tags = ['users'];
    const userPath = `/users/${ID_PARAM}/`;

    r.get(
      '/users/',
      {
        config: { auth: STAFF },
        schema: {
          tags,
          summary: 'All users, id ascending; filters role, is_active, search, id_number',
          querystring: UserListQuery,
          response: { 200: UserPageSchema },
        },
      },
      async (req) => users.list(pageLinkOf(req), actorOf(req), req.meta, req.query),
    );

    r.post(
      '/users/',
      {
        config: { auth: STAFF },
        schema: {
          tags,
          summary: 'Create a user (admins: candidates only)',
          body: NewUserBody,
          response: { 201: UserSchema },
        },
      },
      async (req, reply) => {
        const id = await accounts.create(actorOf(req), req.meta, parseNewUser(req.body));
        return reply.code(201).send(await users.get(actorOf(req), req.meta, id));
      },
    );

    // Static segments win over the parametric `/users/:id/` in the router.
    r.get(
      '/users/candidates/',
      {
        config: { auth: STAFF },
        schema: {
          tags,
          summary: 'All candidates, active or not, id ascending',
          response: { 200: UserPageSchema },
        },
      },
      async (req) => users.candidates(pageLinkOf(req), actorOf(req), req.meta, req.query),
    );

    r.get(
      '/users/me/',
      {
        config: { auth: ALL_ROLES },
        schema: { tags, summary: 'The caller (as auth/me/)', response: { 200: UserSchema } },
      },
      async (req) => users.me(actorOf(req)),
    );
    for (const method of ['PUT', 'PATCH'] as const) {
      r.route({
        method,
        url: '/users/me/',
        config: { auth: ALL_ROLES },
        schema: { tags, summary: 'Update the caller', body: UserBody, response: { 200: UserSchema } },
        handler: async (req) => {
          const actor = actorOf(req);
          return users.update(actor, req.meta, actor.userId, checkUserUpdate(req.body, method === 'PUT'));
        },
      });
    }

    const creation = (url: string, kind: PrivilegedKind, auth: typeof STAFF, deniedMessage: string) =>
      r.post(
        url,
        {
          config: { auth, deniedMessage, errorKey: true },
          schema: {
            tags,
            summary: `Create a ${kind} account`,
            body: AccountBody,
            response: { 201: CreatedAccountSchema },
          },
        },
        async (req, reply) =>
          reply
            .code(201)
            .send(await accounts.createPrivileged(actorOf(req), req.meta, kind, parseNewAccount(req.body))),
      );
    const adminsOnly = 'Only superusers can create admin accounts';
    creation('/users/create-admin/', 'admin', SUPERUSER, adminsOnly);
    creation('/auth/create-admin/', 'admin', SUPERUSER, adminsOnly);
    creation('/auth/create-superuser/', 'superuser', SUPERUSER, adminsOnly);
    creation('/users/create-candidate/', 'candidate', STAFF, 'Only admins can create candidate accounts');

    r.get(
      userPath,
      {
        config: { auth: ALL_ROLES, deniedAudit: deniedAudit('user', 'read') },
        schema: {
          tags,
          summary: 'A user (candidates: themselves)',
          params: idParams,
          response: { 200: UserSchema },
        },
      },
      async (req) => users.get(actorOf(req), req.meta, req.params.id),
    );
    for (const method of ['PUT', 'PATCH'] as const) {
      r.route({
        method,
        url: userPath,
        config: { auth: ALL_ROLES, deniedAudit: deniedAudit('user', 'update') },
        schema: {
          tags,
          summary: 'Update a user',
          params: idParams,
          body: UserBody,
          response: { 200: UserSchema },
        },
        handler: async (req) =>
          users.update(actorOf(req), req.meta, req.params.id, checkUserUpdate(req.body, method === 'PUT')),
      });
    }

    const profilePath = `/users/${ID_PARAM}/profile/`;
    r.get(
      profilePath,
      {
        config: { auth: ALL_ROLES, deniedAudit: deniedAudit('profile', 'read') },
        schema: {
          tags,
          summary: "A user's profile (by user id)",
          params: idParams,
          response: { 200: ProfileSchema },
        },
      },
      async (req) => profiles.get(actorOf(req), req.meta, req.params.id),
    );
    for (const method of ['PUT', 'PATCH'] as const) {
      r.route({
        method,
        url: profilePath,
        config: { auth: ALL_ROLES, deniedAudit: deniedAudit('profile', 'update') },
        schema: {
          tags,
          summary: "Update a user's profile (partial; null clears)",
          params: idParams,
          body: ProfileBody,
          response: { 200: ProfileSchema },
        },
        handler: async (req) =>
          profiles.update(actorOf(req), req.meta, req.params.id, checkProfileUpdate(req.body)),
      });
    }

    for (const [action, active] of [
      ['activate', true],
      ['deactivate', false],
    ] as const) {
      r.patch(
        `/users/${ID_PARAM}/${action}/`,
        {
          config: { auth: STAFF },
          schema: {
            tags,
            summary: `${action} a user`,
            params: idParams,
            response: { 200: ActivationSchema },
          },
        },
        async (req) => accounts.setActive(actorOf(req), req.meta, req.params.id, active),
      );
    }
  };
}

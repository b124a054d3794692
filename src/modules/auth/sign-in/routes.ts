import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { looseBody } from '../../../lib/validation.js';
import { ALL_ROLES, actorOf } from '../../../plugins/auth.js';
import { UserSchema } from '../../users/index.js';
import type { AuthService } from './service.js';

const TokenPair = z.object({ access: z.string(), refresh: z.string() });
const Detail = z.object({ detail: z.string() });

/**
 * Sign-in routes (docs/auth.md#registration, #login, #token-refresh, #logout): declare, validate,
 * delegate. The bodies are checked here for shape and type; the ordered checks are the service's.
 */
export function authRoutes(auth: AuthService) {
  return async (app: FastifyInstance) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const tags = ['auth'];

    r.post(
      '/auth/register/',
      {
        // Every error of register also carries `error` (docs/contract.md#error-envelope), even the NUL
        // check's.
        config: { auth: 'public-ignore-token', rateLimit: 'register', errorKey: true },
        schema: {
          tags,
          summary: 'Register a candidate account',
          body: looseBody({
            email: z.string().max(1000).optional(),
            password: z.string().max(1000).optional(),
            first_name: z.string().max(1000).optional(),
            last_name: z.string().max(1000).optional(),
            captcha_token: z.string().max(4096).optional(),
          }),
          response: { 201: z.object({ user: UserSchema, access: z.string(), refresh: z.string() }) },
        },
      },
      async (req, reply) => reply.code(201).send(await auth.register(req.body ?? {}, req.meta)),
    );

    r.post(
      '/auth/login/',
      {
        config: { auth: 'public-ignore-token', rateLimit: 'login' },
        schema: {
          tags,
          summary: 'Log in with e-mail and password',
          body: looseBody({
            email: z.string().max(1000).optional(),
            password: z.string().max(1000).optional(),
            captcha_token: z.string().max(4096).optional(),
          }),
          response: {
            200: z.union([
              z.object({ access: z.string(), refresh: z.string(), user: UserSchema }),
              z.object({ requires_2fa: z.literal(true), email: z.string(), message: z.string() }),
            ]),
          },
        },
      },
      async (req) => (await auth.login(req.body ?? {}, req.meta)).body,
    );

    const refresh = {
      config: { auth: 'public-ignore-token' as const, rateLimit: 'refresh' as const },
      schema: {
        tags,
        summary: 'Rotate a refresh token',
        body: looseBody({ refresh: z.string().max(4096).optional() }),
        response: { 200: TokenPair },
      },
    };
    r.post('/auth/token/refresh/', refresh, async (req) => auth.refresh(req.body ?? {}, req.meta));
    r.post('/auth/refresh/', refresh, async (req) => auth.refresh(req.body ?? {}, req.meta));

    r.post(
      '/auth/logout/',
      {
        config: { auth: ALL_ROLES },
        schema: {
          tags,
          summary: 'End the current session (and optionally the one of a given refresh token)',
          body: looseBody({ refresh: z.string().max(4096).optional() }),
          response: { 200: Detail },
        },
      },
      async (req) => auth.logout(actorOf(req), req.body ?? {}, req.meta),
    );

    r.get(
      '/auth/me/',
      {
        config: { auth: ALL_ROLES },
        schema: { tags, summary: 'The caller', response: { 200: UserSchema } },
      },
      async (req) => auth.me(actorOf(req)),
    );
  };
}

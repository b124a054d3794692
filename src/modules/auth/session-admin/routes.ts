import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ALL_ROLES, STAFF, actorOf } from '../../../plugins/auth.js';
import { AdminSessionsQuerySchema, ForceLogoutBody, SessionSchema } from './schemas.js';
import type { SessionAdminService } from './service.js';

/** Own sessions and the staff's view of everyone's (docs/auth.md#sessions). */
export function sessionAdminRoutes(svc: SessionAdminService) {
  return async (app: FastifyInstance) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const tags = ['sessions'];

    r.get(
      '/auth/sessions/',
      {
        config: { auth: ALL_ROLES },
        schema: {
          tags,
          summary: 'My sessions',
          response: { 200: z.object({ sessions: z.array(SessionSchema), count: z.number() }) },
        },
      },
      async (req) => svc.listOwn(actorOf(req)),
    );

    r.delete(
      '/auth/sessions/all/',
      {
        config: { auth: ALL_ROLES },
        schema: {
          tags,
          summary: 'Sign out everywhere (this session included)',
          response: { 200: z.object({ message: z.string(), count: z.number(), detail: z.string() }) },
        },
      },
      async (req) => svc.revokeAll(actorOf(req), req.meta),
    );

    r.delete(
      '/auth/sessions/all-except-current/',
      {
        config: { auth: ALL_ROLES },
        schema: {
          tags,
          summary: 'Sign out every other session',
          response: {
            200: z.object({
              message: z.string(),
              count: z.number(),
              terminated_devices: z.array(
                z.object({ device: z.string(), browser: z.string(), last_activity: z.string() }),
              ),
            }),
          },
        },
      },
      async (req) => svc.revokeOthers(actorOf(req), req.meta),
    );

    r.delete(
      '/auth/sessions/:session_key/',
      {
        config: { auth: ALL_ROLES },
        schema: {
          tags,
          summary: 'Sign out one of my other sessions',
          params: z.object({ session_key: z.string().max(200) }),
          response: { 200: z.object({ message: z.string(), device: z.string(), browser: z.string() }) },
        },
      },
      async (req) => svc.revokeOne(actorOf(req), req.params.session_key, req.meta),
    );

    r.get(
      '/auth/admin/sessions/',
      {
        config: { auth: STAFF },
        schema: {
          tags,
          summary: "Everyone's live sessions (staff)",
          querystring: AdminSessionsQuerySchema,
          response: {
            200: z.object({
              sessions: z.array(SessionSchema.extend({ user_email: z.string(), user_role: z.string() })),
              count: z.number(),
              filters: z.object({
                user_email: z.string().nullable(),
                active_only: z.boolean(),
                suspicious_only: z.boolean(),
              }),
            }),
          },
        },
      },
      async (req) => svc.listAll(req.query),
    );

    r.post(
      '/auth/admin/force-logout/',
      {
        config: { auth: STAFF },
        schema: {
          tags,
          summary: "End all of a user's sessions (staff; reason required)",
          body: ForceLogoutBody,
          response: {
            200: z.object({
              message: z.string(),
              sessions_terminated: z.number(),
              target_user: z.string(),
              reason: z.string(),
            }),
          },
        },
      },
      async (req) => svc.forceLogout(actorOf(req), req.body ?? {}, req.meta),
    );
  };
}

import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { bool } from '../../lib/fields.js';
import { looseBody } from '../../lib/validation.js';
import { ALL_ROLES, STAFF, actorOf } from '../../plugins/auth.js';
import type { SessionsService } from './sessions-service.js';

const Session = z.object({
  id: z.number(),
  session_key: z.string(),
  device_type: z.string(),
  browser: z.string(),
  os: z.string(),
  user_agent: z.string(),
  ip_address: z.string().nullable(),
  country: z.string(),
  city: z.string(),
  created_at: z.string(),
  last_activity: z.string(),
  expires_at: z.string(),
  is_active: z.boolean(),
  is_expired: z.boolean(),
  is_suspicious: z.boolean(),
  is_current: z.boolean(),
  time_since_activity: z.string(),
});

/** Own sessions and the admin's view of everyone's (spec auth.md §7). */
export function sessionsRoutes(svc: SessionsService) {
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
          response: { 200: z.object({ sessions: z.array(Session), count: z.number() }) },
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
          querystring: z.object({
            user_email: z.string().max(254).optional(),
            active_only: bool().optional(),
            suspicious_only: bool().optional(),
          }),
          response: {
            200: z.object({
              sessions: z.array(Session.extend({ user_email: z.string(), user_role: z.string() })),
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
          body: looseBody({
            user_id: z.union([z.number(), z.string().max(20)]).optional(),
            reason: z.string().max(2000).optional(),
          }),
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

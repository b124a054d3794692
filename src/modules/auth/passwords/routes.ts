import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { looseBody } from '../../../lib/validation.js';
import { ALL_ROLES, actorOf } from '../../../plugins/auth.js';
import type { PasswordService } from './service.js';

/** Password change and reset (docs/auth.md#password-change, docs/auth.md#password-reset). */
export function passwordRoutes(passwords: PasswordService) {
  return async (app: FastifyInstance) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const tags = ['passwords'];
    const MessageDetail = z.object({ message: z.string(), detail: z.string() });
    const text = z.string().max(1000).optional();

    r.post(
      '/auth/password-change/',
      {
        config: { auth: ALL_ROLES, rateLimit: 'sensitive_user' },
        schema: {
          tags,
          summary: 'Change the password (other sessions are signed out)',
          body: looseBody({ old_password: text, new_password: text }),
          response: { 200: MessageDetail },
        },
      },
      async (req) => passwords.change(actorOf(req), req.body ?? {}, req.meta),
    );

    r.post(
      '/auth/password-reset/request/',
      {
        config: { auth: 'public-ignore-token', rateLimit: 'reset_request' },
        schema: {
          tags,
          summary: 'E-mail a reset link (always the same answer)',
          body: looseBody({ email: text, captcha_token: z.string().max(4096).optional() }),
          response: { 200: MessageDetail },
        },
      },
      async (req) => passwords.requestReset(req.body ?? {}, req.meta),
    );

    r.post(
      '/auth/password-reset/validate-token/',
      {
        config: { auth: 'public-ignore-token' },
        schema: {
          tags,
          summary: 'Check a reset token without using it',
          body: looseBody({ token: text }),
          response: { 200: z.object({ valid: z.literal(true), email: z.string(), detail: z.string() }) },
        },
      },
      async (req) => passwords.validateToken(req.body ?? {}),
    );

    r.post(
      '/auth/password-reset/confirm/',
      {
        config: { auth: 'public-ignore-token', rateLimit: 'reset_confirm' },
        schema: {
          tags,
          summary: 'Set a new password with a reset token (all sessions are signed out)',
          body: looseBody({ token: text, new_password: text }),
          response: { 200: MessageDetail },
        },
      },
      async (req) => passwords.confirmReset(req.body ?? {}, req.meta),
    );
  };
}

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AUTH_FAILED } from '../../../lib/errors.js';
import { looseBody } from '../../../lib/validation.js';
import { ALL_ROLES, actorOf } from '../../../plugins/auth.js';
import { UserSchema } from '../../users/index.js';
import type { Enroller, TwoFactorService } from './service.js';

/** 2FA routes (docs/auth.md#2fa-endpoints): setup and verify-setup also accept a 2FA setup token. */
export function twoFactorRoutes({ twoFactor: svc }: { twoFactor: TwoFactorService }) {
  const enroller = (req: FastifyRequest): Enroller => {
    if (req.setupClaims) return { kind: 'setup', userId: Number(req.setupClaims.user_id) };
    if (req.actor) return { kind: 'actor', actor: req.actor };
    throw AUTH_FAILED();
  };
  return async (app: FastifyInstance) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const tags = ['two-factor'];
    const sensitive = { auth: ALL_ROLES, rateLimit: 'sensitive_user' as const };
    const password = looseBody({ password: z.string().max(1000).optional() });

    r.post(
      '/auth/2fa/setup/',
      {
        config: { ...sensitive, allowSetupToken: true },
        schema: {
          tags,
          summary: 'Start TOTP enrolment (access or setup token)',
          response: {
            200: z.object({
              secret: z.string(),
              qr_code_base64: z.string(),
              provisioning_uri: z.string(),
              issuer: z.string(),
              message: z.string(),
            }),
          },
        },
      },
      async (req) => svc.setup(enroller(req)),
    );

    r.post(
      '/auth/2fa/verify-setup/',
      {
        config: { ...sensitive, allowSetupToken: true },
        schema: {
          tags,
          summary: 'Confirm enrolment with a first code; a setup token also signs in',
          body: looseBody({ totp_code: z.union([z.string().max(100), z.number()]).optional() }),
          response: {
            200: z.object({
              message: z.string(),
              backup_codes: z.array(z.string()),
              backup_codes_warning: z.string(),
              access: z.string().optional(),
              refresh: z.string().optional(),
              user: UserSchema.optional(),
            }),
          },
        },
      },
      async (req) => svc.verifySetup(enroller(req), req.body ?? {}, req.meta),
    );

    r.post(
      '/auth/2fa/verify-code/',
      {
        config: { auth: 'public-ignore-token', rateLimit: '2fa_verify' },
        schema: {
          tags,
          summary: 'Second login step: TOTP or backup code',
          body: looseBody({
            email: z.string().max(1000).optional(),
            code: z.union([z.string().max(100), z.number()]).optional(),
          }),
          response: { 200: z.object({ access: z.string(), refresh: z.string(), user: UserSchema }) },
        },
      },
      async (req) => svc.verifyCode(req.body ?? {}, req.meta),
    );

    r.post(
      '/auth/2fa/disable/',
      {
        config: sensitive,
        schema: {
          tags,
          summary: 'Turn 2FA off (candidates only)',
          body: password,
          response: { 200: z.object({ message: z.string() }) },
        },
      },
      async (req) => svc.disable(actorOf(req), req.body ?? {}, req.meta),
    );

    r.post(
      '/auth/2fa/backup-codes/',
      {
        config: sensitive,
        schema: {
          tags,
          summary: 'Replace the backup codes',
          body: password,
          response: {
            200: z.object({
              message: z.string(),
              backup_codes: z.array(z.string()),
              count: z.number(),
              warning: z.string(),
            }),
          },
        },
      },
      async (req) => svc.regenerateBackupCodes(actorOf(req), req.body ?? {}, req.meta),
    );

    r.get(
      '/auth/2fa/status/',
      {
        config: { auth: ALL_ROLES },
        schema: {
          tags,
          summary: 'Enrolment state of the caller',
          response: {
            200: z.object({
              totp_enabled: z.boolean(),
              totp_enabled_at: z.string().nullable(),
              backup_codes_remaining: z.number(),
              required: z.boolean(),
            }),
          },
        },
      },
      async (req) => svc.status(actorOf(req)),
    );
  };
}

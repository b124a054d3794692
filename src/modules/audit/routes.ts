import type { FastifyInstance } from 'fastify';
import { pageLinkOf } from '../../plugins/request-context.js';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { ALL_ROLES, SUPERUSER, actorOf } from '../../plugins/auth.js';
import type { AuditLogService } from './log-service.js';
import { AccessLogPageSchema, AccessLogQuery, AuditEntryPageSchema, AuditLogQuery } from './schemas.js';

/**
 * Audit routes under /popia/ (docs/privacy.md#access-log, #audit-log-search): declare, validate,
 * delegate.
 */
export function auditRoutes({ auditLog: log }: { auditLog: AuditLogService }) {
  return async (app: FastifyInstance) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const tags = ['audit'];

    r.get(
      '/popia/access-log/',
      {
        config: { auth: ALL_ROLES },
        schema: {
          tags,
          summary: 'Who accessed my data: entries about the caller by others, newest first',
          description: '`?include_self=true` adds the caller’s own actions. Actor IPs are never shown.',
          querystring: AccessLogQuery,
          response: { 200: AccessLogPageSchema },
        },
      },
      async (req) => log.accessLog(pageLinkOf(req), actorOf(req), req.query),
    );

    r.get(
      '/popia/audit-log/',
      {
        config: { auth: SUPERUSER },
        schema: {
          tags,
          summary: 'The full audit log, newest first (superuser)',
          description:
            'Filters: `actor`, `subject` (user ids), `action`, `resource_type`, `outcome` (`success`, `denied`, `failure`), `date_from`, `date_to` (YYYY-MM-DD, inclusive, in TIME_ZONE).',
          querystring: AuditLogQuery,
          response: { 200: AuditEntryPageSchema },
        },
      },
      async (req) => log.search(pageLinkOf(req), req.query),
    );
  };
}

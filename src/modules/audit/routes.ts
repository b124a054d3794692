import type { FastifyInstance } from 'fastify';
import { pageLinkOf } from '../../plugins/request-context.js';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { ALL_ROLES, SUPERUSER, actorOf } from '../../plugins/auth.js';
import type { AuditChainService } from './chain-service.js';
import type { AuditLogService } from './log-service.js';
import {
  AccessLogPageSchema,
  AccessLogQuery,
  AuditEntryPageSchema,
  AuditLogQuery,
  ChainStateSchema,
} from './schemas.js';

/**
 * Audit routes under /popia/ (docs/privacy.md#access-log, #audit-log-search): declare, validate,
 * delegate.
 */
export function auditRoutes({
  auditLog: log,
  auditChain: chain,
}: {
  auditLog: AuditLogService;
  auditChain: AuditChainService;
}) {
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

    // A POST: verifying walks the whole chain and records its verdict (`audit_verified`).
    r.post(
      '/popia/audit-log/verify/',
      {
        config: { auth: SUPERUSER },
        schema: {
          tags,
          summary: "Verify the audit log's keyed chain and checkpoints now (superuser), as `audit:verify`",
          response: { 200: ChainStateSchema },
        },
      },
      async (req) => {
        const result = await chain.verify({ actor: actorOf(req), meta: req.meta });
        return {
          ok: result.ok,
          checked: result.checked,
          first_broken: result.firstBroken ?? null,
          checkpoint: result.checkpoint ? { seq: result.checkpoint.seq } : null,
          unsealed: { count: result.unsealed.count, oldest_age_seconds: result.unsealed.oldestAgeSeconds },
        };
      },
    );
  };
}

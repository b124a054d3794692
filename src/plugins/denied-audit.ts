import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import { ApiError } from '../lib/errors.js';
import { type DeniedAudit, recordDenied } from '../modules/audit/index.js';
import { loggableError } from '../lib/loggable-error.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The sensitive object this route's `:id` names: a 404 on it may be a denied access (docs/privacy.md#audit-log). */
    deniedAudit?: DeniedAudit;
  }
}

export interface DeniedAuditDeps {
  db: Db;
  logger: Logger;
}

/**
 * Audits refused attempts on other people's objects (docs/privacy.md#audit-log, `outcome: denied`) for the
 * routes that declare `config.deniedAudit`. The route's handler runs unchanged; only when it fails
 * with a 404 is the object looked up (PRIVACY: the success path runs no extra statement). The
 * service's transaction has rolled back by then, so the entry is written on its own.
 *
 * SECURITY: the answer is the handler's own 404, whatever happens here, so "not yours" reads like
 * "does not exist" (the entry's insert makes it a few milliseconds slower: ids are sequential, so that
 * an id exists is no secret, and whose object it is stays hidden). A failure to write the entry is logged and does not turn
 * the 404 into a 503: the request touched no data, and a 503 only for existing objects while the
 * audit store is down would tell the caller which ids exist.
 * Anonymous callers (the e-mailed export link with a wrong or used token) are not audited: there is
 * nobody to attribute the attempt to, and an anonymous route must not grow the hash-chained log.
 */
export function registerDeniedAudit(app: FastifyInstance, deps: DeniedAuditDeps): void {
  async function audit(request: FastifyRequest, declared: DeniedAudit): Promise<void> {
    const actor = request.actor;
    const pathId = Number((request.params as { id?: unknown } | undefined)?.id);
    if (!actor || !Number.isSafeInteger(pathId) || pathId <= 0) return;
    try {
      await recordDenied(deps.db, actor, request.meta, declared, pathId);
    } catch (err) {
      deps.logger.error(
        { err: loggableError(err), request_id: request.meta.requestId, resource_type: declared.resourceType },
        'denied access could not be audited',
      );
    }
  }

  app.addHook('onRoute', (route) => {
    const declared = route.config?.deniedAudit;
    if (!declared) return;
    const handler = route.handler as (
      this: FastifyInstance,
      request: FastifyRequest,
      reply: FastifyReply,
    ) => unknown;
    route.handler = async function deniedAudited(this: FastifyInstance, request, reply) {
      try {
        return await handler.call(this, request, reply);
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) await audit(request, declared);
        throw err;
      }
    };
  });
}

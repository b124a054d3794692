import type { Db } from '../../db/client.js';
import type { Actor } from '../../lib/actor.js';
import { type Page, paginate, type PageLink } from '../../lib/paging.js';
import { createAuditRepo, type AuditRow } from './repo.js';
import type { AccessLogItem, AccessLogQueryInput, AuditEntry, AuditLogQueryInput } from './types.js';

export interface AuditLogDeps {
  db: Db;
  /** Timestamps as the API writes them. */
  fmt: (d: Date) => string;
  /** `date_from` / `date_to` are local days in this time zone. */
  config: { timeZone: string };
}

/** Reading the audit log (docs/privacy.md#access-log, #audit-log-search). */
export function createAuditLogService({ db, fmt, config }: AuditLogDeps) {
  const fullEntry = (row: AuditRow): AuditEntry => ({
    id: row.id,
    at: fmt(row.at),
    actor_id: row.actorId,
    actor_role: row.actorRole,
    ip: row.ip,
    user_agent: row.userAgent,
    request_id: row.requestId,
    action: row.action,
    resource_type: row.resourceType,
    resource_id: row.resourceId,
    subject_user_id: row.subjectUserId,
    fields: row.fields,
    changes: row.changes,
    outcome: row.outcome,
    reason: row.reason,
    metadata: row.metadata,
    seq: row.seq,
    hash: row.hash,
  });

  return {
    /**
     * `GET popia/access-log/`: the caller's own entries as subject, newest first. PRIVACY: the
     * actor is shown by id, role and name only (never their IP or user agent).
     */
    async accessLog(
      link: PageLink,
      actor: Pick<Actor, 'userId'>,
      query: AccessLogQueryInput,
    ): Promise<Page<AccessLogItem>> {
      const repo = createAuditRepo(db);
      const includeSelf = query.include_self ?? false;
      const result = await paginate(
        link,
        query,
        (limit, offset) => repo.accessLogPage(actor.userId, includeSelf, limit, offset),
        () => repo.accessLogCount(actor.userId, includeSelf),
        (rows) => rows,
      );
      const actorIds = [...new Set(result.results.flatMap((r) => (r.actorId === null ? [] : [r.actorId])))];
      const names = await repo.actorNames(actorIds);
      return {
        ...result,
        results: result.results.map((row) => ({
          id: row.id,
          at: fmt(row.at),
          actor:
            row.actorId === null
              ? null
              : { id: row.actorId, role: row.actorRole, name: names.get(row.actorId) ?? null },
          action: row.action,
          resource_type: row.resourceType,
          resource_id: row.resourceId,
          fields: row.fields,
        })),
      };
    },

    /** `GET popia/audit-log/` (superuser): every entry, with filters. */
    async search(link: PageLink, query: AuditLogQueryInput): Promise<Page<AuditEntry>> {
      const repo = createAuditRepo(db);
      const filter = {
        actor: query.actor,
        subject: query.subject,
        action: query.action,
        resourceType: query.resource_type,
        outcome: query.outcome,
        dateFrom: query.date_from,
        dateTo: query.date_to,
        timeZone: config.timeZone,
      };
      const result = await paginate(
        link,
        query,
        (limit, offset) => repo.searchPage(filter, limit, offset),
        () => repo.searchCount(filter),
        (rows) => rows,
      );
      return { ...result, results: result.results.map(fullEntry) };
    },
  };
}
export type AuditLogService = ReturnType<typeof createAuditLogService>;

import { and, count, desc, eq, gte, inArray, sql, type SQL } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import type { Container } from '../../container.js';
import { auditLog, users } from '../../db/schema.js';
import type { Actor } from '../../lib/actor.js';
import { type Page, paginate } from '../../lib/paging.js';
import { notRefusedByOthers } from './denied.js';
import type { AccessLogItem, AccessLogQueryInput, AuditEntry, AuditLogQueryInput } from './schemas.js';

type AuditRow = typeof auditLog.$inferSelect;

/** Reading the audit log (spec privacy.md §6): "who accessed my data" and the superuser's search. */
export function createAuditLogService(c: Container) {
  const { db } = c;
  const newestFirst = [desc(auditLog.at), desc(auditLog.id)];

  /** Entries about `userId` made by someone else (or by anyone with `includeSelf`); no refused attempts. */
  const aboutUser = (userId: number, includeSelf: boolean): SQL | undefined =>
    and(
      eq(auditLog.subjectUserId, userId),
      includeSelf ? undefined : sql`${auditLog.actorId} is distinct from ${userId}`,
      notRefusedByOthers,
    );

  /** One query for the names of every actor on a page; a removed user has no name. */
  async function actorNames(ids: number[]): Promise<Map<number, string>> {
    if (ids.length === 0) return new Map();
    const rows = await db
      .select({ id: users.id, firstName: users.firstName, lastName: users.lastName })
      .from(users)
      .where(inArray(users.id, ids));
    return new Map(rows.map((u) => [u.id, `${u.firstName} ${u.lastName}`.trim()]));
  }

  /** Local calendar days (TIME_ZONE), inclusive at both ends. */
  function dateRange(from: string | undefined, to: string | undefined): SQL[] {
    const tz = c.config.timeZone;
    const out: SQL[] = [];
    if (from) out.push(gte(auditLog.at, sql`(${from}::date)::timestamp at time zone ${tz}`));
    if (to) out.push(sql`${auditLog.at} < ((${to}::date + 1)::timestamp at time zone ${tz})`);
    return out;
  }

  const fullEntry = (row: AuditRow): AuditEntry => ({
    id: row.id,
    at: c.fmt(row.at),
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

  async function page(request: FastifyRequest, query: unknown, where: SQL | undefined) {
    return paginate(
      request,
      query,
      (limit, offset) =>
        db
          .select()
          .from(auditLog)
          .where(where)
          .orderBy(...newestFirst)
          .limit(limit)
          .offset(offset),
      async () => (await db.select({ n: count() }).from(auditLog).where(where))[0]?.n ?? 0,
      (rows) => rows,
    );
  }

  return {
    /**
     * `GET popia/access-log/`: the caller's own entries as subject, newest first. PRIVACY: the
     * actor is shown by id, role and name only (never their IP or user agent).
     */
    async accessLog(
      request: FastifyRequest,
      actor: Pick<Actor, 'userId'>,
      query: AccessLogQueryInput,
    ): Promise<Page<AccessLogItem>> {
      const result = await page(request, query, aboutUser(actor.userId, query.include_self ?? false));
      const actorIds = [...new Set(result.results.flatMap((r) => (r.actorId === null ? [] : [r.actorId])))];
      const names = await actorNames(actorIds);
      return {
        ...result,
        results: result.results.map((row) => ({
          id: row.id,
          at: c.fmt(row.at),
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
    async search(request: FastifyRequest, query: AuditLogQueryInput): Promise<Page<AuditEntry>> {
      const where = and(
        query.actor !== undefined ? eq(auditLog.actorId, query.actor) : undefined,
        query.subject !== undefined ? eq(auditLog.subjectUserId, query.subject) : undefined,
        query.action !== undefined ? eq(auditLog.action, query.action) : undefined,
        query.resource_type !== undefined ? eq(auditLog.resourceType, query.resource_type) : undefined,
        query.outcome !== undefined ? eq(auditLog.outcome, query.outcome) : undefined,
        ...dateRange(query.date_from, query.date_to),
      );
      const result = await page(request, query, where);
      return { ...result, results: result.results.map(fullEntry) };
    },
  };
}
export type AuditLogService = ReturnType<typeof createAuditLogService>;

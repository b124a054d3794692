import { and, desc, eq, gt, isNull, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { sessions as sessionsTable, users } from '../../db/schema.js';
import type { Actor, RequestMeta } from '../../lib/actor.js';
import { ApiError, badRequest, forbidden, notFound } from '../../lib/errors.js';
import { likeContains } from '../../lib/sql-like.js';
import { recordAudit } from '../audit/recorder.js';
import { lockLiveSubject } from '../keys/data-keys.js';
import { sessionResponse } from './session-list.js';
import type { SessionService } from './session-service.js';

/** Listing and revoking sessions (spec auth.md §7). */
const ADMIN_LIST_LIMIT = 1000;

export function createSessionsService(deps: {
  db: Db;
  sessions: SessionService;
  fmt: (d: Date) => string;
  now: () => Date;
}) {
  const { db, sessions, fmt, now } = deps;

  async function terminateOwn(actor: Actor, meta: RequestMeta, keepCurrent: boolean) {
    const filter = keepCurrent
      ? { userId: actor.userId, exceptId: actor.sessionId }
      : { userId: actor.userId };
    return sessions.transaction(async (tx, changes) => {
      const ended = await changes.end(filter, 'revoked_all');
      await recordAudit(
        tx,
        { actor, meta },
        {
          action: 'session_revoked',
          resourceType: 'session',
          subjectUserId: actor.userId,
          metadata: { count: ended.length, kept_current: keepCurrent },
        },
      );
      return ended;
    });
  }

  return {
    async listOwn(actor: Actor) {
      const rows = await db
        .select()
        .from(sessionsTable)
        .where(and(eq(sessionsTable.userId, actor.userId), isNull(sessionsTable.terminatedAt)))
        .orderBy(desc(sessionsTable.lastActivity), desc(sessionsTable.id));
      const at = now();
      const list = rows.map((s) => sessionResponse(s, actor.sessionId, at, fmt));
      return { sessions: list, count: list.length };
    },

    async revokeOne(actor: Actor, sessionKey: string, meta: RequestMeta) {
      const rows = /^[0-9a-f]{64}$/.test(sessionKey)
        ? await db
            .select()
            .from(sessionsTable)
            .where(
              and(
                eq(sessionsTable.sessionKey, sessionKey),
                eq(sessionsTable.userId, actor.userId),
                isNull(sessionsTable.terminatedAt),
              ),
            )
            .limit(1)
        : [];
      const target = rows[0];
      if (!target) throw notFound('Session not found');
      if (target.id === actor.sessionId)
        throw badRequest('Cannot delete current session. Use /auth/logout/ to logout.');
      await sessions.transaction(async (tx, changes) => {
        await changes.end({ id: target.id }, 'revoked');
        await recordAudit(
          tx,
          { actor, meta },
          {
            action: 'session_revoked',
            resourceType: 'session',
            subjectUserId: actor.userId,
            metadata: { session_id: target.id },
          },
        );
      });
      return {
        message: 'Session terminated successfully',
        device: target.deviceType,
        browser: target.browser,
      };
    },

    /** Signs out everywhere, the calling session included. */
    async revokeAll(actor: Actor, meta: RequestMeta) {
      const ended = await terminateOwn(actor, meta, false);
      return {
        message: 'All sessions terminated successfully',
        count: ended.length,
        detail: 'You have been logged out from all devices.',
      };
    },

    async revokeOthers(actor: Actor, meta: RequestMeta) {
      const ended = await terminateOwn(actor, meta, true);
      return {
        message: `Terminated ${ended.length} other session(s)`,
        count: ended.length,
        terminated_devices: ended.map((s) => ({
          device: s.deviceType,
          browser: s.browser,
          last_activity: fmt(s.lastActivity),
        })),
      };
    },

    async listAll(query: {
      user_email?: string | undefined;
      active_only?: boolean;
      suspicious_only?: boolean;
    }) {
      const at = now();
      const conditions = [isNull(sessionsTable.terminatedAt)];
      if (query.user_email) {
        const pattern = likeContains(query.user_email.toLowerCase());
        conditions.push(sql`lower(${users.email}) like ${pattern}`);
      }
      if (query.active_only)
        conditions.push(gt(sessionsTable.expiresAt, at), gt(sessionsTable.absoluteExpiresAt, at));
      if (query.suspicious_only) conditions.push(eq(sessionsTable.isSuspicious, true));
      const rows = await db
        .select({ session: sessionsTable, email: users.email, role: users.role })
        .from(sessionsTable)
        .innerJoin(users, eq(users.id, sessionsTable.userId))
        .where(and(...conditions))
        .orderBy(desc(sessionsTable.lastActivity), desc(sessionsTable.id))
        .limit(ADMIN_LIST_LIMIT);
      const list = rows.map((r) => ({
        ...sessionResponse(r.session, null, at, fmt),
        user_email: r.email,
        user_role: r.role,
      }));
      return {
        sessions: list,
        count: list.length,
        filters: {
          user_email: query.user_email ?? null,
          active_only: query.active_only ?? false,
          suspicious_only: query.suspicious_only ?? false,
        },
      };
    },

    async forceLogout(actor: Actor, body: Record<string, unknown>, meta: RequestMeta) {
      const rawId = body.user_id;
      if (rawId === undefined || rawId === null || rawId === '') throw badRequest('user_id is required');
      const reason = typeof body.reason === 'string' ? body.reason.trim() : '';
      if (!reason) throw badRequest('reason is required for audit compliance');
      if (reason.length > 500) throw badRequest('reason must be at most 500 characters');
      const userId =
        typeof rawId === 'number'
          ? rawId
          : typeof rawId === 'string' && /^\d{1,15}$/.test(rawId)
            ? Number(rawId)
            : NaN;
      const target = Number.isSafeInteger(userId)
        ? (await db.select().from(users).where(eq(users.id, userId)).limit(1))[0]
        : undefined;
      const userNotFound = () => new ApiError(404, 'not_found', 'User not found');
      if (!target || target.anonymizedAt) throw userNotFound();
      if (target.role === 'superuser' && actor.role !== 'superuser')
        throw forbidden('Cannot force logout a superuser');
      const ended = await sessions.transaction(async (tx, changes) => {
        // PRIVACY: nothing more is recorded about an erased person.
        if (!(await lockLiveSubject(tx, target.id))) throw userNotFound();
        const terminated = await changes.end({ userId: target.id }, 'force_logout');
        await recordAudit(
          tx,
          { actor, meta },
          {
            action: 'force_logout',
            resourceType: 'user',
            resourceId: target.id,
            subjectUserId: target.id,
            reason,
            metadata: { sessions_terminated: terminated.length },
          },
        );
        return terminated;
      });
      return {
        message: `Force logged out ${target.email}`,
        sessions_terminated: ended.length,
        target_user: target.email,
        reason,
      };
    },
  };
}
export type SessionsService = ReturnType<typeof createSessionsService>;

import type { Db } from '../../../db/client.js';
import type { Actor, RequestMeta } from '../../../lib/actor.js';
import { ApiError, badRequest, forbidden, notFound } from '../../../lib/errors.js';
import { recordAudit } from '../../audit/index.js';
import { lockLiveSubject } from '../../keys/index.js';
import { createSessionRepo, sessionResponse, type SessionService } from '../../sessions/index.js';
import { createUserRepo } from '../../users/index.js';

/** Listing and revoking one's own sessions, and the staff's view and force logout (docs/auth.md#sessions). */
const ADMIN_LIST_LIMIT = 1000;

export interface SessionAdminDeps {
  db: Db;
  sessions: SessionService;
  fmt: (d: Date) => string;
  now: () => Date;
}

/** `GET admin/sessions/` filters, as the route validated them. */
export interface AdminSessionsQuery {
  user_email?: string | undefined;
  active_only?: boolean | undefined;
  suspicious_only?: boolean | undefined;
}

/** `POST admin/force-logout/`, as the route validated it; the fields are checked here, in order. */
export interface ForceLogoutInput {
  user_id?: number | string | undefined;
  reason?: string | undefined;
}

export function createSessionAdminService(deps: SessionAdminDeps) {
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
      const rows = await createSessionRepo(db).listLiveOfUser(actor.userId);
      const at = now();
      const list = rows.map((s) => sessionResponse(s, actor.sessionId, at, fmt));
      return { sessions: list, count: list.length };
    },

    async revokeOne(actor: Actor, sessionKey: string, meta: RequestMeta) {
      const target = /^[0-9a-f]{64}$/.test(sessionKey)
        ? await createSessionRepo(db).findLiveOfUser(actor.userId, sessionKey)
        : undefined;
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

    async listAll(query: AdminSessionsQuery) {
      const at = now();
      const rows = await createSessionRepo(db).listLive(
        {
          userEmail: query.user_email,
          activeAt: query.active_only ? at : undefined,
          suspiciousOnly: query.suspicious_only,
        },
        ADMIN_LIST_LIMIT,
      );
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

    async forceLogout(actor: Actor, input: ForceLogoutInput, meta: RequestMeta) {
      const rawId = input.user_id;
      if (rawId === undefined || rawId === '') throw badRequest('user_id is required');
      const reason = input.reason?.trim() ?? '';
      if (!reason) throw badRequest('reason is required for audit compliance');
      if (reason.length > 500) throw badRequest('reason must be at most 500 characters');
      const userId = typeof rawId === 'number' ? rawId : /^\d{1,15}$/.test(rawId) ? Number(rawId) : NaN;
      const target = Number.isSafeInteger(userId) ? await createUserRepo(db).findById(userId) : undefined;
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
export type SessionAdminService = ReturnType<typeof createSessionAdminService>;

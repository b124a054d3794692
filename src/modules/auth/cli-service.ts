import type { OnDataChange } from '../../lib/changes.js';
import type { Db } from '../../db/client.js';
import { type AuditContext, recordAudit } from '../audit/index.js';
import type { Mailer } from '../mail/index.js';
import { createSessionRepo, type SessionRow, type SessionService } from '../sessions/index.js';
import { createUserRepo, type UserRow } from '../users/index.js';
import { createTwoFactorRepo } from './two-factor/repo.js';

/**
 * What the operator commands do (cli.ts; docs/operations.md#command-line), replacing the original's
 * Django admin actions: emergency 2FA reset, session revocation, marking a session suspicious,
 * invalidating backup codes. Each change and its audit entry (actor `system`) commit in one transaction.
 */
const SYSTEM: AuditContext = { actor: null, meta: null };

type Found<T> = { found: false } | ({ found: true } & T);

export interface AuthAdminDeps {
  db: Db;
  sessions: SessionService;
  mailer: Mailer;
  now: () => Date;
  /** After a commit: what changed (docs/operations.md#caches). */
  changed: OnDataChange;
}

/** The services behind the commands; tests and other callers may use them directly. */
export function createAuthAdminService(deps: AuthAdminDeps) {
  const { db, sessions, mailer, now } = deps;
  const findUser = (email: string) => createUserRepo(db).findByEmail(email.trim());
  const findSession = async (sessionKey: string): Promise<SessionRow | undefined> => {
    const key = sessionKey.trim();
    if (!/^[0-9a-f]{64}$/i.test(key)) return undefined;
    return createSessionRepo(db).findByKey(key.toLowerCase());
  };

  return {
    /** Turns 2FA off (secret, timestamps, replay step, backup codes) and ends every session. */
    async resetTwoFactor(
      email: string,
    ): Promise<Found<{ user: UserRow; wasEnabled: boolean; ended: number }>> {
      const user = await findUser(email);
      if (!user) return { found: false };
      const ended = await sessions.transaction(async (tx, changes) => {
        await createTwoFactorRepo(tx).disable(user.id, now());
        const terminated = await changes.end({ userId: user.id }, 'revoked');
        await recordAudit(tx, SYSTEM, {
          action: '2fa_disabled',
          resourceType: 'user',
          resourceId: user.id,
          subjectUserId: user.id,
          reason: 'cli reset',
          metadata: { was_enabled: user.totpEnabled, sessions_terminated: terminated.length },
        });
        // The user learns that their second factor was turned off (docs/privacy.md#e-mails).
        if (user.totpEnabled) await mailer.queue(tx, '2fa_disabled', user.email, { name: user.firstName });
        return terminated;
      });
      mailer.kick();
      await deps.changed([{ kind: 'account', userId: user.id }]);
      return { found: true, user, wasEnabled: user.totpEnabled, ended: ended.length };
    },

    /** Ends all live sessions of the user with that e-mail. */
    async revokeUserSessions(email: string): Promise<Found<{ user: UserRow; ended: number }>> {
      const user = await findUser(email);
      if (!user) return { found: false };
      const ended = await sessions.transaction(async (tx, changes) => {
        const terminated = await changes.end({ userId: user.id }, 'revoked');
        await recordAudit(tx, SYSTEM, {
          action: 'session_revoked',
          resourceType: 'session',
          subjectUserId: user.id,
          reason: 'cli revoke',
          metadata: { count: terminated.length },
        });
        return terminated;
      });
      return { found: true, user, ended: ended.length };
    },

    /** Ends one session by its key (0 when it had already ended). */
    async revokeSession(sessionKey: string): Promise<Found<{ session: SessionRow; ended: number }>> {
      const session = await findSession(sessionKey);
      if (!session) return { found: false };
      const ended = await sessions.transaction(async (tx, changes) => {
        const terminated = await changes.end({ id: session.id }, 'revoked');
        await recordAudit(tx, SYSTEM, {
          action: 'session_revoked',
          resourceType: 'session',
          resourceId: session.id,
          subjectUserId: session.userId,
          reason: 'cli revoke',
          metadata: { session_id: session.id, count: terminated.length },
        });
        return terminated;
      });
      return { found: true, session, ended: ended.length };
    },

    async markSuspicious(sessionKey: string): Promise<Found<{ session: SessionRow }>> {
      const before = await findSession(sessionKey);
      if (!before) return { found: false };
      const session = await db.transaction(async (tx) => {
        const updated = await createSessionRepo(tx).markSuspicious(before.id);
        await recordAudit(tx, SYSTEM, {
          action: 'update',
          resourceType: 'session',
          resourceId: before.id,
          subjectUserId: before.userId,
          fields: ['is_suspicious'],
          changes: before.isSuspicious ? {} : { is_suspicious: [false, true] },
        });
        return updated ?? { ...before, isSuspicious: true };
      });
      return { found: true, session };
    },

    /** Marks every unused backup code of the user used; returns how many. */
    async invalidateBackupCodes(email: string): Promise<Found<{ user: UserRow; invalidated: number }>> {
      const user = await findUser(email);
      if (!user) return { found: false };
      const invalidated = await db.transaction(async (tx) => {
        const count = await createTwoFactorRepo(tx).invalidateBackupCodes(user.id, now());
        await recordAudit(tx, SYSTEM, {
          action: 'update',
          resourceType: 'two_factor_backup_codes',
          resourceId: user.id,
          subjectUserId: user.id,
          fields: ['used', 'used_at'],
          metadata: { invalidated: count },
        });
        return count;
      });
      return { found: true, user, invalidated };
    },
  };
}
export type AuthAdminService = ReturnType<typeof createAuthAdminService>;

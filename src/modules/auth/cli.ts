import { parseArgs, type ParseArgsConfig } from 'node:util';
import { and, eq } from 'drizzle-orm';
import { say, type CliCommands } from '../../cli/types.js';
import type { Container } from '../../container.js';
import { sessions, twoFactorBackupCodes } from '../../db/schema.js';
import { recordAudit, type AuditContext } from '../audit/recorder.js';
import { createUserRepo, type UserRow } from '../users/repo.js';
import type { SessionRow } from './session-repo.js';
import { createTwoFactorRepo } from './two-factor-repo.js';

/**
 * Operator commands replacing the original's Django admin actions (spec operations.md §3):
 * emergency 2FA reset, session revocation, marking a session suspicious, invalidating backup
 * codes. Each change and its audit entry (actor `system`) commit in one transaction.
 */
const SYSTEM: AuditContext = { actor: null, meta: null };

type Found<T> = { found: false } | ({ found: true } & T);

/** The services behind the commands; tests and other callers may use them directly. */
export function createAuthAdminService(c: Container) {
  const findUser = (email: string) => createUserRepo(c.db).findByEmail(email.trim());
  const findSession = async (sessionKey: string): Promise<SessionRow | undefined> => {
    const key = sessionKey.trim();
    if (!/^[0-9a-f]{64}$/i.test(key)) return undefined;
    const rows = await c.db
      .select()
      .from(sessions)
      .where(eq(sessions.sessionKey, key.toLowerCase()))
      .limit(1);
    return rows[0];
  };

  return {
    /** Turns 2FA off (secret, timestamps, replay step, backup codes) and ends every session. */
    async resetTwoFactor(
      email: string,
    ): Promise<Found<{ user: UserRow; wasEnabled: boolean; ended: number }>> {
      const user = await findUser(email);
      if (!user) return { found: false };
      const ended = await c.sessions.transaction(async (tx, changes) => {
        await createTwoFactorRepo(tx).disable(user.id, c.now());
        const terminated = await changes.end({ userId: user.id }, 'revoked');
        await recordAudit(tx, SYSTEM, {
          action: '2fa_disabled',
          resourceType: 'user',
          resourceId: user.id,
          subjectUserId: user.id,
          reason: 'cli reset',
          metadata: { was_enabled: user.totpEnabled, sessions_terminated: terminated.length },
        });
        return terminated;
      });
      // The user learns that their second factor was turned off (spec privacy.md §8 change notice).
      if (user.totpEnabled) c.mailer.send('2fa_disabled', user.email, { name: user.firstName });
      return { found: true, user, wasEnabled: user.totpEnabled, ended: ended.length };
    },

    /** Ends all live sessions of the user with that e-mail. */
    async revokeUserSessions(email: string): Promise<Found<{ user: UserRow; ended: number }>> {
      const user = await findUser(email);
      if (!user) return { found: false };
      const ended = await c.sessions.transaction(async (tx, changes) => {
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
      const ended = await c.sessions.transaction(async (tx, changes) => {
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
      const session = await c.db.transaction(async (tx) => {
        const rows = await tx
          .update(sessions)
          .set({ isSuspicious: true })
          .where(eq(sessions.id, before.id))
          .returning();
        await recordAudit(tx, SYSTEM, {
          action: 'update',
          resourceType: 'session',
          resourceId: before.id,
          subjectUserId: before.userId,
          fields: ['is_suspicious'],
          changes: before.isSuspicious ? {} : { is_suspicious: [false, true] },
        });
        return rows[0] ?? { ...before, isSuspicious: true };
      });
      return { found: true, session };
    },

    /** Marks every unused backup code of the user used; returns how many. */
    async invalidateBackupCodes(email: string): Promise<Found<{ user: UserRow; invalidated: number }>> {
      const user = await findUser(email);
      if (!user) return { found: false };
      const invalidated = await c.db.transaction(async (tx) => {
        const rows = await tx
          .update(twoFactorBackupCodes)
          .set({ used: true, usedAt: c.now() })
          .where(and(eq(twoFactorBackupCodes.userId, user.id), eq(twoFactorBackupCodes.used, false)))
          .returning({ id: twoFactorBackupCodes.id });
        await recordAudit(tx, SYSTEM, {
          action: 'update',
          resourceType: 'two_factor_backup_codes',
          resourceId: user.id,
          subjectUserId: user.id,
          fields: ['used', 'used_at'],
          metadata: { invalidated: rows.length },
        });
        return rows.length;
      });
      return { found: true, user, invalidated };
    },
  };
}

const usage = (message: string) => {
  process.stderr.write(`${message}\n`);
  return 2;
};
const notFound = (message: string) => {
  process.stderr.write(`${message}\n`);
  return 1;
};
const NO_USER = 'no account with that e-mail';
const NO_SESSION = 'no session with that key';

/** Parses string flags; undefined (after printing the problem) on a malformed command line. */
function flags<K extends string>(
  args: string[],
  names: readonly K[],
): Partial<Record<K, string>> | undefined {
  const options: ParseArgsConfig['options'] = {};
  for (const n of names) options[n] = { type: 'string' };
  try {
    const { values } = parseArgs({ args, options, allowPositionals: false });
    const out: Partial<Record<K, string>> = {};
    for (const n of names) {
      const v = values[n];
      if (typeof v === 'string' && v.trim() !== '') out[n] = v;
    }
    return out;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return undefined;
  }
}

/** CLI commands of the auth module (spec operations.md §3); all audited as `system`. */
export const authCommands: CliCommands = {
  'users:reset-2fa': {
    help: '--email E  emergency recovery: turn 2FA off and end all sessions (staff must enrol again at login)',
    run: async (args, container) => {
      const f = flags(args, ['email']);
      if (!f?.email) return usage('usage: users:reset-2fa --email E');
      const result = await createAuthAdminService(await container()).resetTwoFactor(f.email);
      if (!result.found) return notFound(NO_USER);
      say(
        `2FA ${result.wasEnabled ? 'turned off' : 'was not enabled; state cleared'} for user ${result.user.id}; ` +
          `sessions ended: ${result.ended}`,
      );
      if (result.user.role !== 'candidate') say('staff account: 2FA setup is required at the next login');
      return 0;
    },
  },
  'sessions:revoke': {
    help: '--email E | --session-key K  end all sessions of a user, or one session',
    run: async (args, container) => {
      const f = flags(args, ['email', 'session-key']);
      const email = f?.email;
      const key = f?.['session-key'];
      if (!f || (email === undefined) === (key === undefined))
        return usage('usage: sessions:revoke --email E | --session-key K (exactly one)');
      const svc = createAuthAdminService(await container());
      if (email !== undefined) {
        const result = await svc.revokeUserSessions(email);
        if (!result.found) return notFound(NO_USER);
        say(`sessions ended: ${result.ended} (user ${result.user.id})`);
        return 0;
      }
      const result = await svc.revokeSession(key ?? '');
      if (!result.found) return notFound(NO_SESSION);
      say(
        `sessions ended: ${result.ended} (session ${result.session.id}, user ${result.session.userId}` +
          `${result.ended === 0 ? ', had already ended' : ''})`,
      );
      return 0;
    },
  },
  'sessions:mark-suspicious': {
    help: '--session-key K  flag a session as suspicious',
    run: async (args, container) => {
      const f = flags(args, ['session-key']);
      const key = f?.['session-key'];
      if (key === undefined) return usage('usage: sessions:mark-suspicious --session-key K');
      const result = await createAuthAdminService(await container()).markSuspicious(key);
      if (!result.found) return notFound(NO_SESSION);
      const s = result.session;
      say(
        `session ${s.id} (user ${s.userId}, ${s.deviceType} / ${s.browser} / ${s.os}` +
          `${s.terminatedAt ? ', ended' : ''}) is_suspicious: ${String(s.isSuspicious)}`,
      );
      return 0;
    },
  },
  '2fa:invalidate-backup-codes': {
    help: '--email E  mark all unused 2FA backup codes of a user used',
    run: async (args, container) => {
      const f = flags(args, ['email']);
      if (!f?.email) return usage('usage: 2fa:invalidate-backup-codes --email E');
      const result = await createAuthAdminService(await container()).invalidateBackupCodes(f.email);
      if (!result.found) return notFound(NO_USER);
      say(`backup codes invalidated: ${result.invalidated} (user ${result.user.id})`);
      return 0;
    },
  },
};

import type { Db, Tx } from '../../../db/client.js';
import type { RequestMeta } from '../../../lib/actor.js';
import { type AuditContext, recordAudit } from '../../audit/index.js';
import type { Mailer } from '../../mail/index.js';
import type { SessionService } from '../../sessions/index.js';
import { createUserRepo, type UserReader, type UserRow } from '../../users/index.js';
import type { Lockout } from './lockout.js';

export interface LoginCompletionDeps {
  db: Db;
  sessions: SessionService;
  users: UserReader;
  lockout: Lockout;
  mailer: Mailer;
  fmt: (d: Date) => string;
  now: () => Date;
  /**
   * "A user signed in": other modules' reactions, inside the sign-in's transaction and audited as the
   * user (the root wires privacy's cancelling of a pending inactivity deletion,
   * docs/privacy.md#inactive-accounts).
   */
  onSignedIn?: (tx: Tx, userId: number, ctx: AuditContext) => Promise<unknown>;
}

/**
 * The end of every successful sign-in (password, 2FA code, 2FA enrolment with a setup token;
 * docs/auth.md#login): a new session, `last_login`, the failure counter reset, an audit event and,
 * for a session from an unfamiliar address and device, a new-sign-in e-mail.
 */
export function createLoginCompletion(deps: LoginCompletionDeps) {
  const { db, sessions, users, lockout, mailer, fmt, now, onSignedIn } = deps;
  return async (
    user: UserRow,
    meta: RequestMeta,
    action: 'login_success' | '2fa_success' = 'login_success',
  ) => {
    const at = now();
    const opened = await db.transaction(async (tx) => {
      await createUserRepo(tx).update(user.id, { lastLogin: at });
      // A sign-in proves activity: e.g. a pending inactivity deletion is called off.
      await onSignedIn?.(tx, user.id, { actor: { userId: user.id, role: user.role }, meta });
      const result = await sessions.open(tx, user.id, meta);
      if (result.session.isSuspicious) {
        await mailer.queue(tx, 'new_signin', user.email, {
          name: user.firstName,
          device: result.session.deviceType,
          browser: result.session.browser,
          ip: result.session.ipAddress ?? '',
          at: fmt(at),
        });
      }
      await recordAudit(
        tx,
        { actor: { userId: user.id, role: user.role }, meta },
        {
          action,
          resourceType: 'session',
          resourceId: result.session.id,
          subjectUserId: user.id,
        },
      );
      return result;
    });
    if (opened.session.isSuspicious) mailer.kick();
    await lockout.recordSuccess(user.email);
    const presented = await users.one(db, user.id);
    if (!presented) throw new Error(`user ${user.id} vanished`);
    return { ...opened.tokens, user: presented };
  };
}
export type LoginCompletion = ReturnType<typeof createLoginCompletion>;

import { randomBytes } from 'node:crypto';
import type { OnDataChange } from '../../../lib/changes.js';
import type { Config } from '../../../config.js';
import type { Db, Tx } from '../../../db/client.js';
import type { Actor, RequestMeta } from '../../../lib/actor.js';
import { sha256Hex } from '../../../lib/crypto/hash.js';
import { checkEmail } from '../../../lib/email.js';
import { ApiError, badRequest, type FieldErrors, validationError } from '../../../lib/errors.js';
import { charCount } from '../../../lib/escape.js';
import type { LimiterFactory } from '../../../lib/limiter.js';
import type { PasswordHasher } from '../../../lib/password-hasher.js';
import { checkPasswordPolicy } from '../../../lib/password/policy.js';
import { recordAudit } from '../../audit/index.js';
import type { Mailer } from '../../mail/index.js';
import type { SessionService } from '../../sessions/index.js';
import { createUserRepo, type UserRow } from '../../users/index.js';
import type { Captcha } from '../sign-in/captcha.js';
import { emailKey, type Lockout } from '../sign-in/lockout.js';
import { createPasswordRepo, HISTORY_DEPTH } from './repo.js';

/** Password change and reset by e-mail (docs/auth.md#password-change, docs/auth.md#password-reset). */
const RESET_TTL_MS = 3600_000;
/** Both answers of a reset request take at least this long, so timing does not reveal accounts. */
const RESET_REQUEST_FLOOR_MS = 250;
const REUSE_MESSAGE = `You cannot reuse any of your last ${HISTORY_DEPTH} passwords.`;
const OLD_PASSWORD_INCORRECT = 'Old password is incorrect';
const CHANGE_FAILED = 'Password change validation failed';

const attributes = (u: UserRow) => ({ email: u.email, firstName: u.firstName, lastName: u.lastName });

/**
 * Bodies as their routes validated them (each field a bounded string when present); the checks of
 * docs/auth.md#password-change and docs/auth.md#password-reset run here, in their order.
 */
export interface PasswordChangeInput {
  old_password?: string | undefined;
  new_password?: string | undefined;
}
export interface ResetRequestInput {
  email?: string | undefined;
  captcha_token?: string | undefined;
}
export interface ResetTokenInput {
  token?: string | undefined;
}
export interface ResetConfirmInput {
  token?: string | undefined;
  new_password?: string | undefined;
}

export interface PasswordDeps {
  db: Db;
  config: Pick<Config, 'allowedEmailDomains' | 'frontendUrl'>;
  hasher: PasswordHasher;
  sessions: SessionService;
  lockout: Lockout;
  captcha: Captcha;
  mailer: Mailer;
  makeLimiter: LimiterFactory;
  fmt: (d: Date) => string;
  now: () => Date;
  /** After a commit, before the answer: what changed (docs/operations.md#caches). */
  changed: OnDataChange;
}

export function createPasswordService(deps: PasswordDeps) {
  const { db, config, hasher, sessions, lockout, captcha, mailer, fmt, now } = deps;
  // At most 3 reset e-mails per address per hour, silently (docs/auth.md#password-reset).
  const resetMails = deps.makeLimiter({ name: 'reset-mail', points: 3, durationSeconds: 3600 });

  /**
   * True when the password equals the current one or one of the last five. One verification at a
   * time: six at once would take six turns of the hashing gate together (docs/operations.md#password-hashing).
   */
  async function reused(user: UserRow, password: string): Promise<boolean> {
    const hashes = [user.password, ...(await createPasswordRepo(db).history(user.id))];
    for (const h of hashes) if ((await hasher.verify(password, h)).ok) return true;
    return false;
  }

  async function replacePassword(
    user: UserRow,
    password: string,
    meta: RequestMeta,
    actor: Actor | null,
    reason: 'password_change' | 'password_reset',
    keepSessionId?: number,
    /** More of the same change, in its transaction (a reset consumes its token). */
    also?: (tx: Tx) => Promise<void>,
  ) {
    const at = now();
    const newHash = await hasher.hash(password);
    await sessions.transaction(async (tx, changes) => {
      await also?.(tx);
      const repo = createPasswordRepo(tx);
      // SECURITY: a change replaces only the hash whose password it verified (compare-and-swap), so
      // of concurrent changes exactly one wins. A reset, authorised by its single-use token, replaces
      // whatever is current (locked, so the history keeps the hash it really replaced).
      const current = reason === 'password_change' ? user.password : await repo.lockCurrentHash(user.id);
      if (current === undefined || !(await repo.setPassword(user.id, current, newHash, at))) {
        throw reason === 'password_change'
          ? validationError({ old_password: [OLD_PASSWORD_INCORRECT] }, CHANGE_FAILED)
          : badRequest('Invalid or expired token');
      }
      const terminated = await changes.end(
        keepSessionId === undefined ? { userId: user.id } : { userId: user.id, exceptId: keepSessionId },
        reason,
      );
      await recordAudit(
        tx,
        { actor: actor ?? { userId: user.id, role: user.role }, meta },
        {
          action: reason === 'password_change' ? 'password_changed' : 'password_reset_completed',
          resourceType: 'user',
          resourceId: user.id,
          subjectUserId: user.id,
          metadata: { sessions_terminated: terminated.length },
        },
      );
      await mailer.queue(tx, 'password_changed', user.email, { name: user.firstName, at: fmt(at) });
    });
    mailer.kick();
    await deps.changed([{ kind: 'account', userId: user.id }]);
  }

  return {
    async change(actor: Actor, input: PasswordChangeInput, meta: RequestMeta) {
      const fail = (errors: FieldErrors) => validationError(errors, CHANGE_FAILED);
      const oldPassword = input.old_password;
      const newPassword = input.new_password;
      const errors: FieldErrors = {};
      const lengthError = (v: string | undefined, min: number) =>
        v === undefined || v === ''
          ? 'This field is required.'
          : charCount(v) < min
            ? `Ensure this field has at least ${min} characters.`
            : charCount(v) > 128
              ? 'Ensure this field has no more than 128 characters.'
              : null;
      const oldError = lengthError(oldPassword, 1);
      const newError = lengthError(newPassword, 8);
      if (oldError) errors.old_password = [oldError];
      if (newError) errors.new_password = [newError];
      if (oldError || newError || oldPassword === undefined || newPassword === undefined) throw fail(errors);

      const user = await createUserRepo(db).findById(actor.userId);
      if (!user) throw new ApiError(401, 'authentication_failed', 'Authentication failed');
      if (!(await hasher.verify(oldPassword, user.password)).ok)
        errors.old_password = [OLD_PASSWORD_INCORRECT];
      const problems = checkPasswordPolicy(newPassword, attributes(user));
      if (newPassword === oldPassword) problems.push('New password cannot be the same as your old password');
      else if (!errors.old_password && (await reused(user, newPassword))) problems.push(REUSE_MESSAGE);
      if (problems.length) errors.new_password = problems;
      if (Object.keys(errors).length) throw fail(errors);

      // Other sessions end; the one making the change stays signed in.
      await replacePassword(user, newPassword, meta, actor, 'password_change', actor.sessionId);
      return {
        message: 'Password changed successfully',
        detail: 'Your password has been updated. You may need to log in again on other devices.',
      };
    },

    async requestReset(input: ResetRequestInput, meta: RequestMeta) {
      const started = Date.now();
      const raw = input.email ?? '';
      if (raw.trim() === '') throw badRequest('Email is required');
      const email = checkEmail(raw, config.allowedEmailDomains);
      if (!email.ok) throw validationError({ email: [email.message] }, 'Invalid email');
      await captcha.check(email.value, meta.ip, input.captcha_token, 'password_reset');
      const user = await createUserRepo(db).findByEmail(email.value);
      if (user?.isActive && !user.anonymizedAt) {
        const allowed = await resetMails.consume(emailKey(email.value)).then(
          () => true,
          () => false,
        );
        if (allowed) {
          const token = randomBytes(32).toString('base64url');
          const at = now();
          await db.transaction(async (tx) => {
            const repo = createPasswordRepo(tx);
            await repo.voidUnusedTokens(user.id, at);
            await repo.insertToken({
              userId: user.id,
              tokenHash: sha256Hex(token),
              createdAt: at,
              expiresAt: new Date(at.getTime() + RESET_TTL_MS),
              ipAddress: meta.ip,
              userAgent: meta.userAgent.slice(0, 500),
            });
            await recordAudit(
              tx,
              { actor: null, meta },
              {
                action: 'password_reset_requested',
                resourceType: 'user',
                resourceId: user.id,
                subjectUserId: user.id,
              },
            );
            // In the transaction: the link is sent only if the token exists, and is not lost after it.
            await mailer.queue(tx, 'password_reset', user.email, {
              name: user.firstName,
              link: `${config.frontendUrl}/reset-password?token=${token}`,
            });
          });
          mailer.kick();
        }
      }
      const wait = RESET_REQUEST_FLOOR_MS - (Date.now() - started);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      return {
        message: 'If an account with that email exists, a password reset link has been sent.',
        detail: 'Please check your email for instructions.',
      };
    },

    async validateToken(input: ResetTokenInput) {
      const token = input.token?.trim() ?? '';
      const invalid = (detail: string) =>
        new ApiError(400, 'bad_request', detail, undefined, { valid: false });
      if (!token) throw invalid('Token is required');
      const found =
        token.length <= 256
          ? await createPasswordRepo(db).findUsableToken(sha256Hex(token), now())
          : undefined;
      if (!found) throw invalid('Token is invalid, expired, or already used');
      return { valid: true as const, email: found.user.email, detail: 'Token is valid' };
    },

    async confirmReset(input: ResetConfirmInput, meta: RequestMeta) {
      const token = input.token?.trim() ?? '';
      const password = input.new_password ?? '';
      if (!token || !password) throw badRequest('Token and new password are required');
      const invalidPassword = (messages: string[]) =>
        validationError({ new_password: messages }, 'Invalid password');
      const n = charCount(password);
      if (n < 8) throw invalidPassword(['Ensure this field has at least 8 characters.']);
      if (n > 128) throw invalidPassword(['Ensure this field has no more than 128 characters.']);
      const generic = checkPasswordPolicy(password);
      if (generic.length) throw invalidPassword(generic);
      const found =
        token.length <= 256
          ? await createPasswordRepo(db).findUsableToken(sha256Hex(token), now())
          : undefined;
      if (!found) throw badRequest('Invalid or expired token');
      const { user } = found;
      const personal = checkPasswordPolicy(password, attributes(user)).filter((m) => !generic.includes(m));
      if (personal.length) throw invalidPassword(personal);
      if ((await hasher.verify(password, user.password)).ok)
        throw badRequest('New password cannot be old password');
      if (await reused(user, password)) throw invalidPassword([REUSE_MESSAGE]);
      await replacePassword(user, password, meta, null, 'password_reset', undefined, async (tx) => {
        const repo = createPasswordRepo(tx);
        if (!(await repo.useToken(found.token.id, now()))) throw badRequest('Invalid or expired token');
        await repo.voidUnusedTokens(user.id, now());
      });
      await lockout.clear(user.email);
      return {
        message: 'Password has been reset successfully',
        detail: 'You can now log in with your new password',
      };
    },
  };
}
export type PasswordService = ReturnType<typeof createPasswordService>;

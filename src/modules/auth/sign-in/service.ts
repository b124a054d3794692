import type { OnDataChange } from '../../../lib/changes.js';
import type { Config } from '../../../config.js';
import type { Db } from '../../../db/client.js';
import { isUniqueViolation } from '../../../db/errors.js';
import type { Actor, RequestMeta } from '../../../lib/actor.js';
import {
  emailErrors,
  missingCredentials,
  nameError,
  passwordLengthError,
  policyErrors,
} from '../../../lib/credentials.js';
import { ApiError, badRequest, validationError } from '../../../lib/errors.js';
import { charCount } from '../../../lib/escape.js';
import type { PasswordHasher } from '../../../lib/password-hasher.js';
import { recordAudit, recordAudits } from '../../audit/index.js';
import type { Mailer } from '../../mail/index.js';
import { createSessionRepo, newJti, type SessionService, type TokenService } from '../../sessions/index.js';
import {
  createUserRepo,
  type AccountCreator,
  type UserReader,
  type UserResponse,
} from '../../users/index.js';
import type { Captcha } from './captcha.js';
import type { Lockout } from './lockout.js';
import type { LoginCompletion } from './login-completion.js';
import { loginOutcomeOf, type LoginOutcome } from './login-outcome.js';
import { passwordExpired, passwordExpiredError } from './password-expiry.js';
import type { PendingTwoFactor } from './pending-2fa.js';

export interface AuthServiceDeps {
  db: Db;
  config: Pick<Config, 'allowedEmailDomains' | 'frontendUrl' | 'passwordMaxAgeDays'> & {
    jwt: Pick<Config['jwt'], 'refreshTtl' | 'reuseGraceSeconds'>;
  };
  hasher: PasswordHasher;
  sessions: SessionService;
  tokens: TokenService;
  users: UserReader;
  /** Creates a user with an empty profile and a data key (users module); register uses it. */
  createAccount: AccountCreator;
  lockout: Lockout;
  captcha: Captcha;
  pending2fa: PendingTwoFactor;
  completeLogin: LoginCompletion;
  mailer: Mailer;
  now: () => Date;
  /** After a commit, before the answer: what changed (docs/operations.md#caches). */
  changed: OnDataChange;
  /** Counts login outcomes (metrics). */
  onLoginOutcome?: (outcome: LoginOutcome) => void;
}

/**
 * Bodies as their routes validated them (each field a bounded string when present); the checks of
 * docs/auth.md#registration and docs/auth.md#login run here, in their order, because some need the
 * configuration (allowed domains) and all must come before the lock-out and the CAPTCHA.
 */
export interface RegisterInput {
  email?: string | undefined;
  password?: string | undefined;
  first_name?: string | undefined;
  last_name?: string | undefined;
  captcha_token?: string | undefined;
}
export interface LoginInput {
  email?: string | undefined;
  password?: string | undefined;
  captcha_token?: string | undefined;
}
/** `token/refresh/`, `refresh/` and `logout/`. */
export interface RefreshInput {
  refresh?: string | undefined;
}

const INVALID_CREDENTIALS = () => new ApiError(401, 'invalid_credentials', 'Invalid email or password');
const TOKEN_NOT_VALID = () => new ApiError(401, 'token_not_valid', 'Token is invalid or expired');
const SETUP_MESSAGE = '2FA is mandatory for admin and superuser accounts. Please set up 2FA to continue.';

export type LoginResult =
  | { kind: 'tokens'; body: { access: string; refresh: string; user: UserResponse } }
  | { kind: '2fa'; body: { requires_2fa: true; email: string; message: string } };

export function createAuthService(deps: AuthServiceDeps) {
  const {
    db,
    config,
    hasher,
    sessions,
    tokens,
    users,
    createAccount,
    lockout,
    captcha,
    pending2fa,
    completeLogin,
    mailer,
    now,
  } = deps;

  async function present(userId: number): Promise<UserResponse> {
    const user = await users.current(db, userId);
    if (!user) throw new Error(`user ${userId} vanished`);
    return user;
  }

  async function attemptLogin(input: LoginInput, meta: RequestMeta): Promise<LoginResult> {
    const email = input.email ?? '';
    const password = input.password ?? '';
    const missing = missingCredentials(email, password);
    if (missing) throw validationError(missing, 'Email and password are required');
    const checked = emailErrors(email, config.allowedEmailDomains);
    if ('errors' in checked) throw validationError(checked.errors, 'Invalid email');
    if (charCount(password) > 128) {
      throw validationError({ password: [passwordLengthError(password) ?? ''] }, 'Invalid password');
    }
    // SECURITY: the attempt is counted before the password is checked (a burst gets no more checks).
    const attempt = await lockout.assertNotLocked(checked.value, meta.ip);
    const { user, check } = await (async () => {
      await captcha.check(checked.value, meta.ip, input.captcha_token, 'login');
      const found = await createUserRepo(db).findByEmail(checked.value);
      // SECURITY: unknown e-mail, wrong password and inactive user answer alike, after a real hash check.
      return { user: found, check: await hasher.verify(password, found?.password) };
    })().catch(async (err: unknown) => {
      await attempt.release(); // no password was checked
      throw err;
    });
    if (!user || !check.ok || !user.isActive) {
      const locked = await lockout.recordFailure(checked.value, meta.ip);
      const subject = {
        resourceType: 'user',
        resourceId: user?.id ?? null,
        subjectUserId: user?.id ?? null,
      };
      const reason = !user ? 'unknown_email' : !check.ok ? 'wrong_password' : 'inactive';
      await recordAudits(db, { actor: null, meta }, [
        { action: 'login_failed', ...subject, outcome: 'failure', reason },
        ...(locked.length
          ? [{ action: 'login_locked', ...subject, outcome: 'denied' as const, metadata: { locked } }]
          : []),
      ]);
      throw INVALID_CREDENTIALS();
    }
    await attempt.release();
    if (check.needsRehash && user.password) {
      // Only over the hash just verified: a password changed meanwhile is never undone.
      await createUserRepo(db).replacePasswordHash(user.id, user.password, await hasher.hash(password));
    }
    // After the password proved right (a wrong one learns nothing), before any 2FA step or session.
    if (passwordExpired(user, config.passwordMaxAgeDays, now())) {
      await recordAudit(
        db,
        { actor: null, meta },
        {
          action: 'login_failed',
          resourceType: 'user',
          resourceId: user.id,
          subjectUserId: user.id,
          outcome: 'denied',
          reason: 'password_expired',
        },
      );
      throw passwordExpiredError(config.passwordMaxAgeDays);
    }
    if (user.totpEnabled) {
      await pending2fa.start(user);
      await recordAudit(
        db,
        { actor: null, meta },
        {
          action: '2fa_challenge',
          resourceType: 'user',
          resourceId: user.id,
          subjectUserId: user.id,
        },
      );
      return {
        kind: '2fa',
        body: {
          requires_2fa: true,
          email: user.email,
          message: 'Please enter your 2FA authentication code',
        },
      };
    }
    if (user.role !== 'candidate') {
      const setup = await tokens.sign('2fa_setup', user.id);
      throw new ApiError(403, '2fa_setup_required', SETUP_MESSAGE, undefined, {
        requires_2fa_setup: true,
        message: SETUP_MESSAGE,
        setup_url: '/auth/2fa/setup/',
        setup_token: setup.token,
      });
    }
    return { kind: 'tokens', body: await completeLogin(user, meta) };
  }

  return {
    createAccount,

    async register(input: RegisterInput, meta: RequestMeta) {
      const email = input.email ?? '';
      const password = input.password ?? '';
      const fail = (detail: string, errors: Record<string, string[]>) =>
        validationError(errors, detail, { error: detail });
      const missing = missingCredentials(email, password);
      if (missing) throw fail('Email and password are required', missing);
      const checked = emailErrors(email, config.allowedEmailDomains);
      if ('errors' in checked) throw fail('Invalid email', checked.errors);
      const lengthError = passwordLengthError(password);
      if (lengthError) throw fail('Invalid password', { password: [lengthError] });
      const firstName = input.first_name ?? '';
      const lastName = input.last_name ?? '';
      const policy = policyErrors(password, { email: checked.value, firstName, lastName });
      if (policy.length) throw fail('Invalid password', { password: policy });
      const tooLong = nameError(firstName) ?? nameError(lastName);
      if (tooLong) throw fail('Invalid name', { name: [tooLong] });
      await captcha.check(checked.value, meta.ip, input.captcha_token, 'register');
      // Hashed before the transaction: waiting for the hashing gate must not hold a connection.
      const passwordHash = await hasher.hash(password);

      const result = await db
        .transaction(async (tx) => {
          if (await createUserRepo(tx).findByEmail(checked.value)) return null;
          // SECURITY: the role is never taken from the body; self-registration makes candidates.
          const user = await createAccount(tx, {
            email: checked.value,
            password,
            passwordHash,
            firstName,
            lastName,
            role: 'candidate',
          });
          const opened = await sessions.open(tx, user.id, meta);
          await mailer.queue(tx, 'welcome', user.email, {
            name: user.firstName,
            loginUrl: `${config.frontendUrl}/login`,
          });
          await mailer.queueAdmin(tx, 'admin_new_user', {
            email: user.email,
            name: `${user.firstName} ${user.lastName}`.trim(),
          });
          return { user, opened };
        })
        .catch((err: unknown) => {
          if (isUniqueViolation(err)) return null;
          throw err;
        });
      if (!result) throw fail('User already exists', { email: ['Email already in use'] });
      mailer.kick();
      await deps.changed([{ kind: 'account', userId: result.user.id }]);
      return { user: await present(result.user.id), ...result.opened.tokens };
    },

    async login(input: LoginInput, meta: RequestMeta): Promise<LoginResult> {
      try {
        const result = await attemptLogin(input, meta);
        deps.onLoginOutcome?.(result.kind === '2fa' ? '2fa_required' : 'success');
        return result;
      } catch (err) {
        deps.onLoginOutcome?.(loginOutcomeOf(err));
        throw err;
      }
    },

    async refresh(input: RefreshInput, meta: RequestMeta) {
      const raw = input.refresh;
      if (raw === undefined || raw.trim() === '') {
        throw validationError({ refresh: ['This field is required.'] });
      }
      const claims = await tokens.verify(raw.trim(), 'refresh');
      if (!claims) throw TOKEN_NOT_VALID();
      const at = now();
      const outcome = await sessions.transaction(async (tx, changes) => {
        const repo = createSessionRepo(tx);
        // Lock order: the user row, then the session (as role, status and password changes do).
        await createUserRepo(tx).lockForSessionChange(Number(claims.user_id));
        const found = await repo.lockRefreshToken(claims.jti);
        if (!found || String(found.session.userId) !== claims.user_id) return { ok: false as const };
        const { token, session } = found;
        if (session.terminatedAt) return { ok: false as const };
        if (token.rotatedAt) {
          const sinceRotation = (at.getTime() - token.rotatedAt.getTime()) / 1000;
          if (sinceRotation <= config.jwt.reuseGraceSeconds) return { ok: false as const };
          // SECURITY: a rotated token came back: someone holds a stolen copy. End the whole session,
          // recorded in the same transaction.
          await changes.end({ id: session.id }, 'token_reuse');
          await recordAudit(
            tx,
            { actor: null, meta },
            {
              action: 'token_reuse_detected',
              resourceType: 'session',
              resourceId: session.id,
              subjectUserId: session.userId,
              outcome: 'denied',
            },
          );
          return { ok: false as const };
        }
        if (at >= token.expiresAt || at >= session.absoluteExpiresAt) return { ok: false as const };
        const user = await createUserRepo(tx).findById(session.userId);
        if (!user?.isActive) return { ok: false as const };
        const jti = newJti();
        const expiresAt = new Date(
          Math.min(at.getTime() + config.jwt.refreshTtl * 1000, session.absoluteExpiresAt.getTime()),
        );
        await repo.insertRefreshToken({ jti, sessionId: session.id, issuedAt: at, expiresAt });
        await repo.markRotated(token.jti, at, jti);
        await repo.update(session.id, { expiresAt, lastActivity: at });
        await createUserRepo(tx).update(user.id, { lastLogin: at });
        return {
          ok: true as const,
          userId: user.id,
          sessionId: session.id,
          jti,
          exp: Math.floor(expiresAt.getTime() / 1000),
        };
      });
      if (!outcome.ok) throw TOKEN_NOT_VALID();
      return sessions.issue(outcome.userId, outcome.sessionId, outcome.jti, outcome.exp);
    },

    async logout(actor: Actor, input: RefreshInput, meta: RequestMeta) {
      const raw = input.refresh;
      let otherSessionId: number | undefined;
      if (raw !== undefined && raw !== '') {
        const claims = await tokens.verify(raw.trim(), 'refresh');
        const found = claims ? await createSessionRepo(db).lockRefreshToken(claims.jti) : undefined;
        const live =
          found &&
          found.session.userId === actor.userId &&
          !found.token.rotatedAt &&
          !found.session.terminatedAt &&
          found.token.expiresAt > now();
        if (!live) throw badRequest('Invalid token');
        otherSessionId = found.session.id;
      }
      await sessions.transaction(async (tx, changes) => {
        await changes.end({ id: actor.sessionId }, 'logout');
        if (otherSessionId !== undefined && otherSessionId !== actor.sessionId) {
          await changes.end({ id: otherSessionId }, 'logout');
        }
        await recordAudit(
          tx,
          { actor, meta },
          {
            action: 'logout',
            resourceType: 'session',
            resourceId: actor.sessionId,
            subjectUserId: actor.userId,
          },
        );
      });
      return { detail: 'Successfully logged out' };
    },

    me: (actor: Actor) => present(actor.userId),
  };
}
export type AuthService = ReturnType<typeof createAuthService>;

import QRCode from 'qrcode';
import type { OnDataChange } from '../../../lib/changes.js';
import type { Db } from '../../../db/client.js';
import type { Actor, RequestMeta } from '../../../lib/actor.js';
import { fieldAad, type FieldCipher } from '../../../lib/crypto/field-cipher.js';
import { checkEmail } from '../../../lib/email.js';
import { ApiError, badRequest, validationError } from '../../../lib/errors.js';
import type { KeyValueStore } from '../../../lib/kv.js';
import type { PasswordHasher } from '../../../lib/password-hasher.js';
import { recordAudit } from '../../audit/index.js';
import type { DataKeyStore } from '../../keys/index.js';
import type { Mailer } from '../../mail/index.js';
import { createUserRepo, type UserRow } from '../../users/index.js';
import type { Lockout } from '../sign-in/lockout.js';
import type { LoginCompletion } from '../sign-in/login-completion.js';
import type { PendingTwoFactor } from '../sign-in/pending-2fa.js';
import { createBackupCodeHasher, generateBackupCodes, isBackupCodeInput } from './backup-codes.js';
import { createTwoFactorRepo } from './repo.js';
import { matchTotp, newTotpSecret, provisioningUri, TOTP_ISSUER } from './totp.js';

/** Two-factor authentication (docs/auth.md#two-factor-authentication), mandatory for staff. */
const SETUP_TTL_SECONDS = 900;
const ALREADY_ENABLED = '2FA is already enabled for this account';
const secretAad = (userId: number) => fieldAad('users', 'totp_secret', userId);
const pendingAad = (userId: number) => fieldAad('kv', '2fa_setup', userId);
const isStaffRole = (role: UserRow['role']) => role !== 'candidate';

export interface TwoFactorDeps {
  db: Db;
  kv: KeyValueStore;
  cipher: FieldCipher;
  dataKeys: DataKeyStore;
  hasher: PasswordHasher;
  lockout: Lockout;
  pending2fa: PendingTwoFactor;
  completeLogin: LoginCompletion;
  mailer: Mailer;
  /** Keys the stored backup-code hashes (a sub-key is derived from it). */
  blindIndexKey: Buffer;
  fmt: (d: Date) => string;
  now: () => Date;
  /** After a commit, before the answer: what changed (docs/operations.md#caches). */
  changed: OnDataChange;
}

/** Who is enrolling: a logged-in user (access token) or an admin holding a setup token. */
export type Enroller = { kind: 'actor'; actor: Actor } | { kind: 'setup'; userId: number };

/**
 * Bodies as their routes validated them (types and bounds); the field checks of
 * docs/auth.md#2fa-endpoints run here, in their order.
 */
export interface VerifySetupInput {
  totp_code?: string | number | undefined;
}
export interface VerifyCodeInput {
  email?: string | undefined;
  code?: string | number | undefined;
}
/** `2fa/disable/` and `2fa/backup-codes/`. */
export interface PasswordConfirmation {
  password?: string | undefined;
}

export function createTwoFactorService(deps: TwoFactorDeps) {
  const { db, kv, cipher, dataKeys, hasher, lockout, pending2fa, completeLogin, mailer, fmt, now } = deps;
  const setupKey = (userId: number) => `2fa:setup:${userId}`;
  const backupCodes = createBackupCodeHasher(deps.blindIndexKey);

  async function loadUser(userId: number): Promise<UserRow> {
    const user = await createUserRepo(db).findById(userId);
    if (!user?.isActive) throw new ApiError(401, 'authentication_failed', 'Authentication failed');
    return user;
  }

  async function openSecret(user: UserRow): Promise<string | null> {
    if (!user.totpSecret) return null;
    const dek = await dataKeys.find(db, user.id);
    return dek ? cipher.decrypt(dek, user.totpSecret, secretAad(user.id)) : null;
  }

  async function checkPassword(user: UserRow, password: string | undefined): Promise<void> {
    const ok = password !== undefined && password !== '' && (await hasher.verify(password, user.password)).ok;
    if (!ok) throw validationError({ password: ['Password is incorrect'] });
  }

  const expired = () =>
    new ApiError(
      401,
      '2fa_session_expired',
      '2FA session expired. Please login again with your email and password.',
    );

  /** Checks a code against the pending login step of this e-mail. */
  async function checkCode(email: string, code: string) {
    const userId = await pending2fa.find(email);
    if (userId === null) throw expired();
    const user = await createUserRepo(db).findById(userId);
    if (!user?.isActive || user.email !== email) throw expired();
    const secret = user.totpEnabled ? await openSecret(user) : null;
    if (!secret) throw badRequest('2FA is not properly configured');
    // SECURITY: the step's attempt is counted before the check; past its last one the step is gone.
    const attempt = await pending2fa.admitCode(email);
    if (attempt === null) throw expired();
    const at = now();
    const accepted = /^\d{6}$/.test(code)
      ? await (async () => {
          const step = matchTotp(secret, code, at);
          // SECURITY: a code is accepted once: its time step must be newer than the last accepted one.
          return step !== null && createTwoFactorRepo(db).acceptTotpStep(user.id, step, at);
        })()
      : await createTwoFactorRepo(db).consumeBackupCode(user.id, backupCodes.lookups(code), at);
    return { user, accepted, attempt };
  }

  const audit = (
    user: UserRow,
    meta: RequestMeta,
    action: string,
    outcome: 'success' | 'failure' = 'success',
  ) =>
    recordAudit(
      db,
      { actor: { userId: user.id, role: user.role }, meta },
      {
        action,
        resourceType: 'user',
        resourceId: user.id,
        subjectUserId: user.id,
        outcome,
      },
    );

  return {
    async setup(who: Enroller) {
      const user = await loadUser(who.kind === 'actor' ? who.actor.userId : who.userId);
      if (user.totpEnabled) throw badRequest(ALREADY_ENABLED);
      const secret = newTotpSecret();
      // PRIVACY: the pending secret is sealed with the user's key before it reaches the shared store.
      const dek = await db.transaction((tx) => dataKeys.obtain(tx, user.id));
      await kv.set(setupKey(user.id), cipher.encrypt(dek, secret, pendingAad(user.id)), SETUP_TTL_SECONDS);
      const uri = provisioningUri(user.email, secret);
      const png = await QRCode.toBuffer(uri, { type: 'png', margin: 2, width: 256 });
      return {
        secret,
        qr_code_base64: png.toString('base64'),
        provisioning_uri: uri,
        issuer: TOTP_ISSUER,
        message: 'Scan the QR code with your authenticator app (Google Authenticator, Authy, etc.)',
      };
    },

    async verifySetup(who: Enroller, input: VerifySetupInput, meta: RequestMeta) {
      const code = input.totp_code;
      const codeError =
        code === undefined || code === ''
          ? 'This field is required.'
          : String(code).trim().length < 6
            ? 'Ensure this field has at least 6 characters.'
            : String(code).trim().length > 6
              ? 'Ensure this field has no more than 6 characters.'
              : !/^\d{6}$/.test(String(code).trim())
                ? 'TOTP code must contain only digits'
                : null;
      if (codeError) throw validationError({ totp_code: [codeError] });
      const user = await loadUser(who.kind === 'actor' ? who.actor.userId : who.userId);
      if (user.totpEnabled) throw badRequest(ALREADY_ENABLED);
      const sealed = await kv.get(setupKey(user.id));
      const dek = sealed ? await dataKeys.find(db, user.id) : null;
      const secret = sealed && dek ? cipher.decrypt(dek, sealed, pendingAad(user.id)) : null;
      if (!secret) throw badRequest('Setup session expired. Please restart 2FA setup.');
      const at = now();
      const step = matchTotp(secret, String(code).trim(), at);
      if (step === null) throw badRequest('Invalid TOTP code. Please try again.');
      const codes = generateBackupCodes();
      await db.transaction(async (tx) => {
        const dek = await dataKeys.obtain(tx, user.id);
        const repo = createTwoFactorRepo(tx);
        await repo.enable(user.id, cipher.encrypt(dek, secret, secretAad(user.id)), step, at);
        await repo.replaceBackupCodes(user.id, codes.map(backupCodes.hash), at);
        await recordAudit(
          tx,
          { actor: { userId: user.id, role: user.role }, meta },
          {
            action: '2fa_enabled',
            resourceType: 'user',
            resourceId: user.id,
            subjectUserId: user.id,
          },
        );
        await mailer.queue(tx, '2fa_enabled', user.email, { name: user.firstName });
      });
      mailer.kick();
      await deps.changed([{ kind: 'account', userId: user.id }]);
      await kv.del(setupKey(user.id));
      const result = {
        message: '2FA has been successfully enabled for your account',
        backup_codes: codes,
        backup_codes_warning: 'Save these backup codes in a secure location. They will not be shown again.',
      };
      if (who.kind === 'actor') return result;
      // A setup token enrols and signs in: the admin gets a session at once.
      return { ...result, ...(await completeLogin({ ...user, totpEnabled: true }, meta, '2fa_success')) };
    },

    async verifyCode(input: VerifyCodeInput, meta: RequestMeta) {
      const errors: Record<string, string[]> = {};
      const rawEmail = input.email ?? '';
      const rawCode = input.code === undefined ? '' : String(input.code);
      const email = checkEmail(rawEmail, []);
      if (input.email === undefined || input.email === '') errors.email = ['This field is required.'];
      else if (!email.ok) errors.email = ['Enter a valid email address.'];
      const code = rawCode.trim();
      if (input.code === undefined || input.code === '') errors.code = ['This field is required.'];
      else if (code.length < 6) errors.code = ['Ensure this field has at least 6 characters.'];
      else if (code.length > 14) errors.code = ['Ensure this field has no more than 14 characters.'];
      else if (!/^\d{6}$/.test(code) && !isBackupCodeInput(code)) {
        errors.code = ['Code must be either a 6-digit TOTP code or a backup code (XXXX-XXXX-XXXX)'];
      }
      if (Object.keys(errors).length || !email.ok) throw validationError(errors);
      // SECURITY: counted against the account and address before the code is checked.
      const attempt = await lockout.assertNotLocked(email.value, meta.ip);
      const checked = await checkCode(email.value, code).catch(async (err: unknown) => {
        await attempt.release(); // no code was checked
        throw err;
      });
      if (!checked.accepted) {
        await lockout.recordFailure(email.value, meta.ip);
        await pending2fa.wrongCode(email.value, checked.attempt);
        await audit(checked.user, meta, '2fa_failed', 'failure');
        throw new ApiError(401, 'invalid_2fa_code', 'Invalid 2FA code');
      }
      await attempt.release();
      await pending2fa.finish(email.value);
      return completeLogin(checked.user, meta, '2fa_success');
    },

    async disable(actor: Actor, input: PasswordConfirmation, meta: RequestMeta) {
      const user = await loadUser(actor.userId);
      await checkPassword(user, input.password);
      if (isStaffRole(user.role)) {
        throw validationError({
          non_field_errors: ['2FA is mandatory for admin and superuser accounts and cannot be disabled'],
        });
      }
      if (!user.totpEnabled) throw badRequest('2FA is not enabled for this account');
      await db.transaction(async (tx) => {
        await createTwoFactorRepo(tx).disable(user.id, now());
        await recordAudit(
          tx,
          { actor, meta },
          {
            action: '2fa_disabled',
            resourceType: 'user',
            resourceId: user.id,
            subjectUserId: user.id,
          },
        );
        await mailer.queue(tx, '2fa_disabled', user.email, { name: user.firstName });
      });
      mailer.kick();
      await deps.changed([{ kind: 'account', userId: user.id }]);
      return { message: '2FA has been disabled for your account' };
    },

    async regenerateBackupCodes(actor: Actor, input: PasswordConfirmation, meta: RequestMeta) {
      const user = await loadUser(actor.userId);
      await checkPassword(user, input.password);
      if (!user.totpEnabled) {
        throw validationError({ non_field_errors: ['2FA must be enabled to regenerate backup codes'] });
      }
      const codes = generateBackupCodes();
      await db.transaction(async (tx) => {
        await createTwoFactorRepo(tx).replaceBackupCodes(user.id, codes.map(backupCodes.hash), now());
        await recordAudit(
          tx,
          { actor, meta },
          {
            action: 'backup_codes_regenerated',
            resourceType: 'user',
            resourceId: user.id,
            subjectUserId: user.id,
          },
        );
      });
      return {
        message: 'Backup codes have been regenerated',
        backup_codes: codes,
        count: codes.length,
        warning: 'Save these backup codes in a secure location. They will not be shown again.',
      };
    },

    async status(actor: Actor) {
      const user = await loadUser(actor.userId);
      return {
        totp_enabled: user.totpEnabled,
        totp_enabled_at: user.totpEnabledAt ? fmt(user.totpEnabledAt) : null,
        backup_codes_remaining: user.totpEnabled
          ? await createTwoFactorRepo(db).remainingBackupCodes(user.id)
          : 0,
        required: isStaffRole(user.role),
      };
    },
  };
}
export type TwoFactorService = ReturnType<typeof createTwoFactorService>;

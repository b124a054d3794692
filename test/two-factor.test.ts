import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, twoFactorBackupCodes, users } from '../src/db/schema.js';
import { currentTotp } from '../src/modules/auth/two-factor/totp.js';
import {
  createTestApp,
  createUserWithSession,
  openSession,
  type TestApp,
  type TestUser,
} from './helpers/app.js';

/**
 * Two-factor authentication (spec auth.md §3.6–7, §4). Throttles are off and the lock-out
 * thresholds high here, so that repeated logins and wrong codes show the 2FA rules alone;
 * their interplay with limits is in lockout-throttle.test.ts.
 */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({
    RATE_LIMIT_LOGIN: 'off',
    RATE_LIMIT_2FA_VERIFY: 'off',
    RATE_LIMIT_SENSITIVE_USER: 'off',
    RATE_LIMIT_REGISTER: 'off',
    LOCKOUT_THRESHOLD: '50',
    LOCKOUT_IP_THRESHOLD: '1000',
  });
});
afterAll(async () => {
  await t.close();
});

const post = (url: string, payload: object, token?: string) =>
  t.request({ method: 'POST', url, payload, ...(token ? { token } : {}) });
const get = (url: string, token?: string) => t.request({ method: 'GET', url, ...(token ? { token } : {}) });
const login = (email: string, password: string) => post('/api/auth/login/', { email, password });
const verifyCode = (email: string, code: string) => post('/api/auth/2fa/verify-code/', { email, code });
const totpNow = (secret: string) => currentTotp(secret, t.clock.now());

/** A 6-digit code that matches none of the steps the verifier accepts now (±1 step). */
function wrongTotp(secret: string): string {
  const near = new Set(
    [-30, 0, 30].map((s) => currentTotp(secret, new Date(t.clock.now().getTime() + s * 1000))),
  );
  for (let n = 0; ; n += 1) {
    const code = String(n).padStart(6, '0');
    if (!near.has(code)) return code;
  }
}

/** Enrols a user through the API and moves the clock to a fresh TOTP step. */
async function enrol(user: TestUser): Promise<{ secret: string; backupCodes: string[] }> {
  const setup = await post('/api/auth/2fa/setup/', {}, user.access);
  expect(setup.statusCode).toBe(200);
  const secret = setup.json<{ secret: string }>().secret;
  const verified = await post('/api/auth/2fa/verify-setup/', { totp_code: totpNow(secret) }, user.access);
  expect(verified.statusCode).toBe(200);
  // The enrolment code's step is used up; the next login needs a code of a later step.
  t.clock.advance(30);
  return { secret, backupCodes: verified.json<{ backup_codes: string[] }>().backup_codes };
}

async function candidateWith2fa() {
  const user = await createUserWithSession(t, 'candidate');
  return { user, ...(await enrol(user)) };
}

async function userRow(id: number) {
  const [row] = await t.c.db.select().from(users).where(eq(users.id, id));
  if (!row) throw new Error('user row missing');
  return row;
}

const BACKUP_CODE = /^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/;
const EXPIRED = {
  detail: '2FA session expired. Please login again with your email and password.',
  code: '2fa_session_expired',
};

describe('enrolment (candidate)', () => {
  it('setup returns a base32 secret, the provisioning URI and a bare base64 PNG', async () => {
    const user = await createUserWithSession(t, 'candidate');
    const res = await post('/api/auth/2fa/setup/', {}, user.access);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body)).toEqual(['secret', 'qr_code_base64', 'provisioning_uri', 'issuer', 'message']);
    expect(body.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(body.provisioning_uri).toBe(
      `otpauth://totp/PSS%20Backend:${user.email}?secret=${body.secret}&issuer=PSS%20Backend`,
    );
    expect(body.issuer).toBe('PSS Backend');
    expect(body.message).toBe(
      'Scan the QR code with your authenticator app (Google Authenticator, Authy, etc.)',
    );
    expect(body.qr_code_base64.startsWith('data:')).toBe(false);
    const png = Buffer.from(body.qr_code_base64, 'base64');
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    // Nothing is enabled until the first code is confirmed.
    expect((await userRow(user.id)).totpEnabled).toBe(false);
  });

  it('verify-setup validates the code with the original messages', async () => {
    const user = await createUserWithSession(t, 'candidate');
    await post('/api/auth/2fa/setup/', {}, user.access);
    const cases: [object, string][] = [
      [{}, 'This field is required.'],
      [{ totp_code: '' }, 'This field is required.'],
      [{ totp_code: '12345' }, 'Ensure this field has at least 6 characters.'],
      [{ totp_code: '1234567' }, 'Ensure this field has no more than 6 characters.'],
      [{ totp_code: '12a456' }, 'TOTP code must contain only digits'],
    ];
    for (const [payload, message] of cases) {
      const res = await post('/api/auth/2fa/verify-setup/', payload, user.access);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json()).toMatchObject({
        detail: 'Validation error',
        code: 'validation_error',
        errors: { totp_code: [message] },
      });
    }
  });

  it('refuses a wrong code, an expired or missing setup, and a replaced secret', async () => {
    const user = await createUserWithSession(t, 'candidate');
    const none = await post('/api/auth/2fa/verify-setup/', { totp_code: '123456' }, user.access);
    expect(none.statusCode).toBe(400);
    expect(none.json().detail).toBe('Setup session expired. Please restart 2FA setup.');

    const first = (await post('/api/auth/2fa/setup/', {}, user.access)).json<{ secret: string }>().secret;
    const wrong = await post('/api/auth/2fa/verify-setup/', { totp_code: wrongTotp(first) }, user.access);
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json()).toMatchObject({ detail: 'Invalid TOTP code. Please try again.' });

    // A new setup call replaces the pending secret: codes of the first one no longer match.
    const second = (await post('/api/auth/2fa/setup/', {}, user.access)).json<{ secret: string }>().secret;
    expect(second).not.toBe(first);
    if (totpNow(first) !== totpNow(second)) {
      const stale = await post('/api/auth/2fa/verify-setup/', { totp_code: totpNow(first) }, user.access);
      expect(stale.json().detail).toBe('Invalid TOTP code. Please try again.');
    }

    // The pending secret lives 900 s (so does the access token: a new session continues).
    t.clock.advance(901);
    const { access } = await openSession(t, user.id);
    const expired = await post('/api/auth/2fa/verify-setup/', { totp_code: totpNow(second) }, access);
    expect(expired.statusCode).toBe(400);
    expect(expired.json()).toMatchObject({
      detail: 'Setup session expired. Please restart 2FA setup.',
      code: 'bad_request',
    });
    expect((await userRow(user.id)).totpEnabled).toBe(false);
  });

  it('enables 2FA with 10 backup codes, stores the secret encrypted and refuses a second enrolment', async () => {
    const user = await createUserWithSession(t, 'candidate');
    const setup = await post('/api/auth/2fa/setup/', {}, user.access);
    const { secret } = setup.json<{ secret: string }>();
    const res = await post('/api/auth/2fa/verify-setup/', { totp_code: totpNow(secret) }, user.access);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body)).toEqual(['message', 'backup_codes', 'backup_codes_warning']);
    expect(body.message).toBe('2FA has been successfully enabled for your account');
    expect(body.backup_codes_warning).toBe(
      'Save these backup codes in a secure location. They will not be shown again.',
    );
    expect(body.backup_codes).toHaveLength(10);
    expect(new Set(body.backup_codes).size).toBe(10);
    for (const code of body.backup_codes) expect(code).toMatch(BACKUP_CODE);

    const row = await userRow(user.id);
    expect(row.totpEnabled).toBe(true);
    expect(row.totpEnabledAt).not.toBeNull();
    expect(row.totpSecret).not.toBeNull();
    expect(row.totpSecret).not.toContain(secret);
    const stored = await t.c.db
      .select()
      .from(twoFactorBackupCodes)
      .where(eq(twoFactorBackupCodes.userId, user.id));
    expect(stored).toHaveLength(10);
    for (const s of stored) {
      expect(s.codeHash).toMatch(/^[0-9a-f]{64}$/);
      expect(body.backup_codes).not.toContain(s.codeHash);
    }
    const audit = await t.c.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.subjectUserId, user.id), eq(auditLog.action, '2fa_enabled')));
    expect(audit).toHaveLength(1);
    await t.c.jobs.idle();
    expect(t.c.mailer.sent.some((m) => m.template === '2fa_enabled' && m.to === user.email)).toBe(true);

    const again = await post('/api/auth/2fa/setup/', {}, user.access);
    expect(again.statusCode).toBe(400);
    expect(again.json()).toMatchObject({ detail: '2FA is already enabled for this account' });
    const verifyAgain = await post('/api/auth/2fa/verify-setup/', { totp_code: '123456' }, user.access);
    expect(verifyAgain.statusCode).toBe(400);
    expect(verifyAgain.json().detail).toBe('2FA is already enabled for this account');
  });

  it('status reports the enrolment', async () => {
    const user = await createUserWithSession(t, 'candidate');
    const before = await get('/api/auth/2fa/status/', user.access);
    expect(before.statusCode).toBe(200);
    expect(before.json()).toEqual({
      totp_enabled: false,
      totp_enabled_at: null,
      backup_codes_remaining: 0,
      required: false,
    });
    await enrol(user);
    const after = await get('/api/auth/2fa/status/', user.access);
    const body = after.json();
    expect(Object.keys(body)).toEqual([
      'totp_enabled',
      'totp_enabled_at',
      'backup_codes_remaining',
      'required',
    ]);
    expect(body.totp_enabled).toBe(true);
    expect(typeof body.totp_enabled_at).toBe('string');
    expect(body.backup_codes_remaining).toBe(10);
    expect(body.required).toBe(false);
    expect((await get('/api/auth/2fa/status/')).statusCode).toBe(401);
  });
});

describe('login with 2FA', () => {
  it('asks for the second step instead of issuing tokens', async () => {
    const { user } = await candidateWith2fa();
    const res = await login(user.email.toUpperCase(), user.password);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      requires_2fa: true,
      email: user.email,
      message: 'Please enter your 2FA authentication code',
    });
  });

  it('accepts a TOTP code once: the same code in a later login is refused', async () => {
    const { user, secret } = await candidateWith2fa();
    await login(user.email, user.password);
    const code = totpNow(secret);
    const ok = await verifyCode(user.email, code);
    expect(ok.statusCode).toBe(200);
    const body = ok.json();
    expect(Object.keys(body)).toEqual(['access', 'refresh', 'user']);
    expect(body.user.email).toBe(user.email);
    const me = await get('/api/auth/me/', body.access);
    expect(me.statusCode).toBe(200);
    const row = await userRow(user.id);
    expect(row.totpLastUsed?.getTime()).toBe(t.clock.now().getTime());

    // The marker is cleared: the same request again has no pending login.
    expect((await verifyCode(user.email, code)).json()).toMatchObject(EXPIRED);

    expect((await login(user.email, user.password)).json().requires_2fa).toBe(true);
    const replay = await verifyCode(user.email, code);
    expect(replay.statusCode).toBe(401);
    expect(replay.json()).toMatchObject({ detail: 'Invalid 2FA code', code: 'invalid_2fa_code' });

    // The next time step gives a fresh code that works (the pending login is still open).
    t.clock.advance(30);
    const next = await verifyCode(user.email, totpNow(secret));
    expect(next.statusCode).toBe(200);
  });

  it('refuses the code that confirmed the enrolment (same time step)', async () => {
    const user = await createUserWithSession(t, 'candidate');
    const { secret } = (await post('/api/auth/2fa/setup/', {}, user.access)).json<{ secret: string }>();
    const code = totpNow(secret);
    expect((await post('/api/auth/2fa/verify-setup/', { totp_code: code }, user.access)).statusCode).toBe(
      200,
    );
    await login(user.email, user.password);
    const res = await verifyCode(user.email, code);
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('invalid_2fa_code');
    t.clock.advance(30);
  });

  it('answers 400 when 2FA was turned off while a login was pending', async () => {
    const { user, secret } = await candidateWith2fa();
    await login(user.email, user.password);
    expect((await post('/api/auth/2fa/disable/', { password: user.password }, user.access)).statusCode).toBe(
      200,
    );
    const res = await verifyCode(user.email, totpNow(secret));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ detail: '2FA is not properly configured' });
  });

  it('accepts a backup code once, in any case and with or without the hyphen', async () => {
    const { user, backupCodes } = await candidateWith2fa();
    const [first, second] = backupCodes as [string, string];
    await login(user.email, user.password);
    const ok = await verifyCode(user.email, first.replace('-', '').toLowerCase());
    expect(ok.statusCode).toBe(200);
    const token = ok.json<{ access: string }>().access;
    expect((await get('/api/auth/2fa/status/', token)).json().backup_codes_remaining).toBe(9);

    await login(user.email, user.password);
    const reused = await verifyCode(user.email, first);
    expect(reused.statusCode).toBe(401);
    expect(reused.json().code).toBe('invalid_2fa_code');
    const other = await verifyCode(user.email, ` ${second.toLowerCase()} `);
    expect(other.statusCode).toBe(200);
    const used = await t.c.db
      .select()
      .from(twoFactorBackupCodes)
      .where(and(eq(twoFactorBackupCodes.userId, user.id), eq(twoFactorBackupCodes.used, true)));
    expect(used).toHaveLength(2);
  });

  it('drops the pending login after 5 wrong codes', async () => {
    const { user, secret } = await candidateWith2fa();
    await login(user.email, user.password);
    const wrong = wrongTotp(secret);
    for (let i = 0; i < 5; i += 1) {
      const res = await verifyCode(user.email, wrong);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ detail: 'Invalid 2FA code', code: 'invalid_2fa_code' });
    }
    const right = await verifyCode(user.email, totpNow(secret));
    expect(right.statusCode).toBe(401);
    expect(right.json()).toMatchObject(EXPIRED);
    const failures = await t.c.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.subjectUserId, user.id), eq(auditLog.action, '2fa_failed')));
    expect(failures).toHaveLength(5);

    // A new password step opens a new pending login.
    await login(user.email, user.password);
    expect((await verifyCode(user.email, totpNow(secret))).statusCode).toBe(200);
  });

  it('needs a pending login, which lasts 300 s; the e-mail is case-insensitive', async () => {
    const { user, secret } = await candidateWith2fa();
    const none = await verifyCode(user.email, totpNow(secret));
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject(EXPIRED);
    const unknown = await verifyCode('nobody.here@capaciti.org.za', '123456');
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json()).toMatchObject(EXPIRED);

    await login(user.email, user.password);
    t.clock.advance(301);
    expect((await verifyCode(user.email, totpNow(secret))).json()).toMatchObject(EXPIRED);

    await login(user.email, user.password);
    const ok = await verifyCode(`  ${user.email.toUpperCase()} `, totpNow(secret));
    expect(ok.statusCode).toBe(200);
  });

  it('validates the verify-code body', async () => {
    const cases: [object, Record<string, string[]>][] = [
      [{}, { email: ['This field is required.'], code: ['This field is required.'] }],
      [{ email: 'not-an-email', code: '123456' }, { email: ['Enter a valid email address.'] }],
      [
        { email: 'a@capaciti.org.za', code: '12345' },
        { code: ['Ensure this field has at least 6 characters.'] },
      ],
      [
        { email: 'a@capaciti.org.za', code: '123456789012345' },
        { code: ['Ensure this field has no more than 14 characters.'] },
      ],
      [
        { email: 'a@capaciti.org.za', code: '1234567' },
        { code: ['Code must be either a 6-digit TOTP code or a backup code (XXXX-XXXX-XXXX)'] },
      ],
    ];
    for (const [payload, errors] of cases) {
      const res = await post('/api/auth/2fa/verify-code/', payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json()).toMatchObject({ detail: 'Validation error', code: 'validation_error' });
      expect(res.json().errors).toEqual(errors);
    }
  });
});

describe('disable and backup codes (candidate)', () => {
  it('disable needs the password, then clears 2FA', async () => {
    const { user } = await candidateWith2fa();
    for (const payload of [{}, { password: 'Wrong#Passw0rd-xyz' }]) {
      const res = await post('/api/auth/2fa/disable/', payload, user.access);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({
        code: 'validation_error',
        errors: { password: ['Password is incorrect'] },
      });
    }
    expect((await userRow(user.id)).totpEnabled).toBe(true);

    const res = await post('/api/auth/2fa/disable/', { password: user.password }, user.access);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ message: '2FA has been disabled for your account' });
    const row = await userRow(user.id);
    expect([row.totpEnabled, row.totpSecret, row.totpEnabledAt, row.totpLastUsed]).toEqual([
      false,
      null,
      null,
      null,
    ]);
    const codes = await t.c.db
      .select()
      .from(twoFactorBackupCodes)
      .where(eq(twoFactorBackupCodes.userId, user.id));
    expect(codes).toHaveLength(0);
    expect((await get('/api/auth/2fa/status/', user.access)).json()).toEqual({
      totp_enabled: false,
      totp_enabled_at: null,
      backup_codes_remaining: 0,
      required: false,
    });
    // Login gives tokens directly again.
    const direct = await login(user.email, user.password);
    expect(Object.keys(direct.json())).toEqual(['access', 'refresh', 'user']);

    const again = await post('/api/auth/2fa/disable/', { password: user.password }, user.access);
    expect(again.statusCode).toBe(400);
    expect(again.json().detail).toBe('2FA is not enabled for this account');
  });

  it('regenerates backup codes: the old ones stop working', async () => {
    const plain = await createUserWithSession(t, 'candidate');
    const notEnabled = await post('/api/auth/2fa/backup-codes/', { password: plain.password }, plain.access);
    expect(notEnabled.statusCode).toBe(400);
    expect(notEnabled.json().errors).toEqual({
      non_field_errors: ['2FA must be enabled to regenerate backup codes'],
    });

    const { user, backupCodes } = await candidateWith2fa();
    const wrong = await post('/api/auth/2fa/backup-codes/', { password: 'nope' }, user.access);
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().errors).toEqual({ password: ['Password is incorrect'] });

    const res = await post('/api/auth/2fa/backup-codes/', { password: user.password }, user.access);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body)).toEqual(['message', 'backup_codes', 'count', 'warning']);
    expect(body.message).toBe('Backup codes have been regenerated');
    expect(body.count).toBe(10);
    expect(body.backup_codes).toHaveLength(10);
    for (const code of body.backup_codes) expect(code).toMatch(BACKUP_CODE);
    expect(body.warning).toBe('Save these backup codes in a secure location. They will not be shown again.');

    await login(user.email, user.password);
    expect((await verifyCode(user.email, backupCodes[0] ?? '')).statusCode).toBe(401);
    expect((await verifyCode(user.email, body.backup_codes[0])).statusCode).toBe(200);
  });
});

describe('admins', () => {
  it('must enrol with a setup token, which signs them in and opens nothing else', async () => {
    const admin = await createUserWithSession(t, 'admin');
    const res = await login(admin.email, admin.password);
    expect(res.statusCode).toBe(403);
    const body = res.json();
    const message = '2FA is mandatory for admin and superuser accounts. Please set up 2FA to continue.';
    expect(body).toMatchObject({
      detail: message,
      code: '2fa_setup_required',
      requires_2fa_setup: true,
      message,
      setup_url: '/auth/2fa/setup/',
    });
    const setupToken = body.setup_token as string;
    expect(setupToken.split('.')).toHaveLength(3);
    expect(body.access).toBeUndefined();

    // Refused everywhere except setup and verify-setup.
    for (const [method, url] of [
      ['GET', '/api/auth/me/'],
      ['GET', '/api/auth/2fa/status/'],
      ['POST', '/api/auth/2fa/disable/'],
      ['POST', '/api/auth/2fa/backup-codes/'],
      ['GET', '/api/users/'],
    ] as const) {
      const refused = await t.request({ method, url, token: setupToken, payload: {} });
      expect(refused.statusCode, url).toBe(401);
    }

    const setup = await post('/api/auth/2fa/setup/', {}, setupToken);
    expect(setup.statusCode).toBe(200);
    const { secret } = setup.json<{ secret: string }>();
    const verified = await post('/api/auth/2fa/verify-setup/', { totp_code: totpNow(secret) }, setupToken);
    expect(verified.statusCode).toBe(200);
    const v = verified.json();
    expect(Object.keys(v)).toEqual([
      'message',
      'backup_codes',
      'backup_codes_warning',
      'access',
      'refresh',
      'user',
    ]);
    expect(v.backup_codes).toHaveLength(10);
    expect(v.user.email).toBe(admin.email);
    expect(v.user.role).toBe('admin');
    const me = await get('/api/auth/me/', v.access);
    expect(me.statusCode).toBe(200);
    const status = await get('/api/auth/2fa/status/', v.access);
    expect(status.json()).toMatchObject({ totp_enabled: true, backup_codes_remaining: 10, required: true });

    // From now on the admin logs in with a code.
    t.clock.advance(30);
    const next = await login(admin.email, admin.password);
    expect(next.json()).toMatchObject({ requires_2fa: true, email: admin.email });
    expect((await verifyCode(admin.email, totpNow(secret))).statusCode).toBe(200);
  });

  it('a setup token expires after 900 s', async () => {
    const admin = await createUserWithSession(t, 'superuser');
    const setupToken = (await login(admin.email, admin.password)).json<{ setup_token: string }>().setup_token;
    t.clock.advance(901);
    const res = await post('/api/auth/2fa/setup/', {}, setupToken);
    expect(res.statusCode).toBe(401);
  });

  it('status says 2FA is required; admins cannot disable it', async () => {
    const admin = await createUserWithSession(t, 'admin');
    expect((await get('/api/auth/2fa/status/', admin.access)).json()).toEqual({
      totp_enabled: false,
      totp_enabled_at: null,
      backup_codes_remaining: 0,
      required: true,
    });
    await enrol(admin);
    const wrong = await post('/api/auth/2fa/disable/', { password: 'nope' }, admin.access);
    expect(wrong.json().errors).toEqual({ password: ['Password is incorrect'] });
    const res = await post('/api/auth/2fa/disable/', { password: admin.password }, admin.access);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      code: 'validation_error',
      errors: {
        non_field_errors: ['2FA is mandatory for admin and superuser accounts and cannot be disabled'],
      },
    });
    expect((await userRow(admin.id)).totpEnabled).toBe(true);
  });
});

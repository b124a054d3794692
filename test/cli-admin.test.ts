import { and, desc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, sessions } from '../src/db/schema.js';
import { authCommands } from '../src/modules/auth/cli.js';
import { currentTotp } from '../src/modules/auth/two-factor/totp.js';
import {
  createTestApp,
  createUserWithSession,
  openSession,
  registerCandidate,
  uniqueEmail,
  type TestApp,
  type TestUser,
} from './helpers/app.js';
import { runCommand } from './helpers/cli.js';

/**
 * Operator commands replacing the original's Django admin actions (spec operations.md §3):
 * users:reset-2fa, sessions:revoke, sessions:mark-suspicious, 2fa:invalidate-backup-codes.
 * The commands run in-process against the test app's container.
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

/** Runs a command; returns its exit code and what it wrote. */
const cli = (name: string, ...args: string[]) => runCommand(authCommands, name, args, async () => t.c);

const post = (url: string, payload: object, token?: string) =>
  t.request({ method: 'POST', url, payload, ...(token ? { token } : {}) });
const get = (url: string, token?: string) => t.request({ method: 'GET', url, ...(token ? { token } : {}) });
const login = (email: string, password: string) => post('/api/auth/login/', { email, password });
const verifyCode = (email: string, code: string) => post('/api/auth/2fa/verify-code/', { email, code });
const totpNow = (secret: string) => currentTotp(secret, t.c.now());

/** Enrols through the API (token: an access or setup token); moves the clock to a fresh TOTP step. */
async function enrol(token: string) {
  const setup = await post('/api/auth/2fa/setup/', {}, token);
  expect(setup.statusCode).toBe(200);
  const { secret } = setup.json<{ secret: string }>();
  const verified = await post('/api/auth/2fa/verify-setup/', { totp_code: totpNow(secret) }, token);
  expect(verified.statusCode).toBe(200);
  t.clock.advance(30);
  return { secret, backupCodes: verified.json<{ backup_codes: string[] }>().backup_codes };
}

async function candidateWith2fa() {
  const user = await registerCandidate(t);
  return { user, ...(await enrol(user.access)) };
}

async function lastAudit(action: string, subject: number) {
  const [row] = await t.c.db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.action, action), eq(auditLog.subjectUserId, subject)))
    .orderBy(desc(auditLog.id))
    .limit(1);
  return row;
}

async function sessionKeyOf(access: string): Promise<string> {
  const res = await get('/api/auth/sessions/', access);
  expect(res.statusCode).toBe(200);
  const current = res
    .json<{ sessions: { session_key: string; is_current: boolean }[] }>()
    .sessions.find((s) => s.is_current);
  if (!current) throw new Error('no current session');
  return current.session_key;
}

const me = async (user: Pick<TestUser, 'access'>) => (await get('/api/auth/me/', user.access)).statusCode;

describe('users:reset-2fa', () => {
  it('turns 2FA off: the candidate logs in with the password alone, old tokens are refused', async () => {
    const { user, secret } = await candidateWith2fa();
    const second = await openSession(t, user.id);
    expect((await login(user.email, user.password)).json()).toMatchObject({ requires_2fa: true });

    const res = await cli('users:reset-2fa', '--email', user.email.toUpperCase());
    expect(res).toMatchObject({ code: 0, err: '' });
    expect(res.out).toContain(`2FA turned off for user ${user.id}; sessions ended: 2`);

    // Every session of the user is over, on every token.
    expect(await me(user)).toBe(401);
    expect(await me(second)).toBe(401);
    const refresh = await post('/api/auth/token/refresh/', { refresh: user.refresh });
    expect(refresh.statusCode).toBe(401);

    // Password alone now signs in; the old authenticator code is not asked for.
    const direct = await login(user.email, user.password);
    expect(direct.statusCode).toBe(200);
    expect(Object.keys(direct.json())).toEqual(['access', 'refresh', 'user']);
    const token = direct.json<{ access: string }>().access;
    expect((await get('/api/auth/2fa/status/', token)).json()).toEqual({
      totp_enabled: false,
      totp_enabled_at: null,
      backup_codes_remaining: 0,
      required: false,
    });
    // The pending code from before the reset no longer completes anything.
    expect((await verifyCode(user.email, totpNow(secret))).statusCode).not.toBe(200);

    const audit = await lastAudit('2fa_disabled', user.id);
    expect(audit).toMatchObject({
      actorId: null,
      actorRole: 'system',
      resourceType: 'user',
      resourceId: String(user.id),
      reason: 'cli reset',
      outcome: 'success',
    });
    await t.c.jobs.idle();
    expect(t.c.mailer.sent.filter((m) => m.to === user.email && m.template === '2fa_disabled')).toHaveLength(
      1,
    );
  });

  it('sends a staff member back through the setup-token flow', async () => {
    const admin = await createUserWithSession(t, 'admin');
    const setupToken = (await login(admin.email, admin.password)).json<{ setup_token: string }>().setup_token;
    await enrol(setupToken);
    expect((await login(admin.email, admin.password)).json()).toMatchObject({ requires_2fa: true });

    const res = await cli('users:reset-2fa', '--email', admin.email);
    expect(res.code).toBe(0);
    expect(res.out).toContain('2FA setup is required at the next login');
    expect(await me(admin)).toBe(401);

    const next = await login(admin.email, admin.password);
    expect(next.statusCode).toBe(403);
    expect(next.json()).toMatchObject({ code: '2fa_setup_required', requires_2fa_setup: true });
  });

  it('refuses an unknown e-mail (1) and a missing or malformed flag (2)', async () => {
    const unknown = await cli('users:reset-2fa', '--email', uniqueEmail('nobody'));
    expect(unknown).toMatchObject({ code: 1, out: '' });
    expect(unknown.err).toContain('no account with that e-mail');
    const missing = await cli('users:reset-2fa');
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('usage: users:reset-2fa --email E');
    expect((await cli('users:reset-2fa', '--email')).code).toBe(2);
    expect((await cli('users:reset-2fa', '--email', 'a@b.c', '--bogus', 'x')).code).toBe(2);
  });
});

describe('sessions:revoke', () => {
  it('--email ends every session of the user and says how many', async () => {
    const user = await registerCandidate(t);
    const second = await openSession(t, user.id);
    const bystander = await registerCandidate(t);

    const res = await cli('sessions:revoke', '--email', ` ${user.email.toUpperCase()} `);
    expect(res.code).toBe(0);
    expect(res.out).toBe(`sessions ended: 2 (user ${user.id})\n`);
    expect(await me(user)).toBe(401);
    expect(await me(second)).toBe(401);
    expect(await me(bystander)).toBe(200);
    // The user can still sign in again.
    expect((await login(user.email, user.password)).statusCode).toBe(200);

    expect(await lastAudit('session_revoked', user.id)).toMatchObject({
      actorRole: 'system',
      resourceType: 'session',
      metadata: { count: 2 },
    });

    const again = await cli('sessions:revoke', '--email', user.email);
    expect(again.out).toContain('sessions ended: 1'); // the fresh login's session
  });

  it('--session-key ends that one session only', async () => {
    const user = await registerCandidate(t);
    const other = await openSession(t, user.id);
    const key = await sessionKeyOf(other.access);

    const res = await cli('sessions:revoke', '--session-key', key);
    expect(res.code).toBe(0);
    expect(res.out).toContain('sessions ended: 1');
    expect(await me(other)).toBe(401);
    expect(await me(user)).toBe(200);
    const audit = await lastAudit('session_revoked', user.id);
    expect(audit).toMatchObject({ actorRole: 'system', resourceType: 'session' });
    expect(audit?.metadata).toMatchObject({ count: 1 });

    // Ending it again is not an error; nothing more ends.
    const again = await cli('sessions:revoke', '--session-key', key);
    expect(again.code).toBe(0);
    expect(again.out).toContain('sessions ended: 0');
  });

  it('refuses unknown e-mails and keys (1), no flag or both flags (2)', async () => {
    const user = await registerCandidate(t);
    const key = await sessionKeyOf(user.access);
    const unknownEmail = await cli('sessions:revoke', '--email', uniqueEmail('nobody'));
    expect(unknownEmail.code).toBe(1);
    expect(unknownEmail.err).toContain('no account with that e-mail');
    for (const bad of ['f'.repeat(64), 'not-a-key']) {
      const unknownKey = await cli('sessions:revoke', '--session-key', bad);
      expect(unknownKey.code).toBe(1);
      expect(unknownKey.err).toContain('no session with that key');
    }
    expect((await cli('sessions:revoke')).code).toBe(2);
    const both = await cli('sessions:revoke', '--email', user.email, '--session-key', key);
    expect(both.code).toBe(2);
    expect(both.err).toContain('usage: sessions:revoke');
    expect(await me(user)).toBe(200);
  });
});

describe('sessions:mark-suspicious', () => {
  it('flags the session: the user sees is_suspicious in their session list', async () => {
    const user = await registerCandidate(t);
    const other = await openSession(t, user.id);
    const key = await sessionKeyOf(other.access);

    const res = await cli('sessions:mark-suspicious', '--session-key', key);
    expect(res.code).toBe(0);
    expect(res.out).toContain('is_suspicious: true');

    const list = (await get('/api/auth/sessions/', user.access)).json<{
      sessions: { session_key: string; is_suspicious: boolean }[];
    }>().sessions;
    expect(list.find((s) => s.session_key === key)?.is_suspicious).toBe(true);
    expect(list.find((s) => s.session_key !== key)?.is_suspicious).toBe(false);
    // Still a working session: marking is not revoking.
    expect(await me(other)).toBe(200);

    const [session] = await t.c.db.select().from(sessions).where(eq(sessions.sessionKey, key));
    expect(await lastAudit('update', user.id)).toMatchObject({
      actorRole: 'system',
      resourceType: 'session',
      resourceId: String(session?.id),
      fields: ['is_suspicious'],
      changes: { is_suspicious: [false, true] },
    });
  });

  it('refuses an unknown key (1) and a missing flag (2)', async () => {
    const unknown = await cli('sessions:mark-suspicious', '--session-key', '0'.repeat(64));
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('no session with that key');
    const missing = await cli('sessions:mark-suspicious');
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('usage: sessions:mark-suspicious --session-key K');
  });
});

describe('2fa:invalidate-backup-codes', () => {
  it('makes every unused backup code useless; the authenticator still works', async () => {
    const { user, secret, backupCodes } = await candidateWith2fa();
    // One code is used up first: only the 9 others are invalidated.
    await login(user.email, user.password);
    expect((await verifyCode(user.email, backupCodes[0]!)).statusCode).toBe(200);

    const res = await cli('2fa:invalidate-backup-codes', '--email', user.email.toUpperCase());
    expect(res.code).toBe(0);
    expect(res.out).toBe(`backup codes invalidated: 9 (user ${user.id})\n`);

    await login(user.email, user.password);
    for (const code of backupCodes.slice(1, 4)) {
      const refused = await verifyCode(user.email, code);
      expect(refused.statusCode).toBe(401);
      expect(refused.json().code).toBe('invalid_2fa_code');
    }
    const ok = await verifyCode(user.email, totpNow(secret));
    expect(ok.statusCode).toBe(200);
    const status = await get('/api/auth/2fa/status/', ok.json<{ access: string }>().access);
    expect(status.json()).toMatchObject({ totp_enabled: true, backup_codes_remaining: 0 });

    expect(await lastAudit('update', user.id)).toMatchObject({
      actorRole: 'system',
      resourceType: 'two_factor_backup_codes',
      metadata: { invalidated: 9 },
    });
    expect((await cli('2fa:invalidate-backup-codes', '--email', user.email)).out).toContain(
      'backup codes invalidated: 0',
    );
  });

  it('refuses an unknown e-mail (1) and a missing flag (2)', async () => {
    const unknown = await cli('2fa:invalidate-backup-codes', '--email', uniqueEmail('nobody'));
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('no account with that e-mail');
    const missing = await cli('2fa:invalidate-backup-codes', '--email', '  ');
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('usage: 2fa:invalidate-backup-codes --email E');
  });
});

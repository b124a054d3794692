import { createHash } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, twoFactorBackupCodes } from '../src/db/schema.js';
import { currentTotp } from '../src/modules/auth/two-factor/totp.js';
import { createTestCluster, registerCandidate, type TestApp, type TestUser } from './helpers/app.js';

/**
 * Backup codes (spec auth.md §4; issue 9 item 11): at least 50 bits each, stored under a keyed hash
 * (never a plain SHA-256 of the code), single use under concurrency; codes of the earlier format
 * (8 characters, stored as plain SHA-256) keep working until used or regenerated.
 * With TEST_REDIS_URL two instances share the pending login step, and the codes race across them.
 */
const redisUrl = process.env.TEST_REDIS_URL;
let apps: TestApp[];
beforeAll(async () => {
  apps = await createTestCluster(redisUrl ? 2 : 1, {
    REDIS_URL: redisUrl,
    LOCKOUT_THRESHOLD: '50',
    LOCKOUT_IP_THRESHOLD: '1000',
  });
});
afterAll(async () => {
  for (const app of apps) await app.close();
});
const app = (i: number) => apps[i % apps.length]!;
const t = () => app(0);

const NEW_FORMAT = /^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/;
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const post = (i: number, url: string, payload: object, token?: string) =>
  app(i).request({ method: 'POST', url, payload, ...(token ? { token } : {}) });
const login = (user: TestUser) => post(0, '/api/auth/login/', { email: user.email, password: user.password });
const verifyCode = (i: number, email: string, code: string) =>
  post(i, '/api/auth/2fa/verify-code/', { email, code });

async function candidateWith2fa(): Promise<{ user: TestUser; codes: string[] }> {
  const user = await registerCandidate(t());
  const setup = await post(0, '/api/auth/2fa/setup/', {}, user.access);
  const secret = setup.json<{ secret: string }>().secret;
  const verified = await post(
    0,
    '/api/auth/2fa/verify-setup/',
    { totp_code: currentTotp(secret, t().c.now()) },
    user.access,
  );
  expect(verified.statusCode).toBe(200);
  return { user, codes: verified.json<{ backup_codes: string[] }>().backup_codes };
}

const storedHashes = async (userId: number) =>
  (
    await t()
      .c.db.select({ hash: twoFactorBackupCodes.codeHash })
      .from(twoFactorBackupCodes)
      .where(eq(twoFactorBackupCodes.userId, userId))
  ).map((r) => r.hash);

describe('backup codes', () => {
  it('are 12 characters of A–Z0–9 (62 bits), shown XXXX-XXXX-XXXX, unique', async () => {
    const { user, codes } = await candidateWith2fa();
    expect(codes).toHaveLength(10);
    for (const code of codes) expect(code).toMatch(NEW_FORMAT);
    expect(12 * Math.log2(36)).toBeGreaterThanOrEqual(50);
    const regenerated = await post(
      0,
      '/api/auth/2fa/backup-codes/',
      { password: user.password },
      user.access,
    );
    expect(regenerated.statusCode).toBe(200);
    const again = regenerated.json<{ backup_codes: string[] }>().backup_codes;
    for (const code of again) expect(code).toMatch(NEW_FORMAT);
    expect(new Set([...codes, ...again]).size).toBe(20);
  });

  it('are stored under a keyed hash: no row holds a plain SHA-256 of a code, in any spelling', async () => {
    const { user, codes } = await candidateWith2fa();
    const stored = await storedHashes(user.id);
    expect(stored).toHaveLength(10);
    const spellings = codes.flatMap((c) => [c, c.replaceAll('-', ''), c.toLowerCase()]);
    for (const s of spellings) {
      expect(stored).not.toContain(sha256(s));
      expect(stored.join()).not.toContain(s);
    }
  });

  it('accept a code once, in any case, with spaces or without hyphens', async () => {
    const { user, codes } = await candidateWith2fa();
    const [a, b, c] = codes as [string, string, string];
    for (const spelling of [a.replaceAll('-', '').toLowerCase(), ` ${b.replaceAll('-', ' ')} `, c]) {
      expect((await login(user)).json()).toMatchObject({ requires_2fa: true });
      expect((await verifyCode(0, user.email, spelling)).statusCode, spelling).toBe(200);
    }
    expect((await login(user)).json()).toMatchObject({ requires_2fa: true });
    const again = await verifyCode(0, user.email, a);
    expect(again.statusCode).toBe(401);
    expect(again.json()).toMatchObject({ code: 'invalid_2fa_code' });
  });

  it('of the earlier format (8 characters, plain SHA-256) still work, once', async () => {
    const { user } = await candidateWith2fa();
    await t()
      .c.db.insert(twoFactorBackupCodes)
      .values({ userId: user.id, codeHash: sha256('K7Q2-M9XA') });
    expect((await login(user)).json()).toMatchObject({ requires_2fa: true });
    expect((await verifyCode(0, user.email, 'k7q2m9xa')).statusCode).toBe(200);
    expect((await login(user)).json()).toMatchObject({ requires_2fa: true });
    expect((await verifyCode(0, user.email, 'K7Q2-M9XA')).statusCode).toBe(401);
    const [row] = await t()
      .c.db.select()
      .from(twoFactorBackupCodes)
      .where(
        and(eq(twoFactorBackupCodes.userId, user.id), eq(twoFactorBackupCodes.codeHash, sha256('K7Q2-M9XA'))),
      );
    expect(row?.used).toBe(true);
  });

  it('one code used twice at once signs in once', async () => {
    const { user, codes } = await candidateWith2fa();
    expect((await login(user)).json()).toMatchObject({ requires_2fa: true });
    const results = await Promise.all([0, 1, 2, 3].map((i) => verifyCode(i, user.email, codes[0]!)));
    expect(results.filter((r) => r.statusCode === 200)).toHaveLength(1);
    for (const res of results.filter((r) => r.statusCode !== 200)) {
      expect(res.statusCode).toBe(401);
    }
    const signIns = await t()
      .c.db.select()
      .from(auditLog)
      .where(and(eq(auditLog.subjectUserId, user.id), eq(auditLog.action, '2fa_success')));
    expect(signIns).toHaveLength(1);
  });

  it('verify-code validates the code with messages that name both formats', async () => {
    const cases: [string, string][] = [
      ['12345', 'Ensure this field has at least 6 characters.'],
      ['ABCD-EFGH-IJKL-M', 'Ensure this field has no more than 14 characters.'],
      ['1234567', 'Code must be either a 6-digit TOTP code or a backup code (XXXX-XXXX-XXXX)'],
      ['ABCD-EFGH-IJK', 'Code must be either a 6-digit TOTP code or a backup code (XXXX-XXXX-XXXX)'],
    ];
    for (const [code, message] of cases) {
      const res = await verifyCode(0, 'a@capaciti.org.za', code);
      expect(res.statusCode, code).toBe(400);
      expect(res.json().errors).toEqual({ code: [message] });
    }
    // Well-formed codes of both formats pass validation (and meet no pending login here).
    for (const code of ['ABCD-EFGH-IJKL', 'abcd efgh ijkl', 'ABCDEFGHIJKL', 'ABCD-EFGH', 'abcdefgh']) {
      expect((await verifyCode(0, 'a@capaciti.org.za', code)).json(), code).toMatchObject({
        code: '2fa_session_expired',
      });
    }
  });
});

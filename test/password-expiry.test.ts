import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, sessions, users } from '../src/db/schema.js';
import {
  createTestApp,
  createUserWithSession,
  registerCandidate,
  STRONG_PASSWORD,
  type TestApp,
} from './helpers/app.js';

/** PASSWORD_MAX_AGE_DAYS (docs/auth.md#password-expiry): staff passwords expire; candidates' do not. */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ PASSWORD_MAX_AGE_DAYS: '90' });
});
afterAll(async () => {
  await t.close();
});

const DAY = 86_400_000;
const login = (email: string, password: string) =>
  t.request({ method: 'POST', url: '/api/auth/login/', payload: { email, password } });
const setPasswordAge = (userId: number, days: number) =>
  t.c.db
    .update(users)
    .set({ passwordLastChanged: new Date(t.clock.now().getTime() - days * DAY) })
    .where(eq(users.id, userId));
const sessionCount = async (userId: number) =>
  (await t.c.db.select().from(sessions).where(eq(sessions.userId, userId))).length;

describe('staff password expiry', () => {
  it('refuses sign-in with a clear code once a staff password is older than the limit, until it is reset', async () => {
    const admin = await createUserWithSession(t, 'admin');
    const before = await sessionCount(admin.id);

    // Within the limit: the usual next step for an admin without 2FA.
    await setPasswordAge(admin.id, 89);
    expect((await login(admin.email, STRONG_PASSWORD)).json()).toMatchObject({ code: '2fa_setup_required' });

    await setPasswordAge(admin.id, 91);
    const refused = await login(admin.email, STRONG_PASSWORD);
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({
      code: 'password_expired',
      password_reset_required: true,
      password_max_age_days: 90,
    });
    expect(refused.json<{ detail: string }>().detail).toMatch(/more than 90 days old/);
    expect(refused.json()).not.toHaveProperty('access');
    expect(refused.json()).not.toHaveProperty('setup_token');
    expect(await sessionCount(admin.id)).toBe(before);
    const audited = await t.c.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.subjectUserId, admin.id), eq(auditLog.reason, 'password_expired')));
    expect(audited).toHaveLength(1);
    expect(audited[0]).toMatchObject({ action: 'login_failed', outcome: 'denied' });

    // A wrong password learns nothing about expiry.
    const wrong = await login(admin.email, 'Wrong#Password-2026');
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ code: 'invalid_credentials' });

    // The reset link sets a new password, and with it a new age.
    await t.request({
      method: 'POST',
      url: '/api/auth/password-reset/request/',
      payload: { email: admin.email },
    });
    await t.c.jobs.idle();
    const mail = t.c.mailer.sent.find((m) => m.to === admin.email && m.template === 'password_reset');
    const token = /reset-password\?token=([A-Za-z0-9_-]{43})/.exec(mail?.text ?? '')?.[1];
    expect(token).toBeDefined();
    const fresh = 'Fresh#Garden-2026-Kite';
    const reset = await t.request({
      method: 'POST',
      url: '/api/auth/password-reset/confirm/',
      payload: { token, new_password: fresh },
    });
    expect(reset.statusCode).toBe(200);
    expect((await login(admin.email, fresh)).json()).toMatchObject({ code: '2fa_setup_required' });
  });

  it('applies to superusers too, and never to candidates', async () => {
    const superuser = await createUserWithSession(t, 'superuser');
    await setPasswordAge(superuser.id, 400);
    expect((await login(superuser.email, STRONG_PASSWORD)).json()).toMatchObject({
      code: 'password_expired',
    });

    const candidate = await registerCandidate(t);
    await setPasswordAge(candidate.id, 400);
    const res = await login(candidate.email, candidate.password);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toHaveProperty('access');
  });
});

describe('without PASSWORD_MAX_AGE_DAYS', () => {
  it('staff passwords do not expire', async () => {
    const other = await createTestApp();
    try {
      const admin = await createUserWithSession(other, 'admin');
      await other.c.db
        .update(users)
        .set({ passwordLastChanged: new Date(Date.now() - 4000 * DAY) })
        .where(eq(users.id, admin.id));
      const res = await other.request({
        method: 'POST',
        url: '/api/auth/login/',
        payload: { email: admin.email, password: STRONG_PASSWORD },
      });
      expect(res.json()).toMatchObject({ code: '2fa_setup_required' });
    } finally {
      await other.close();
    }
  });
});

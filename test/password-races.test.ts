import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, passwordHistory } from '../src/db/schema.js';
import { registerCandidate, createTestCluster, type TestApp } from './helpers/app.js';

/**
 * Concurrent password changes and resets (spec auth.md §6; issue 9 item 2): the change is a
 * compare-and-swap on the hash that was verified, a reset token is used once. Real parallel
 * requests through the app; on PostgreSQL they run on separate connections of two instances.
 */
const onPostgres = Boolean(process.env.TEST_DATABASE_URL);
let apps: TestApp[];
beforeAll(async () => {
  apps = await createTestCluster(onPostgres ? 2 : 1, { FRONTEND_URL: 'https://pss.example.org' });
});
afterAll(async () => {
  for (const app of apps) await app.close();
});
const app = (i: number) => apps[i % apps.length]!;
const post = (i: number, url: string, payload: object, token?: string) =>
  app(i).request({ method: 'POST', url, payload, ...(token ? { token } : {}) });
const newPassword = (i: number) => `Fresh#Garden-2026-Kite-${i}`;

async function historyRows(userId: number): Promise<number> {
  return (await app(0).c.db.select().from(passwordHistory).where(eq(passwordHistory.userId, userId))).length;
}
async function auditRows(userId: number, action: string): Promise<number> {
  const rows = await app(0)
    .c.db.select()
    .from(auditLog)
    .where(and(eq(auditLog.subjectUserId, userId), eq(auditLog.action, action)));
  return rows.length;
}

describe('concurrent password changes', () => {
  it('with the same old password: one succeeds, the others answer "Old password is incorrect"', async () => {
    const user = await registerCandidate(app(0));
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        post(
          i,
          '/api/auth/password-change/',
          { old_password: user.password, new_password: newPassword(i) },
          user.access,
        ),
      ),
    );
    const winners = results.flatMap((r, i) => (r.statusCode === 200 ? [i] : []));
    expect(winners).toHaveLength(1);
    for (const res of results.filter((r) => r.statusCode !== 200)) {
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({
        detail: 'Password change validation failed',
        errors: { old_password: ['Old password is incorrect'] },
      });
    }
    // History holds the old hash once; one change audited; the winner's password is the one in force.
    expect(await historyRows(user.id)).toBe(1);
    expect(await auditRows(user.id, 'password_changed')).toBe(1);
    const winner = winners[0]!;
    const login = (password: string) =>
      post(0, '/api/auth/login/', { email: user.email, password }).then((r) => r.statusCode);
    expect(await login(newPassword(winner))).toBe(200);
    expect(await login(user.password)).toBe(401);
    expect(await login(newPassword((winner + 1) % 6))).toBe(401);
  });
});

describe('concurrent password reset confirmations', () => {
  it('one token, two confirmations at once: one 200, the other "Invalid or expired token"', async () => {
    const user = await registerCandidate(app(0));
    expect((await post(0, '/api/auth/password-reset/request/', { email: user.email })).statusCode).toBe(200);
    await app(0).c.jobs.idle();
    const mail = app(0).c.mailer.sent.find((m) => m.template === 'password_reset' && m.to === user.email);
    const token = /token=([A-Za-z0-9_-]{43})/.exec(mail?.text ?? '')?.[1];
    expect(token).toBeDefined();
    const results = await Promise.all(
      [0, 1, 2].map((i) =>
        post(i, '/api/auth/password-reset/confirm/', { token, new_password: newPassword(10 + i) }),
      ),
    );
    const winners = results.flatMap((r, i) => (r.statusCode === 200 ? [i] : []));
    expect(winners).toHaveLength(1);
    for (const res of results.filter((r) => r.statusCode !== 200)) {
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ detail: 'Invalid or expired token' });
    }
    expect(await historyRows(user.id)).toBe(1);
    expect(await auditRows(user.id, 'password_reset_completed')).toBe(1);
    const signIn = await post(0, '/api/auth/login/', {
      email: user.email,
      password: newPassword(10 + winners[0]!),
    });
    expect(signIn.statusCode).toBe(200);
  });
});

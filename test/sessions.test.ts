import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, createUserWithSession, registerCandidate, type TestApp } from './helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

const login = (
  email: string,
  password: string,
  ua = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0.0.0 Safari/537.36',
) =>
  t.request({
    method: 'POST',
    url: '/api/auth/login/',
    payload: { email, password },
    headers: { 'user-agent': ua },
  });
const me = (token: string) => t.request({ method: 'GET', url: '/api/auth/me/', token });

describe('own sessions', () => {
  it('lists own sessions newest activity first, with exactly one current, device details and the contract keys', async () => {
    const user = await registerCandidate(t);
    const second = (await login(user.email, user.password)).json();
    t.clock.advance(120);
    const res = await t.request({ method: 'GET', url: '/api/auth/sessions/', token: second.access });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body)).toEqual(['sessions', 'count']);
    expect(body.count).toBe(2);
    expect(Object.keys(body.sessions[0])).toEqual([
      'id',
      'session_key',
      'device_type',
      'browser',
      'os',
      'user_agent',
      'ip_address',
      'country',
      'city',
      'created_at',
      'last_activity',
      'expires_at',
      'is_active',
      'is_expired',
      'is_suspicious',
      'is_current',
      'time_since_activity',
    ]);
    const current = body.sessions.filter((s: { is_current: boolean }) => s.is_current);
    expect(current).toHaveLength(1);
    expect(current[0]).toMatchObject({
      device_type: 'pc',
      os: 'Windows 10',
      ip_address: '127.0.0.1',
      is_active: true,
    });
    expect(current[0].browser).toMatch(/^Chrome/);
    expect(current[0].session_key).toMatch(/^[0-9a-f]{64}$/);
    expect(body.sessions.map((s: { time_since_activity: string }) => s.time_since_activity)).toContain(
      '2 minutes ago',
    );
  });

  it('revokes one other session at once; refuses the current one and unknown or foreign keys', async () => {
    const user = await registerCandidate(t);
    const other = (await login(user.email, user.password)).json();
    const list = (await t.request({ method: 'GET', url: '/api/auth/sessions/', token: user.access })).json();
    const target = list.sessions.find((s: { is_current: boolean }) => !s.is_current);
    const current = list.sessions.find((s: { is_current: boolean }) => s.is_current);

    const self = await t.request({
      method: 'DELETE',
      url: `/api/auth/sessions/${current.session_key}/`,
      token: user.access,
    });
    expect(self.statusCode).toBe(400);
    expect(self.json().detail).toBe('Cannot delete current session. Use /auth/logout/ to logout.');

    const stranger = await registerCandidate(t);
    const foreign = await t.request({
      method: 'DELETE',
      url: `/api/auth/sessions/${target.session_key}/`,
      token: stranger.access,
    });
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().detail).toBe('Session not found');
    expect((await me(other.access)).statusCode).toBe(200);

    const res = await t.request({
      method: 'DELETE',
      url: `/api/auth/sessions/${target.session_key}/`,
      token: user.access,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      message: 'Session terminated successfully',
      device: 'pc',
      browser: target.browser,
    });
    expect((await me(other.access)).statusCode).toBe(401);
    const gone = await t.request({
      method: 'DELETE',
      url: `/api/auth/sessions/${target.session_key}/`,
      token: user.access,
    });
    expect(gone.statusCode).toBe(404);
    const junk = await t.request({
      method: 'DELETE',
      url: '/api/auth/sessions/not-a-key/',
      token: user.access,
    });
    expect(junk.json().detail).toBe('Session not found');
  });

  it('all-except-current keeps the caller; all ends every session', async () => {
    const user = await registerCandidate(t);
    const a = (await login(user.email, user.password)).json();
    const b = (await login(user.email, user.password)).json();
    const others = await t.request({
      method: 'DELETE',
      url: '/api/auth/sessions/all-except-current/',
      token: a.access,
    });
    expect(others.statusCode).toBe(200);
    expect(others.json()).toMatchObject({ message: 'Terminated 2 other session(s)', count: 2 });
    expect(others.json().terminated_devices).toHaveLength(2);
    expect((await me(a.access)).statusCode).toBe(200);
    expect((await me(b.access)).statusCode).toBe(401);
    expect((await me(user.access)).statusCode).toBe(401);

    const all = await t.request({ method: 'DELETE', url: '/api/auth/sessions/all/', token: a.access });
    expect(all.json()).toEqual({
      message: 'All sessions terminated successfully',
      count: 1,
      detail: 'You have been logged out from all devices.',
    });
    expect((await me(a.access)).statusCode).toBe(401);
  });

  it('flags a sign-in from a new address and device as suspicious and e-mails the user', async () => {
    const user = await registerCandidate(t);
    const res = await t.request({
      method: 'POST',
      url: '/api/auth/login/',
      payload: { email: user.email, password: user.password },
      headers: {
        'x-forwarded-for': '198.51.100.7',
        'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1',
      },
    });
    const list = (
      await t.request({ method: 'GET', url: '/api/auth/sessions/', token: res.json().access })
    ).json();
    const current = list.sessions.find((s: { is_current: boolean }) => s.is_current);
    expect(current).toMatchObject({ is_suspicious: true, device_type: 'mobile', ip_address: '198.51.100.7' });
    await t.c.jobs.idle();
    const mails = t.c.mailer.sent.filter((m) => m.to === user.email && m.template === 'new_signin');
    expect(mails).toHaveLength(1);
    expect(mails[0]!.text).toContain('198.51.100.7');
  });
});

describe('admin view', () => {
  it("lists everyone's sessions with filters and force-logs a user out with a reason", async () => {
    const admin = await createUserWithSession(t, 'admin');
    const user = await registerCandidate(t);
    const list = await t.request({
      method: 'GET',
      url: `/api/auth/admin/sessions/?user_email=${encodeURIComponent(user.email.slice(0, 12).toUpperCase())}&active_only=true`,
      token: admin.access,
    });
    expect(list.statusCode).toBe(200);
    const body = list.json();
    expect(body.filters).toEqual({
      user_email: user.email.slice(0, 12).toUpperCase(),
      active_only: true,
      suspicious_only: false,
    });
    expect(
      body.sessions.some(
        (s: { user_email: string; user_role: string }) =>
          s.user_email === user.email && s.user_role === 'candidate',
      ),
    ).toBe(true);

    const missing = await t.request({
      method: 'POST',
      url: '/api/auth/admin/force-logout/',
      token: admin.access,
      payload: { user_id: user.id },
    });
    expect(missing.json().detail).toBe('reason is required for audit compliance');
    expect(
      (
        await t.request({
          method: 'POST',
          url: '/api/auth/admin/force-logout/',
          token: admin.access,
          payload: {},
        })
      ).json().detail,
    ).toBe('user_id is required');
    const unknown = await t.request({
      method: 'POST',
      url: '/api/auth/admin/force-logout/',
      token: admin.access,
      payload: { user_id: 999999, reason: 'x' },
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().detail).toBe('User not found');

    const res = await t.request({
      method: 'POST',
      url: '/api/auth/admin/force-logout/',
      token: admin.access,
      payload: { user_id: user.id, reason: 'Lost phone reported' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      message: `Force logged out ${user.email}`,
      sessions_terminated: 1,
      target_user: user.email,
      reason: 'Lost phone reported',
    });
    expect((await me(user.access)).statusCode).toBe(401);
    const { auditLog } = await import('../src/db/schema.js');
    const { eq } = await import('drizzle-orm');
    const rows = await t.c.db.select().from(auditLog).where(eq(auditLog.action, 'force_logout'));
    expect(
      rows.some(
        (r) => r.subjectUserId === user.id && r.reason === 'Lost phone reported' && r.actorId === admin.id,
      ),
    ).toBe(true);
  });

  it('an admin cannot force-log-out a superuser; a superuser can', async () => {
    const admin = await createUserWithSession(t, 'admin');
    const boss = await createUserWithSession(t, 'superuser');
    const other = await createUserWithSession(t, 'superuser');
    const refused = await t.request({
      method: 'POST',
      url: '/api/auth/admin/force-logout/',
      token: admin.access,
      payload: { user_id: boss.id, reason: 'x' },
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().detail).toBe('Cannot force logout a superuser');
    const ok = await t.request({
      method: 'POST',
      url: '/api/auth/admin/force-logout/',
      token: other.access,
      payload: { user_id: boss.id, reason: 'rotation' },
    });
    expect(ok.statusCode).toBe(200);
    expect((await me(boss.access)).statusCode).toBe(401);
  });

  it('candidates cannot see the admin views', async () => {
    const user = await registerCandidate(t);
    expect(
      (await t.request({ method: 'GET', url: '/api/auth/admin/sessions/', token: user.access })).statusCode,
    ).toBe(403);
  });
});

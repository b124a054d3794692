import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestApp,
  registerCandidate,
  STRONG_PASSWORD,
  uniqueEmail,
  type TestApp,
} from './helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

const post = (url: string, payload: unknown, token?: string) =>
  t.request({ method: 'POST', url, payload: payload as object, ...(token ? { token } : {}) });

describe('register', () => {
  it('creates a candidate with an empty profile and a session, ignoring a requested role', async () => {
    const email = uniqueEmail('Reg');
    const res = await post('/api/auth/register/', {
      email: `  ${email.toUpperCase()} `,
      password: STRONG_PASSWORD,
      first_name: 'Thandi <b>',
      role: 'superuser',
    });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(Object.keys(body)).toEqual(['user', 'access', 'refresh']);
    expect(body.user.email).toBe(email.toLowerCase());
    expect(body.user.role).toBe('candidate');
    expect(body.user.first_name).toBe('Thandi &lt;b&gt;');
    expect(body.user.last_name).toBe('');
    expect(body.user.has_completed_intake).toBe(false);
    expect(Object.values(body.user.profile).filter((v) => v === null)).toHaveLength(16);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('answers the first failing check with the original messages', async () => {
    const cases: [Record<string, unknown>, string, Record<string, string[]>][] = [
      [
        { email: uniqueEmail() },
        'Email and password are required',
        { email: [], password: ['This field is required.'] },
      ],
      [
        { email: 'no-at-sign', password: STRONG_PASSWORD },
        'Invalid email',
        { email: ['Invalid email format'] },
      ],
      [
        { email: 'a@b@c', password: STRONG_PASSWORD },
        'Invalid email',
        { email: ['Enter a valid email address.'] },
      ],
      [
        { email: 'x@example.com', password: STRONG_PASSWORD },
        'Invalid email',
        { email: ['Email domain must be one of: capaciti.org.za'] },
      ],
      [
        { email: uniqueEmail(), password: 'short' },
        'Invalid password',
        { password: ['Password must be at least 8 characters (got 5)'] },
      ],
      [
        { email: uniqueEmail(), password: 'x'.repeat(129) },
        'Invalid password',
        { password: ['Password exceeds maximum length of 128 characters (got 129)'] },
      ],
      [
        { email: uniqueEmail(), password: STRONG_PASSWORD, first_name: 'n'.repeat(151) },
        'Invalid name',
        { name: ['Text exceeds maximum length of 150 characters (got 151)'] },
      ],
    ];
    for (const [payload, detail, errors] of cases) {
      const res = await post('/api/auth/register/', payload);
      expect(res.statusCode, JSON.stringify(payload).slice(0, 80)).toBe(400);
      const body = res.json();
      expect(body.detail).toBe(detail);
      expect(body.error).toBe(detail);
      expect(body.code).toBe('validation_error');
      expect(body.errors).toEqual(errors);
      expect(body.error_id).toMatch(/^[0-9a-f]{8}$/);
    }
  });

  it('returns every policy message for a weak password', async () => {
    const res = await post('/api/auth/register/', { email: uniqueEmail(), password: 'password1234' });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.password).toContain('This password is too common.');
    expect(res.json().errors.password).toContain('Password must contain at least one uppercase letter.');
  });

  it('refuses an e-mail already in use, whatever its case', async () => {
    const user = await registerCandidate(t);
    const res = await post('/api/auth/register/', {
      email: user.email.toUpperCase(),
      password: STRONG_PASSWORD,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      detail: 'User already exists',
      errors: { email: ['Email already in use'] },
    });
  });
});

describe('login', () => {
  it('answers an unknown e-mail exactly like a wrong password', async () => {
    const user = await registerCandidate(t);
    const wrong = await post('/api/auth/login/', { email: user.email, password: 'Wrong#Passw0rd-xyz' });
    const unknown = await post('/api/auth/login/', {
      email: uniqueEmail('ghost'),
      password: 'Wrong#Passw0rd-xyz',
    });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    const strip = (b: Record<string, unknown>) => ({ ...b, error_id: undefined });
    expect(strip(wrong.json())).toEqual(strip(unknown.json()));
    expect(wrong.json()).toMatchObject({ detail: 'Invalid email or password', code: 'invalid_credentials' });
  });

  it('validates input before checking credentials', async () => {
    const missing = await post('/api/auth/login/', { email: uniqueEmail() });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().errors).toEqual({ email: [], password: ['This field is required.'] });
    expect(missing.json().error).toBeUndefined();
    const domain = await post('/api/auth/login/', { email: 'a@example.com', password: 'whatever-123' });
    expect(domain.json().errors.email).toEqual(['Email domain must be one of: capaciti.org.za']);
  });

  it('refuses a deactivated user with the same answer as a wrong password', async () => {
    const user = await registerCandidate(t);
    await t.c.db.execute(`update users set is_active = false where id = ${user.id}` as never);
    const res = await post('/api/auth/login/', { email: user.email, password: user.password });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('invalid_credentials');
  });

  it('sends admins without 2FA to set-up with a setup token that opens nothing else', async () => {
    const { createUserWithSession } = await import('./helpers/app.js');
    const admin = await createUserWithSession(t, 'admin');
    const res = await post('/api/auth/login/', { email: admin.email, password: admin.password });
    expect(res.statusCode).toBe(403);
    const body = res.json();
    expect(body).toMatchObject({
      requires_2fa_setup: true,
      setup_url: '/auth/2fa/setup/',
      code: '2fa_setup_required',
    });
    expect(typeof body.setup_token).toBe('string');
    expect(body.access).toBeUndefined();
    const me = await t.request({ method: 'GET', url: '/api/auth/me/', token: body.setup_token });
    expect(me.statusCode).toBe(401);
  });
});

describe('session lifecycle', () => {
  it('register → login → me → refresh → logout, after which old tokens are refused', async () => {
    const user = await registerCandidate(t);
    const login = await post('/api/auth/login/', { email: user.email, password: user.password });
    expect(login.statusCode).toBe(200);
    expect(Object.keys(login.json())).toEqual(['access', 'refresh', 'user']);
    const { access, refresh } = login.json();

    const me = await t.request({ method: 'GET', url: '/api/auth/me/', token: access });
    expect(me.statusCode).toBe(200);
    expect(me.json().id).toBe(user.id);

    const rotated = await post('/api/auth/token/refresh/', { refresh });
    expect(rotated.statusCode).toBe(200);
    expect(Object.keys(rotated.json())).toEqual(['access', 'refresh']);
    const next = rotated.json();
    expect(next.refresh).not.toBe(refresh);

    const logout = await post('/api/auth/logout/', {}, next.access);
    expect(logout.statusCode).toBe(200);
    expect(logout.json()).toEqual({ detail: 'Successfully logged out' });

    for (const token of [access, next.access]) {
      const res = await t.request({ method: 'GET', url: '/api/auth/me/', token });
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe('authentication_failed');
      expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
    }
    const again = await post('/api/auth/token/refresh/', { refresh: next.refresh });
    expect(again.statusCode).toBe(401);
    expect(again.json()).toMatchObject({ code: 'token_not_valid', detail: 'Token is invalid or expired' });
    const repeat = await post('/api/auth/logout/', {}, next.access);
    expect(repeat.statusCode).toBe(401);
  });

  it('a reused refresh token (after the grace period) ends the whole session', async () => {
    const user = await registerCandidate(t);
    const first = await post('/api/auth/refresh/', { refresh: user.refresh });
    expect(first.statusCode).toBe(200);
    const within = await post('/api/auth/refresh/', { refresh: user.refresh });
    expect(within.statusCode).toBe(401);
    // Inside the grace period the session survives: the new pair still works.
    expect(
      (await t.request({ method: 'GET', url: '/api/auth/me/', token: first.json().access })).statusCode,
    ).toBe(200);

    t.clock.advance(11);
    const reuse = await post('/api/auth/refresh/', { refresh: user.refresh });
    expect(reuse.statusCode).toBe(401);
    expect(
      (await t.request({ method: 'GET', url: '/api/auth/me/', token: first.json().access })).statusCode,
    ).toBe(401);
    expect((await post('/api/auth/refresh/', { refresh: first.json().refresh })).statusCode).toBe(401);
  });

  it("logout with another user's refresh token is refused and ends nothing", async () => {
    const a = await registerCandidate(t);
    const b = await registerCandidate(t);
    const res = await post('/api/auth/logout/', { refresh: b.refresh }, a.access);
    expect(res.statusCode).toBe(400);
    expect(res.json().detail).toBe('Invalid token');
    expect((await t.request({ method: 'GET', url: '/api/auth/me/', token: a.access })).statusCode).toBe(200);
    expect((await post('/api/auth/refresh/', { refresh: b.refresh })).statusCode).toBe(200);
  });

  it('logout with an own refresh token ends that session too', async () => {
    const user = await registerCandidate(t);
    const login = await post('/api/auth/login/', { email: user.email, password: user.password });
    const res = await post('/api/auth/logout/', { refresh: user.refresh }, login.json().access);
    expect(res.statusCode).toBe(200);
    expect((await t.request({ method: 'GET', url: '/api/auth/me/', token: user.access })).statusCode).toBe(
      401,
    );
  });

  it('refuses tampered, expired and wrong-type tokens', async () => {
    const user = await registerCandidate(t);
    const [h, p] = user.access.split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${p}.`;
    for (const token of [none, `${h}.${p}.AAAA`, user.refresh, 'not-a-jwt']) {
      const res = await t.request({ method: 'GET', url: '/api/auth/me/', token });
      expect(res.statusCode).toBe(401);
    }
    t.clock.advance(901);
    expect((await t.request({ method: 'GET', url: '/api/auth/me/', token: user.access })).statusCode).toBe(
      401,
    );
  });

  it('upgrades an imported Django pbkdf2 hash to argon2id at login', async () => {
    const { pbkdf2Sync } = await import('node:crypto');
    const user = await registerCandidate(t);
    const salt = 'importedsalt';
    const digest = pbkdf2Sync(user.password, salt, 1000, 32, 'sha256').toString('base64');
    await t.c.db.execute(
      `update users set password = 'pbkdf2_sha256$1000$${salt}$${digest}' where id = ${user.id}` as never,
    );
    const res = await post('/api/auth/login/', { email: user.email, password: user.password });
    expect(res.statusCode).toBe(200);
    const row = await t.c.db.execute(`select password from users where id = ${user.id}` as never);
    expect((row as { rows: { password: string }[] }).rows[0]!.password).toMatch(/^\$argon2id\$/);
  });
});

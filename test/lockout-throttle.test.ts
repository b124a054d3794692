import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLimiterFactory } from '../src/lib/limiter.js';
import { createLockout } from '../src/modules/auth/index.js';
import { currentTotp } from '../src/modules/auth/two-factor/totp.js';
import {
  createTestApp,
  createUserWithSession,
  openSession,
  uniqueEmail,
  type TestApp,
} from './helpers/app.js';
import { testConfig } from './helpers/env.js';

/**
 * Lock-out (spec auth.md §9) and throttles (§8). The client address comes from X-Forwarded-For:
 * inject's peer is 127.0.0.1, which the default TRUSTED_PROXIES (loopback) trusts. Counters are
 * shared by the whole file, so every test uses its own addresses and users.
 */
const ADMIN_EMAIL = 'security.desk@capaciti.org.za';
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({
    RATE_LIMIT_LOGIN: '5/15min',
    RATE_LIMIT_2FA_VERIFY: '5/15min',
    RATE_LIMIT_SENSITIVE_USER: '5/15min',
    RATE_LIMIT_ANON: '5/minute',
    RATE_LIMIT_USER: '5/minute',
    RATE_LIMIT_REGISTER: '3/hour',
    LOCKOUT_THRESHOLD: '5',
    LOCKOUT_IP_THRESHOLD: '5',
    LOCKOUT_WINDOW: '900',
    LOCKOUT_DURATION: '900',
    CAPTCHA_ENABLED: 'false',
    ADMIN_NOTIFICATION_EMAIL: ADMIN_EMAIL,
  });
});
afterAll(async () => {
  await t.close();
});

let ipSeq = 0;
/** A new client address (TEST-NET range 198.18.0.0/15). */
const nextIp = () => {
  ipSeq += 1;
  return `198.18.${Math.floor(ipSeq / 250)}.${(ipSeq % 250) + 1}`;
};

const WRONG = 'Wrong#Passw0rd-xyz';
const LOCKED = { detail: 'Too many failed login attempts. Please try again later.', code: 'locked_out' };

const post = (url: string, payload: object, ip: string, token?: string) =>
  t.request({
    method: 'POST',
    url,
    payload,
    headers: { 'x-forwarded-for': ip },
    ...(token ? { token } : {}),
  });
const get = (url: string, ip: string, token?: string) =>
  t.request({ method: 'GET', url, headers: { 'x-forwarded-for': ip }, ...(token ? { token } : {}) });
const login = (email: string, password: string, ip = nextIp()) =>
  post('/api/auth/login/', { email, password }, ip);

async function failLogins(email: string, times: number, ip?: string): Promise<void> {
  for (let i = 0; i < times; i += 1) {
    const res = await login(email, WRONG, ip ?? nextIp());
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('invalid_credentials');
  }
}

function expectLocked(res: Awaited<ReturnType<typeof login>>): void {
  expect(res.statusCode).toBe(429);
  expect(res.json()).toMatchObject(LOCKED);
  expect(Object.keys(res.json())).toEqual(['detail', 'code', 'error_id']);
  const wait = Number(res.headers['retry-after']);
  expect(wait).toBeGreaterThan(880);
  expect(wait).toBeLessThanOrEqual(900);
}

async function lockoutAlerts(): Promise<number> {
  await t.c.jobs.idle();
  return t.c.mailer.sent.filter((m) => m.template === 'lockout_alert' && m.to === ADMIN_EMAIL).length;
}

describe('account lock-out', () => {
  it('locks an account after 5 wrong passwords from any addresses, even for the right password', async () => {
    const user = await createUserWithSession(t, 'candidate');
    const alertsBefore = await lockoutAlerts();
    await failLogins(user.email, 5);
    const locked = await login(user.email, user.password);
    expectLocked(locked);
    // Different case and another address: still the same account.
    expectLocked(await login(user.email.toUpperCase(), user.password));
    expect(await lockoutAlerts()).toBe(alertsBefore + 1);
    // The 2FA step is refused as well.
    expectLocked(await post('/api/auth/2fa/verify-code/', { email: user.email, code: '123456' }, nextIp()));
    // Other accounts are not affected.
    const other = await createUserWithSession(t, 'candidate');
    expect((await login(other.email, other.password)).statusCode).toBe(200);
  });

  it('answers identically for an unknown e-mail', async () => {
    const email = uniqueEmail('ghost');
    await failLogins(email, 5);
    const res = await login(email, 'Any#Password-123');
    expectLocked(res);
  });

  it('a successful login resets the account counter', async () => {
    const user = await createUserWithSession(t, 'candidate');
    await failLogins(user.email, 4);
    expect((await login(user.email, user.password)).statusCode).toBe(200);
    await failLogins(user.email, 4);
    const res = await login(user.email, user.password);
    expect(res.statusCode).toBe(200);
    expect(Object.keys(res.json())).toEqual(['access', 'refresh', 'user']);
  });

  it('wrong 2FA codes count toward the lock', async () => {
    const user = await createUserWithSession(t, 'candidate');
    const setup = await post('/api/auth/2fa/setup/', {}, nextIp(), user.access);
    const { secret } = setup.json<{ secret: string }>();
    const code = currentTotp(secret, t.clock.now());
    expect(
      (await post('/api/auth/2fa/verify-setup/', { totp_code: code }, nextIp(), user.access)).statusCode,
    ).toBe(200);
    expect((await login(user.email, user.password)).json().requires_2fa).toBe(true);
    // The enrolment code is used up, so it is a wrong code now.
    for (let i = 0; i < 5; i += 1) {
      const res = await post('/api/auth/2fa/verify-code/', { email: user.email, code }, nextIp());
      expect(res.json().code).toBe('invalid_2fa_code');
    }
    expectLocked(await login(user.email, user.password));
  });
});

describe('lock-out thresholds', () => {
  it('with a threshold of 1 the first failure locks for LOCKOUT_DURATION and alerts', async () => {
    const config = testConfig({
      LOCKOUT_THRESHOLD: '1',
      LOCKOUT_IP_THRESHOLD: '1',
      LOCKOUT_DURATION: '1800',
    });
    const locks: string[] = [];
    const lockout = createLockout(config, createLimiterFactory({}), {
      onLocked: (kind) => locks.push(kind),
    });
    await lockout.assertNotLocked('one@capaciti.org.za', '192.0.2.1');
    await lockout.recordFailure('one@capaciti.org.za', '192.0.2.1');
    expect(locks).toEqual(['account', 'address']);
    const err = await lockout.assertNotLocked('ONE@capaciti.org.za', '192.0.2.99').catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 429, code: 'locked_out' });
    const wait = Number((err as { headers: Record<string, string> }).headers['retry-after']);
    expect(wait).toBeGreaterThan(1790);
    await expect(lockout.assertNotLocked('two@capaciti.org.za', '192.0.2.1')).rejects.toMatchObject({
      code: 'locked_out',
    });
  });
});

describe('address lock-out', () => {
  it('locks an address after 5 failures for different e-mails, and alerts once', async () => {
    const ip = nextIp();
    const alertsBefore = await lockoutAlerts();
    for (let i = 0; i < 5; i += 1) await failLogins(uniqueEmail('spray'), 1, ip);
    expect(await lockoutAlerts()).toBe(alertsBefore + 1);
    const alert = t.c.mailer.sent.filter((m) => m.template === 'lockout_alert').at(-1);
    expect(alert?.text).toContain(ip);

    // Login from that address is throttled first (limits are checked before lock-out); the 2FA
    // step, with its own limit, shows the address lock.
    const user = await createUserWithSession(t, 'candidate');
    const throttled = await login(user.email, user.password, ip);
    expect(throttled.statusCode).toBe(429);
    expect(throttled.json().code).toBe('throttled');
    expectLocked(await post('/api/auth/2fa/verify-code/', { email: user.email, code: '123456' }, ip));
    // The account itself is fine from elsewhere.
    expect((await login(user.email, user.password)).statusCode).toBe(200);
    expect(await lockoutAlerts()).toBe(alertsBefore + 1);
  });

  it('without CAPTCHA_ENABLED, repeated failures never ask for a CAPTCHA', async () => {
    const user = await createUserWithSession(t, 'candidate');
    const ip = nextIp();
    await failLogins(user.email, 4, ip);
    const res = await login(user.email, user.password, ip);
    expect(res.statusCode).toBe(200);
  });
});

describe('throttles', () => {
  const THROTTLED = /^Request was throttled\. Expected available in (\d+) seconds\.$/;

  function expectThrottled(res: Awaited<ReturnType<typeof login>>, min: number, max: number): void {
    expect(res.statusCode).toBe(429);
    const body = res.json<{ detail: string; code: string }>();
    expect(body.code).toBe('throttled');
    const m = THROTTLED.exec(body.detail);
    expect(m, body.detail).not.toBeNull();
    const n = Number(m?.[1]);
    expect(res.headers['retry-after']).toBe(String(n));
    expect(n).toBeGreaterThanOrEqual(min);
    expect(n).toBeLessThanOrEqual(max);
  }

  it('login: the 6th attempt from one address within 15 minutes is refused for ~900 s', async () => {
    const user = await createUserWithSession(t, 'candidate');
    const ip = nextIp();
    for (let i = 0; i < 5; i += 1) expect((await login(user.email, user.password, ip)).statusCode).toBe(200);
    expectThrottled(await login(user.email, user.password, ip), 890, 900);
    // Another address is not affected.
    expect((await login(user.email, user.password)).statusCode).toBe(200);
  });

  it('register: the 4th registration from one address within an hour is refused', async () => {
    const ip = nextIp();
    const register = () =>
      post('/api/auth/register/', { email: uniqueEmail('reg'), password: 'Tq9!Vb7#Lm4$Xz2k' }, ip);
    for (let i = 0; i < 3; i += 1) expect((await register()).statusCode).toBe(201);
    expectThrottled(await register(), 3590, 3600);
  });

  it('2fa/verify-code has its own per-address limit', async () => {
    const ip = nextIp();
    for (let i = 0; i < 5; i += 1) {
      const res = await post('/api/auth/2fa/verify-code/', { email: uniqueEmail('v'), code: '123456' }, ip);
      expect(res.statusCode).toBe(401);
    }
    expectThrottled(
      await post('/api/auth/2fa/verify-code/', { email: uniqueEmail('v'), code: '123456' }, ip),
      890,
      900,
    );
  });

  it('anon: other anonymous requests are limited per address', async (ctx) => {
    const url = '/api/auth/password-reset/validate-token/';
    if (!t.app.routeGates.some((g) => g.url === url)) ctx.skip();
    const ip = nextIp();
    for (let i = 0; i < 5; i += 1) expect((await post(url, { token: 'x' }, ip)).statusCode).toBe(400);
    expectThrottled(await post(url, { token: 'x' }, ip), 55, 60);
    expect((await post(url, { token: 'x' }, nextIp())).statusCode).toBe(400);
  });

  it('user: authenticated requests are limited per user, whatever the session or address', async () => {
    const user = await createUserWithSession(t, 'candidate');
    for (let i = 0; i < 5; i += 1)
      expect((await get('/api/auth/me/', nextIp(), user.access)).statusCode).toBe(200);
    expectThrottled(await get('/api/auth/me/', nextIp(), user.access), 55, 60);
    const second = await openSession(t, user.id);
    expectThrottled(await get('/api/auth/me/', nextIp(), second.access), 55, 60);
    const other = await createUserWithSession(t, 'candidate');
    expect((await get('/api/auth/me/', nextIp(), other.access)).statusCode).toBe(200);
  });

  it('sensitive_user: 2FA set-up and the other sensitive endpoints share a per-user limit', async () => {
    const user = await createUserWithSession(t, 'candidate');
    for (let i = 0; i < 5; i += 1) {
      expect((await post('/api/auth/2fa/setup/', {}, nextIp(), user.access)).statusCode).toBe(200);
    }
    expectThrottled(await post('/api/auth/2fa/setup/', {}, nextIp(), user.access), 890, 900);
    expectThrottled(
      await post('/api/auth/2fa/backup-codes/', { password: user.password }, nextIp(), user.access),
      890,
      900,
    );
    // Its own counter: ordinary calls still pass.
    expect((await get('/api/auth/2fa/status/', nextIp(), user.access)).statusCode).toBe(200);
    const other = await createUserWithSession(t, 'candidate');
    expect((await post('/api/auth/2fa/setup/', {}, nextIp(), other.access)).statusCode).toBe(200);
  });

  it('health routes are never limited', async () => {
    const ip = nextIp();
    for (let i = 0; i < 15; i += 1) {
      for (const url of ['/health/', '/api/', '/api/v1/', '/']) {
        expect((await get(url, ip)).statusCode, url).toBe(200);
      }
    }
  });
});

describe('security events', () => {
  it('failed logins and the lock they cause are in the audit log, without the password', async () => {
    const email = uniqueEmail('audited');
    for (let i = 0; i < 5; i += 1) await post('/api/auth/login/', { email, password: WRONG }, nextIp());
    const { auditLog } = await import('../src/db/schema.js');
    const { inArray } = await import('drizzle-orm');
    const rows = await t.c.db
      .select()
      .from(auditLog)
      .where(inArray(auditLog.action, ['login_failed', 'login_locked']));
    const locked = rows.filter((r) => r.action === 'login_locked');
    expect(rows.filter((r) => r.action === 'login_failed').length).toBeGreaterThanOrEqual(5);
    expect(locked.some((r) => JSON.stringify(r.metadata).includes('account'))).toBe(true);
    expect(JSON.stringify(rows)).not.toContain(WRONG);
  });
});

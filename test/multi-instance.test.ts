import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentTotp } from '../src/modules/auth/two-factor/totp.js';
import { createTestCluster, registerCandidate, type TestApp } from './helpers/app.js';

/**
 * Two instances of the service on one database and one Redis, as behind a load balancer: state
 * the original kept per worker must hold whichever instance answers (spec README §6).
 * Needs a Redis: TEST_REDIS_URL (CI sets it); skipped without one.
 */
const redisUrl = process.env.TEST_REDIS_URL;

describe.skipIf(!redisUrl)('two instances, one database, one Redis', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    [a, b] = (await createTestCluster(2, {
      REDIS_URL: redisUrl,
      RATE_LIMIT_LOGIN: '4/15min',
      LOCKOUT_IP_THRESHOLD: '5',
    })) as [TestApp, TestApp];
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  const login = (t: TestApp, email: string, password: string, ip: string) =>
    t.request({
      method: 'POST',
      url: '/api/auth/login/',
      payload: { email, password },
      headers: { 'x-forwarded-for': ip },
    });
  const me = (t: TestApp, token: string) => t.request({ method: 'GET', url: '/api/auth/me/', token });

  it('a session revoked on one instance is refused by the other on its very next request', async () => {
    const user = await registerCandidate(a);
    expect((await me(b, user.access)).statusCode).toBe(200); // B has it cached as live now
    const logout = await a.request({
      method: 'POST',
      url: '/api/auth/logout/',
      token: user.access,
      payload: {},
    });
    expect(logout.statusCode).toBe(200);
    expect((await me(b, user.access)).statusCode).toBe(401);
    expect((await me(a, user.access)).statusCode).toBe(401);
  });

  it('failures counted on both instances lock the account on both', async () => {
    const user = await registerCandidate(a);
    for (let i = 0; i < 5; i += 1) {
      const res = await login(i % 2 ? a : b, user.email, 'Wrong#Password-123', `203.0.113.${10 + i}`);
      expect(res.statusCode).toBe(401);
    }
    for (const t of [a, b]) {
      const res = await login(t, user.email, user.password, '203.0.113.99');
      expect(res.statusCode).toBe(429);
      expect(res.json().code).toBe('locked_out');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    }
  });

  it('a throttle counts requests on both instances together', async () => {
    const ip = '198.51.100.77';
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      statuses.push(
        (await login(i % 2 ? a : b, `nobody${i}@capaciti.org.za`, 'Wrong#Password-123', ip)).statusCode,
      );
    }
    expect(statuses.slice(0, 4)).toEqual([401, 401, 401, 401]);
    expect(statuses[4]).toBe(429);
  });

  it('2FA: setup on one instance, verify on the other; the pending login step and used codes are shared', async () => {
    const user = await registerCandidate(a);
    const setup = await a.request({ method: 'POST', url: '/api/auth/2fa/setup/', token: user.access });
    const secret = setup.json().secret as string;
    const verify = await b.request({
      method: 'POST',
      url: '/api/auth/2fa/verify-setup/',
      token: user.access,
      payload: { totp_code: currentTotp(secret, a.c.now()) },
    });
    expect(verify.statusCode).toBe(200);

    a.clock.advance(30);
    const step1 = await login(a, user.email, user.password, '192.0.2.50');
    expect(step1.json()).toMatchObject({ requires_2fa: true });
    const code = currentTotp(secret, a.c.now());
    const step2 = await b.request({
      method: 'POST',
      url: '/api/auth/2fa/verify-code/',
      payload: { email: user.email, code },
      headers: { 'x-forwarded-for': '192.0.2.50' },
    });
    expect(step2.statusCode).toBe(200);
    expect(step2.json().access).toBeDefined();

    // The same code again, through the other instance, in a fresh login: refused (used once).
    await login(b, user.email, user.password, '192.0.2.51');
    const replay = await a.request({
      method: 'POST',
      url: '/api/auth/2fa/verify-code/',
      payload: { email: user.email, code },
      headers: { 'x-forwarded-for': '192.0.2.51' },
    });
    expect(replay.statusCode).toBe(401);
    expect(replay.json().code).toBe('invalid_2fa_code');
  });
});

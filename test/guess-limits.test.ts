import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../src/db/schema.js';
import { currentTotp } from '../src/modules/auth/two-factor/totp.js';
import {
  createTestCluster,
  registerCandidate,
  uniqueEmail,
  type TestApp,
  type TestUser,
} from './helpers/app.js';

/**
 * Guess limits under bursts (spec auth.md §9; issue 9 item 1): however many attempts arrive at
 * once, at most LOCKOUT_THRESHOLD (account) / LOCKOUT_IP_THRESHOLD (address) reach a password or
 * code check, and at most 5 codes per pending 2FA step. Real parallel requests through the app, on
 * every limiter store: memory (PGlite), the `rate_limits` table (TEST_DATABASE_URL, no Redis) and
 * Redis (TEST_REDIS_URL). With a shared store the burst is spread over two instances.
 */
const redisUrl = process.env.TEST_REDIS_URL;
const onPostgres = Boolean(process.env.TEST_DATABASE_URL);
// Without Redis the pending 2FA step lives in each instance's memory: codes go to the instance
// that took the password step (`on`), while the limiter counts in PostgreSQL across both.
const VARIANTS = [
  {
    store: onPostgres ? 'PostgreSQL' : 'memory',
    env: {},
    size: onPostgres ? 2 : 1,
    on: (_i: number) => 0,
    skip: false,
  },
  { store: 'Redis', env: { REDIS_URL: redisUrl }, size: 2, on: (i: number) => i, skip: !redisUrl },
];

const ADMIN_EMAIL = 'security.desk@capaciti.org.za';
const WRONG = 'Wrong#Passw0rd-xyz';
const LOCKED = { detail: 'Too many failed login attempts. Please try again later.', code: 'locked_out' };
const EXPIRED = {
  detail: '2FA session expired. Please login again with your email and password.',
  code: '2fa_session_expired',
};

let ipSeq = 0;
/** A new client address (TEST-NET-3), trusted through X-Forwarded-For from the loopback peer. */
const nextIp = () => {
  ipSeq += 1;
  return `203.0.${113 + Math.floor(ipSeq / 250)}.${(ipSeq % 250) + 1}`;
};

/** The app instances of one cluster, with a counter of password checks (argon2 verifications). */
function cluster(env: Record<string, string | undefined>, size: number) {
  const state = { apps: [] as TestApp[], checks: 0 };
  beforeAll(async () => {
    state.apps = await createTestCluster(size, {
      LOCKOUT_WINDOW: '900',
      LOCKOUT_DURATION: '900',
      ADMIN_NOTIFICATION_EMAIL: ADMIN_EMAIL,
      ...env,
    });
    for (const app of state.apps) {
      const hasher = app.c.hasher;
      const verify = hasher.verify.bind(hasher);
      hasher.verify = async (...args) => {
        state.checks += 1;
        return verify(...args);
      };
    }
  });
  afterAll(async () => {
    for (const app of state.apps) await app.close();
  });
  const app = (i: number) => state.apps[i % state.apps.length]!;
  const post = (i: number, url: string, payload: object, ip: string) =>
    app(i).request({ method: 'POST', url, payload, headers: { 'x-forwarded-for': ip } });
  return {
    state,
    app,
    login: (i: number, email: string, password: string, ip = nextIp()) =>
      post(i, '/api/auth/login/', { email, password }, ip),
    verifyCode: (i: number, email: string, code: string, ip = nextIp()) =>
      post(i, '/api/auth/2fa/verify-code/', { email, code }, ip),
    /** Password checks made while `run` ran. */
    async checksDuring<T>(run: () => Promise<T>): Promise<{ result: T; checks: number }> {
      const before = state.checks;
      const result = await run();
      return { result, checks: state.checks - before };
    },
    async alerts(): Promise<number> {
      let n = 0;
      for (const a of state.apps) {
        await a.c.jobs.idle();
        n += a.c.mailer.sent.filter((m) => m.template === 'lockout_alert' && m.to === ADMIN_EMAIL).length;
      }
      return n;
    },
    async auditCount(action: string, subjectUserId: number): Promise<number> {
      const rows = await app(0)
        .c.db.select({ id: auditLog.id })
        .from(auditLog)
        .where(and(eq(auditLog.action, action), eq(auditLog.subjectUserId, subjectUserId)));
      return rows.length;
    },
  };
}

function expectLocked(res: { statusCode: number; json(): unknown; headers: Record<string, unknown> }) {
  expect(res.statusCode).toBe(429);
  expect(res.json()).toMatchObject(LOCKED);
  expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(900);
}

const statuses = (responses: { statusCode: number }[]) => responses.map((r) => r.statusCode);
const count = (list: number[], status: number) => list.filter((s) => s === status).length;

for (const variant of VARIANTS) {
  describe.skipIf(variant.skip)(`password guesses under bursts (${variant.store} limiter)`, () => {
    const c = cluster({ ...variant.env, LOCKOUT_THRESHOLD: '5', LOCKOUT_IP_THRESHOLD: '5' }, variant.size);

    it('20 concurrent wrong passwords for one account: 5 reach the check, the rest are locked out', async () => {
      const user = await registerCandidate(c.app(0));
      const alertsBefore = await c.alerts();
      const { result, checks } = await c.checksDuring(() =>
        Promise.all(Array.from({ length: 20 }, (_, i) => c.login(i, user.email, WRONG))),
      );
      expect(checks).toBe(5);
      const codes = statuses(result);
      expect(count(codes, 401)).toBe(5);
      expect(count(codes, 429)).toBe(15);
      for (const res of result.filter((r) => r.statusCode === 429)) expectLocked(res);
      expect(await c.auditCount('login_failed', user.id)).toBe(5);
      expect(await c.auditCount('login_locked', user.id)).toBe(1);
      expect(await c.alerts()).toBe(alertsBefore + 1);
      // Locked: the right password is refused from anywhere.
      expectLocked(await c.login(1, user.email, user.password));
    });

    it('30 concurrent attempts with the right password last: nothing past the limit signs in', async () => {
      const user = await registerCandidate(c.app(0));
      const { result, checks } = await c.checksDuring(() =>
        Promise.all(
          Array.from({ length: 30 }, (_, i) => c.login(i, user.email, i === 29 ? user.password : WRONG)),
        ),
      );
      expect(checks).toBeLessThanOrEqual(5);
      expect(count(statuses(result), 200)).toBe(0);
      expectLocked(result[29]!);
      expectLocked(await c.login(0, user.email, user.password));
    });

    it('20 concurrent wrong passwords for different e-mails from one address: 5 reach the check', async () => {
      const ip = nextIp();
      const alertsBefore = await c.alerts();
      const { result, checks } = await c.checksDuring(() =>
        Promise.all(Array.from({ length: 20 }, (_, i) => c.login(i, uniqueEmail('spray'), WRONG, ip))),
      );
      expect(checks).toBe(5);
      const codes = statuses(result);
      expect(count(codes, 401)).toBe(5);
      expect(count(codes, 429)).toBe(15);
      for (const res of result.filter((r) => r.statusCode === 429)) expectLocked(res);
      expect(await c.alerts()).toBe(alertsBefore + 1);
      // The address stays locked, for a right password too.
      const user = await registerCandidate(c.app(0));
      expectLocked(await c.login(1, user.email, user.password, ip));
    });

    it('a double-submitted right password signs in and locks nothing, even after 4 failures', async () => {
      const user = await registerCandidate(c.app(0));
      const ip = nextIp();
      const twice = await Promise.all([0, 1].map((i) => c.login(i, user.email, user.password, ip)));
      expect(statuses(twice)).toEqual([200, 200]);
      for (let i = 0; i < 4; i += 1) expect((await c.login(i, user.email, WRONG)).statusCode).toBe(401);
      const again = await Promise.all([0, 1].map((i) => c.login(i, user.email, user.password, ip)));
      expect(count(statuses(again), 200)).toBeGreaterThanOrEqual(1);
      for (const res of again.filter((r) => r.statusCode !== 200)) expectLocked(res);
      // Neither the account nor the address is locked afterwards, and no lock was reported.
      expect((await c.login(0, user.email, user.password, ip)).statusCode).toBe(200);
      expect(await c.auditCount('login_locked', user.id)).toBe(0);
      // The success reset the account counter: 4 more failures still do not lock it.
      for (let i = 0; i < 4; i += 1) expect((await c.login(i, user.email, WRONG)).statusCode).toBe(401);
      expect((await c.login(1, user.email, user.password, ip)).statusCode).toBe(200);
    });

    it('24 concurrent wrong 2FA codes count against the account: no more checks than failures left', async () => {
      const { user, secret } = await candidateWith2fa(c.app(0));
      for (let i = 0; i < 3; i += 1) expect((await c.login(i, user.email, WRONG)).statusCode).toBe(401);
      expect((await c.login(0, user.email, user.password)).json()).toMatchObject({ requires_2fa: true });
      const wrong = wrongTotp(secret, c.app(0));
      const result = await Promise.all(
        Array.from({ length: 24 }, (_, i) => c.verifyCode(variant.on(i), user.email, wrong)),
      );
      expect(await c.auditCount('2fa_failed', user.id)).toBe(2);
      const codes = statuses(result);
      expect(count(codes, 401)).toBe(2);
      expect(count(codes, 429)).toBe(22);
      for (const res of result.filter((r) => r.statusCode === 429)) expectLocked(res);
      expectLocked(await c.login(0, user.email, user.password));
    });
  });

  describe.skipIf(variant.skip)(`2FA codes under bursts (${variant.store} store)`, () => {
    // Lock-out thresholds out of the way: the pending step's own limit of 5 codes shows alone.
    const c = cluster(
      { ...variant.env, LOCKOUT_THRESHOLD: '100', LOCKOUT_IP_THRESHOLD: '1000' },
      variant.size,
    );

    it('24 concurrent codes after one password step, the right one last: 5 are checked, none signs in', async () => {
      const { user, secret } = await candidateWith2fa(c.app(0));
      expect((await c.login(0, user.email, user.password)).json()).toMatchObject({ requires_2fa: true });
      const wrong = wrongTotp(secret, c.app(0));
      const right = currentTotp(secret, c.app(0).c.now());
      const result = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          c.verifyCode(variant.on(i), user.email, i === 23 ? right : wrong),
        ),
      );
      expect(await c.auditCount('2fa_failed', user.id)).toBe(5);
      const bodies = result.map((r) => r.json<{ code: string }>().code);
      expect(bodies.filter((b) => b === 'invalid_2fa_code')).toHaveLength(5);
      expect(bodies.filter((b) => b === '2fa_session_expired')).toHaveLength(19);
      expect(result[23]!.json()).toMatchObject(EXPIRED);
      // The step is gone; a new password step opens a new one.
      expect((await c.verifyCode(0, user.email, right)).json()).toMatchObject(EXPIRED);
      expect((await c.login(variant.on(1), user.email, user.password)).json()).toMatchObject({
        requires_2fa: true,
      });
      expect((await c.verifyCode(variant.on(1), user.email, right)).statusCode).toBe(200);
    });
  });
}

/** A candidate with 2FA enrolled through the API; the clock moved past the enrolment step. */
async function candidateWith2fa(t: TestApp): Promise<{ user: TestUser; secret: string }> {
  const user = await registerCandidate(t);
  const setup = await t.request({ method: 'POST', url: '/api/auth/2fa/setup/', token: user.access });
  const secret = setup.json<{ secret: string }>().secret;
  const verified = await t.request({
    method: 'POST',
    url: '/api/auth/2fa/verify-setup/',
    token: user.access,
    payload: { totp_code: currentTotp(secret, t.c.now()) },
  });
  expect(verified.statusCode).toBe(200);
  t.clock.advance(30);
  return { user, secret };
}

/** A 6-digit code no step the verifier accepts now (±1 step) produces. */
function wrongTotp(secret: string, t: TestApp): string {
  const at = t.c.now().getTime();
  const near = new Set([-30, 0, 30].map((s) => currentTotp(secret, new Date(at + s * 1000))));
  for (let n = 0; ; n += 1) {
    const code = String(n).padStart(6, '0');
    if (!near.has(code)) return code;
  }
}

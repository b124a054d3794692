import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSY_MESSAGE } from '../src/lib/password/gate.js';
import {
  createTestApp,
  createUserWithSession,
  STRONG_PASSWORD,
  uniqueEmail,
  type TestApp,
} from './helpers/app.js';

/**
 * The password-hashing gate (docs/operations.md#password-hashing) with one hash at a time and two
 * waiting: a login storm is answered 503 + Retry-After beyond that, reads go on, and a refused attempt
 * costs nothing in the lock-out (docs/auth.md#lock-out).
 */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({
    PASSWORD_HASH_CONCURRENCY: '1',
    PASSWORD_HASH_QUEUE: '2',
    PASSWORD_HASH_MAX_WAIT_MS: '10000',
    LOCKOUT_THRESHOLD: '3',
  });
});
afterAll(async () => {
  await t.close();
});

const WRONG = 'Wrong#Passw0rd-1';
const login = (email: string, password: string) =>
  t.request({ method: 'POST', url: '/api/auth/login/', payload: { email, password } });

/** Takes the gate's one slot and fills its queue with work that ends when the test says so. */
function saturate() {
  let end!: () => void;
  const done = new Promise<void>((resolve) => {
    end = resolve;
  });
  const work = [t.c.hashGate.run(() => done), t.c.hashGate.run(() => done), t.c.hashGate.run(() => done)];
  expect(t.c.hashGate.state()).toEqual({ running: 1, waiting: 2 });
  return async () => {
    end();
    await Promise.all(work);
  };
}

function expectBusy(res: { statusCode: number; headers: Record<string, unknown>; json: () => unknown }) {
  expect(res.statusCode).toBe(503);
  expect(res.json()).toMatchObject({ code: 'service_unavailable', detail: BUSY_MESSAGE });
  expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
}

describe('a login storm against the gate (one hash at a time, two waiting)', () => {
  it('some logins of a burst are refused with 503 and Retry-After, all the others sign in', async () => {
    const users = [];
    for (let i = 0; i < 12; i += 1) users.push(await createUserWithSession(t, 'candidate'));
    const replies = await Promise.all(users.map((u) => login(u.email, STRONG_PASSWORD)));
    const refused = replies.filter((r) => r.statusCode === 503);
    const signedIn = replies.filter((r) => r.statusCode === 200);
    expect(refused.length).toBeGreaterThan(0);
    // The one running and the two waiting always get through.
    expect(signedIn.length).toBeGreaterThanOrEqual(3);
    expect(refused.length + signedIn.length).toBe(users.length);
    for (const res of refused) expectBusy(res);
    for (const res of signedIn) expect(res.json()).toHaveProperty('access');
    // Counted for the operator, by reason and as a sign-in outcome.
    const metrics = (await t.request({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain(`password_hash_refusals_total{reason="queue_full"} ${refused.length}`);
    expect(metrics).toContain(`auth_logins_total{outcome="unavailable"} ${refused.length}`);
    expect(metrics).toContain('password_hashes{state="waiting"} 0');
  });

  it('`me` is answered while every hash slot and queue place is taken', async () => {
    const user = await createUserWithSession(t, 'candidate');
    const release = saturate();
    try {
      const me = await t.request({ method: 'GET', url: '/api/auth/me/', token: user.access });
      expect(me.statusCode).toBe(200);
      expect(me.json()).toMatchObject({ id: user.id, email: user.email });
      // Still saturated: the read waited for no hash.
      expect(t.c.hashGate.state()).toEqual({ running: 1, waiting: 2 });
      expectBusy(await login(user.email, STRONG_PASSWORD));
    } finally {
      await release();
    }
  });

  it('unknown e-mails are refused alike: the dummy hash goes through the gate too', async () => {
    const known = await createUserWithSession(t, 'candidate');
    const release = saturate();
    try {
      const unknown = await login(uniqueEmail('nobody'), STRONG_PASSWORD);
      const wrong = await login(known.email, WRONG);
      expectBusy(unknown);
      expectBusy(wrong);
      const { error_id: _a, ...a } = unknown.json<Record<string, unknown>>();
      const { error_id: _b, ...b } = wrong.json<Record<string, unknown>>();
      expect(a).toEqual(b);
    } finally {
      await release();
    }
  });
});

describe('refusals and the lock-out (LOCKOUT_THRESHOLD 3)', () => {
  it('refused attempts are given back: after ten refusals the account has all its attempts', async () => {
    const user = await createUserWithSession(t, 'candidate');
    const release = saturate();
    try {
      for (let i = 0; i < 5; i += 1) expectBusy(await login(user.email, STRONG_PASSWORD));
      for (let i = 0; i < 5; i += 1) expectBusy(await login(user.email, WRONG));
    } finally {
      await release();
    }
    // Had the refusals counted, the account would be locked (429) now.
    expect((await login(user.email, WRONG)).statusCode).toBe(401);
    expect((await login(user.email, WRONG)).statusCode).toBe(401);
    const third = await login(user.email, STRONG_PASSWORD);
    expect(third.statusCode).toBe(200);
  });
});

describe('registration and password change through the gate', () => {
  it('a refused registration creates nothing: the same e-mail registers once the gate is free', async () => {
    const email = uniqueEmail('reg');
    const body = { email, password: STRONG_PASSWORD, first_name: 'Gate' };
    const release = saturate();
    try {
      expectBusy(await t.request({ method: 'POST', url: '/api/auth/register/', payload: body }));
    } finally {
      await release();
    }
    expect((await t.request({ method: 'POST', url: '/api/auth/register/', payload: body })).statusCode).toBe(
      201,
    );
  });

  it('a refused password change changes nothing', async () => {
    const user = await createUserWithSession(t, 'candidate');
    const release = saturate();
    try {
      const res = await t.request({
        method: 'POST',
        url: '/api/auth/password-change/',
        token: user.access,
        payload: { old_password: STRONG_PASSWORD, new_password: 'Nw8!Rq3#Zt6$Yp1m' },
      });
      expectBusy(res);
    } finally {
      await release();
    }
    expect((await login(user.email, STRONG_PASSWORD)).statusCode).toBe(200);
  });
});

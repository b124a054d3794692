import type { LightMyRequestResponse } from 'fastify';
import { and, desc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, sessions, users } from '../src/db/schema.js';
import type { KeyValueStore } from '../src/lib/kv.js';
import {
  createTestCluster,
  createUserWithSession,
  openSession,
  registerCandidate,
  type TestApp,
  type TestUser,
} from './helpers/app.js';

/**
 * Errors after commit (issue 9, items 6 and 3): a request that ends sessions either commits and
 * answers success with the sessions refused everywhere, or fails and changes nothing. Runs on the
 * in-process store, and on Redis when TEST_REDIS_URL is set (then also across two instances).
 */
const redisUrl = process.env.TEST_REDIS_URL;

let t: TestApp;
/** A second instance on the same database and Redis; without Redis (one instance only) `t` itself. */
let other: TestApp;
let su: TestUser;
let admin: TestUser;
beforeAll(async () => {
  const cluster = await createTestCluster(redisUrl ? 2 : 1, redisUrl ? { REDIS_URL: redisUrl } : {});
  t = cluster[0]!;
  other = cluster[1] ?? t;
  su = await createUserWithSession(t, 'superuser');
  admin = await createUserWithSession(t, 'admin');
});
afterAll(async () => {
  await t.close();
  if (other !== t) await other.close();
});

/**
 * Makes every write to this instance's shared store fail until the returned function is called:
 * the store is our own seam (Redis or memory underneath), replaced on the container's object.
 */
function failStoreWrites(app: TestApp): () => void {
  const kv = app.c.kv as { -readonly [K in keyof KeyValueStore]: KeyValueStore[K] };
  const saved = { set: kv.set, setIfAbsent: kv.setIfAbsent, del: kv.del };
  const refuse = async (): Promise<never> => {
    throw new Error('shared store refused the write (test)');
  };
  kv.set = refuse;
  kv.setIfAbsent = refuse;
  kv.del = refuse;
  return () => Object.assign(kv, saved);
}

const me = (app: TestApp, token: string) => app.request({ method: 'GET', url: '/api/auth/me/', token });
const post = (app: TestApp, url: string, payload: object, token?: string) =>
  app.request({ method: 'POST', url, payload, ...(token ? { token } : {}) });

const liveSessions = async (userId: number) =>
  (await t.c.db.select().from(sessions).where(eq(sessions.userId, userId))).filter(
    (s) => s.terminatedAt === null,
  ).length;

const expectUnavailable = (res: LightMyRequestResponse) => {
  expect(res.statusCode).toBe(503);
  expect(res.json().code).toBe('service_unavailable');
  expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
};

/** Runs `act` while the shared store refuses writes (the tokens used are warmed in the cache first). */
async function withStoreDown<T>(warm: string[], act: () => Promise<T>): Promise<T> {
  for (const token of warm) expect((await me(t, token)).statusCode).toBe(200);
  const restore = failStoreWrites(t);
  try {
    return await act();
  } finally {
    restore();
  }
}

describe('a revocation whose shared-store write fails changes nothing and answers 503', () => {
  it('logout', async () => {
    const user = await registerCandidate(t);
    const res = await withStoreDown([user.access], () => post(t, '/api/auth/logout/', {}, user.access));
    expectUnavailable(res);
    expect(await liveSessions(user.id)).toBe(1);
    expect((await me(t, user.access)).statusCode).toBe(200);
    // The normal path still revokes, on every instance at once.
    expect((await me(other, user.access)).statusCode).toBe(200);
    expect((await post(t, '/api/auth/logout/', {}, user.access)).statusCode).toBe(200);
    expect((await me(other, user.access)).statusCode).toBe(401);
    expect((await me(t, user.access)).statusCode).toBe(401);
  });

  it('force logout', async () => {
    const user = await registerCandidate(t);
    const payload = { user_id: user.id, reason: 'lost phone' };
    const res = await withStoreDown([admin.access, user.access], () =>
      post(t, '/api/auth/admin/force-logout/', payload, admin.access),
    );
    expectUnavailable(res);
    expect(await liveSessions(user.id)).toBe(1);
    const audited = await t.c.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'force_logout'), eq(auditLog.subjectUserId, user.id)));
    expect(audited).toHaveLength(0);
    expect((await me(other, user.access)).statusCode).toBe(200);
    expect((await post(t, '/api/auth/admin/force-logout/', payload, admin.access)).statusCode).toBe(200);
    expect((await me(other, user.access)).statusCode).toBe(401);
  });

  it('password change', async () => {
    const user = await registerCandidate(t);
    const second = await openSession(t, user.id);
    const [before] = await t.c.db.select().from(users).where(eq(users.id, user.id));
    const payload = { old_password: user.password, new_password: 'Nw7#Kp2$Rt9!Zq4m' };
    const res = await withStoreDown([user.access, second.access], () =>
      post(t, '/api/auth/password-change/', payload, user.access),
    );
    expectUnavailable(res);
    const [after] = await t.c.db.select().from(users).where(eq(users.id, user.id));
    expect(after!.password).toBe(before!.password);
    expect(await liveSessions(user.id)).toBe(2);
    expect((await me(other, second.access)).statusCode).toBe(200);
    expect((await post(t, '/api/auth/password-change/', payload, user.access)).statusCode).toBe(200);
    expect((await me(other, second.access)).statusCode).toBe(401);
    expect((await me(other, user.access)).statusCode).toBe(200);
  });

  it('deactivation', async () => {
    const user = await registerCandidate(t);
    const res = await withStoreDown([su.access, user.access], () =>
      t.request({ method: 'PATCH', url: `/api/users/${user.id}/deactivate/`, token: su.access }),
    );
    expectUnavailable(res);
    const [row] = await t.c.db.select().from(users).where(eq(users.id, user.id));
    expect(row!.isActive).toBe(true);
    expect(await liveSessions(user.id)).toBe(1);
    const ok = await t.request({
      method: 'PATCH',
      url: `/api/users/${user.id}/deactivate/`,
      token: su.access,
    });
    expect(ok.statusCode).toBe(200);
    expect((await me(other, user.access)).statusCode).toBe(401);
  });

  it('revoking other sessions', async () => {
    const user = await registerCandidate(t);
    const second = await openSession(t, user.id);
    const res = await withStoreDown([user.access, second.access], () =>
      t.request({ method: 'DELETE', url: '/api/auth/sessions/all-except-current/', token: user.access }),
    );
    expectUnavailable(res);
    expect(await liveSessions(user.id)).toBe(2);
    expect((await me(other, second.access)).statusCode).toBe(200);
  });
});

/** Makes audit inserts of one action fail in the real database (a trigger), as an unavailable store does. */
async function refuseAudit(app: TestApp, action: string, resourceType: string): Promise<() => Promise<void>> {
  await app.c.database
    .exec(`create or replace function test_refuse_audit() returns trigger language plpgsql as $$
    begin
      if new.action = '${action}' and new.resource_type = '${resourceType}' then
        -- 57P03 cannot_connect_now: the audit store is unavailable (a defect is a 500: error-logging.test.ts)
        raise exception 'audit refused (test)' using errcode = '57P03';
      end if;
      return new;
    end $$`);
  await app.c.database.exec(
    'create trigger test_refuse_audit before insert on audit_log for each row execute function test_refuse_audit()',
  );
  return async () => {
    await app.c.database.exec('drop trigger test_refuse_audit on audit_log');
    await app.c.database.exec('drop function test_refuse_audit()');
  };
}

describe('an audit failure after the change leaves no change', () => {
  it('users PATCH whose read audit cannot be written changes nothing', async () => {
    const cand = await registerCandidate(t, { first_name: 'Before' });
    const restore = await refuseAudit(t, 'read', 'user');
    try {
      const res = await t.request({
        method: 'PATCH',
        url: `/api/users/${cand.id}/`,
        payload: { first_name: 'After' },
        token: admin.access,
      });
      expect(res.statusCode).toBe(503);
    } finally {
      await restore();
    }
    const [row] = await t.c.db.select().from(users).where(eq(users.id, cand.id));
    expect(row!.firstName).toBe('Before');
    const updates = await t.c.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'update'), eq(auditLog.subjectUserId, cand.id)));
    expect(updates).toHaveLength(0);
  });

  it('a reused refresh token whose audit cannot be written ends nothing; once it can, the session ends everywhere', async () => {
    const user = await registerCandidate(t);
    const rotated = await post(t, '/api/auth/refresh/', { refresh: user.refresh });
    expect(rotated.statusCode).toBe(200);
    const fresh = rotated.json<{ access: string }>().access;
    expect((await me(other, fresh)).statusCode).toBe(200);
    t.clock.advance(60);
    const restore = await refuseAudit(t, 'token_reuse_detected', 'session');
    let res: LightMyRequestResponse;
    try {
      res = await post(t, '/api/auth/refresh/', { refresh: user.refresh });
    } finally {
      await restore();
    }
    expect(res.statusCode).toBe(503);
    expect(await liveSessions(user.id)).toBe(1);
    expect((await me(other, fresh)).statusCode).toBe(200);

    const reuse = await post(t, '/api/auth/refresh/', { refresh: user.refresh });
    expect(reuse.statusCode).toBe(401);
    expect(await liveSessions(user.id)).toBe(0);
    expect((await me(other, fresh)).statusCode).toBe(401);
    const [audit] = await t.c.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'token_reuse_detected'), eq(auditLog.subjectUserId, user.id)))
      .orderBy(desc(auditLog.id));
    expect(audit).toMatchObject({ outcome: 'denied' });
  });
});

describe('a role change ends every session of the user (promotion needs 2FA)', () => {
  it('a promoted candidate: old tokens refused on every instance, login asks for 2FA set-up; audited', async () => {
    const cand = await registerCandidate(t);
    const second = await openSession(t, cand.id);
    expect((await me(other, cand.access)).statusCode).toBe(200);
    const res = await t.request({
      method: 'PATCH',
      url: `/api/users/${cand.id}/`,
      payload: { role: 'admin' },
      token: su.access,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().role).toBe('admin');
    for (const app of [other, t]) {
      expect((await me(app, cand.access)).statusCode).toBe(401);
      const list = await app.request({ method: 'GET', url: '/api/users/', token: second.access });
      expect(list.statusCode).toBe(401);
    }
    expect((await post(other, '/api/auth/refresh/', { refresh: cand.refresh })).statusCode).toBe(401);
    const login = await post(other, '/api/auth/login/', { email: cand.email, password: cand.password });
    expect(login.statusCode).toBe(403);
    expect(login.json().code).toBe('2fa_setup_required');
    expect(typeof login.json().setup_token).toBe('string');

    const ended = await t.c.db.select().from(sessions).where(eq(sessions.userId, cand.id));
    expect(ended.map((s) => s.terminatedReason)).toEqual(['role_changed', 'role_changed']);
    const events = await t.c.db.select().from(auditLog).where(eq(auditLog.subjectUserId, cand.id));
    expect(events.find((e) => e.action === 'role_changed')).toMatchObject({
      actorId: su.id,
      changes: { role: ['candidate', 'admin'] },
      metadata: { sessions_terminated: 2 },
    });
    expect(events.find((e) => e.action === 'session_revoked')).toMatchObject({
      actorId: su.id,
      reason: 'role_changed',
      metadata: { count: 2 },
    });
  });
  it('superusers demoted in parallel: each change answers 200 (no deadlock), and each ends its sessions', async () => {
    const targets = await Promise.all([0, 1, 2].map(() => createUserWithSession(t, 'superuser')));
    const answers = await Promise.all(
      targets.map((u) =>
        t.request({
          method: 'PATCH',
          url: `/api/users/${u.id}/`,
          payload: { role: 'admin' },
          token: su.access,
        }),
      ),
    );
    expect(answers.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    for (const u of targets) expect((await me(other, u.access)).statusCode).toBe(401);
  });
});

describe('the session-state fill', () => {
  it('a fill that read the database before a revocation never stores its stale state, even if the entry was deleted meanwhile', async () => {
    const user = await registerCandidate(t);
    const kv = t.c.kv as { -readonly [K in keyof KeyValueStore]: KeyValueStore[K] };
    const saved = { setIfAbsent: kv.setIfAbsent, replace: kv.replace };
    let raced = false;
    // When the fill is about to store a LIVE state it read from the database, the session is
    // revoked, and the entry is then deleted (as a concurrent change whose commit failed does).
    const race = async (value: string) => {
      if (raced || !value.includes('"terminated":false')) return;
      raced = true;
      expect((await post(t, '/api/auth/logout/', {}, user.access)).statusCode).toBe(200);
      const keys = await t.c.db
        .select({ id: sessions.id })
        .from(sessions)
        .where(eq(sessions.userId, user.id));
      await kv.del(...keys.map((k) => `sess:${k.id}`));
    };
    kv.setIfAbsent = async (key, value, ttl) => {
      await race(value);
      return saved.setIfAbsent(key, value, ttl);
    };
    kv.replace = async (key, expected, value, ttl) => {
      await race(value);
      return saved.replace(key, expected, value, ttl);
    };
    try {
      expect((await me(t, user.access)).statusCode).toBe(200); // read before the revocation: allowed
    } finally {
      Object.assign(kv, saved);
    }
    expect(raced).toBe(true);
    expect((await me(t, user.access)).statusCode).toBe(401);
    expect((await me(other, user.access)).statusCode).toBe(401);
  });
});

describe('session changes racing token refreshes', () => {
  it('a role change, a deactivation or a password change beside refreshes of the same user never deadlocks', async () => {
    const statuses: number[] = [];
    for (let round = 0; round < 8; round += 1) {
      const cand = await registerCandidate(t);
      const extra = await Promise.all([0, 1, 2, 3].map(() => openSession(t, cand.id)));
      const change =
        round % 3 === 0
          ? other.request({
              method: 'PATCH',
              url: `/api/users/${cand.id}/`,
              payload: { role: 'admin' },
              token: su.access,
            })
          : round % 3 === 1
            ? other.request({
                method: 'PATCH',
                url: `/api/users/${cand.id}/deactivate/`,
                token: admin.access,
              })
            : post(
                other,
                '/api/auth/password-change/',
                { old_password: cand.password, new_password: 'Zx8!Qw6#Er4$Ty2u' },
                cand.access,
              );
      const results = await Promise.all([
        change,
        ...[cand, ...extra].map((s, i) =>
          post(i % 2 ? t : other, '/api/auth/token/refresh/', { refresh: s.refresh }),
        ),
      ]);
      statuses.push(...results.map((r) => r.statusCode));
    }
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
  });
});

import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminNotes, dataKeys } from '../src/db/schema.js';
import {
  createTestCluster,
  createUserWithSession,
  registerCandidate,
  type TestApp,
  type TestUser,
} from './helpers/app.js';

/**
 * Erasure is final (issue 9, item 5): once a person is erased, no write about them is accepted,
 * no data key is ever created for them again, no instance seals anything under their destroyed
 * key, and one unreadable row never fails a whole list.
 */
const redisUrl = process.env.TEST_REDIS_URL;

type Json = Record<string, unknown>;
const call = (
  app: TestApp,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH',
  url: string,
  token: string,
  payload?: Json,
) => app.request({ method, url, token, ...(payload ? { payload } : {}) });

const note = (candidate: number): Json => ({
  candidate,
  category: 'progress',
  title: 'Weekly check-in',
  content: 'Doing well.',
});

/** The candidate asks and a second admin approves; returns the request id, ready to execute. */
async function approvedRequest(app: TestApp, cand: TestUser, approver: TestUser): Promise<number> {
  const created = await call(app, 'POST', '/api/popia/deletion-requests/create/', cand.access, {});
  expect(created.statusCode).toBe(201);
  const id = created.json<{ id: number }>().id;
  const approve = { action: 'approve', notes: 'ok' };
  const reviewed = await call(
    app,
    'POST',
    `/api/popia/deletion-requests/${id}/review/`,
    approver.access,
    approve,
  );
  expect(reviewed.statusCode).toBe(200);
  return id;
}
const execute = (app: TestApp, id: number, admin: TestUser) =>
  call(app, 'POST', `/api/popia/deletion-requests/${id}/execute/`, admin.access, {});

/** Erased through the API: the candidate asks, a second admin approves, `admin` executes. */
async function erase(app: TestApp, cand: TestUser, admin: TestUser, approver: TestUser) {
  const id = await approvedRequest(app, cand, approver);
  expect((await execute(app, id, admin)).statusCode).toBe(200);
}

/**
 * Writes about a person fired in parallel with their erasure: each is answered 201/200 (it came
 * first, and the erasure deleted what it wrote) or 404; afterwards nothing about them is left.
 */
async function raceErasure(
  writer: TestApp,
  eraser: TestApp,
  cand: TestUser,
  admin: TestUser,
  approver: TestUser,
) {
  const id = await approvedRequest(eraser, cand, approver);
  const writes = Array.from({ length: 8 }, (_, i) =>
    i % 2
      ? call(writer, 'POST', '/api/admin-notes/', admin.access, note(cand.id))
      : call(writer, 'PATCH', `/api/users/${cand.id}/profile/`, admin.access, { phone_number: '0821234567' }),
  );
  const [erased, ...answers] = await Promise.all([execute(eraser, id, admin), ...writes]);
  expect(erased.statusCode).toBe(200);
  for (const res of answers) expect([200, 201, 404]).toContain(res.statusCode);
  expect(await keysOf(writer, cand.id)).toHaveLength(0);
  const notes = await writer.c.db.select().from(adminNotes).where(eq(adminNotes.candidateId, cand.id));
  expect(notes).toHaveLength(0);
  for (const app of [writer, eraser]) {
    expect((await call(app, 'GET', '/api/admin-notes/', admin.access)).statusCode).toBe(200);
  }
}

const keysOf = (app: TestApp, userId: number) =>
  app.c.db.select().from(dataKeys).where(eq(dataKeys.userId, userId));

/** Every write that names the erased person answers 404, on the instance given. */
async function expectNoWriteAccepted(
  app: TestApp,
  erased: TestUser,
  su: TestUser,
  admin: TestUser,
  other: TestUser,
) {
  const notFound = async (method: 'POST' | 'PUT' | 'PATCH', url: string, token: string, payload?: Json) => {
    const res = await call(app, method, url, token, payload);
    expect({ url, method, status: res.statusCode }).toEqual({ url, method, status: 404 });
  };
  await notFound('POST', '/api/admin-notes/', admin.access, note(erased.id));
  const moved = await call(app, 'POST', '/api/admin-notes/', admin.access, note(other.id));
  expect(moved.statusCode).toBe(201);
  await notFound('PATCH', `/api/admin-notes/${moved.json<{ id: number }>().id}/`, admin.access, {
    candidate: erased.id,
  });
  await notFound('PATCH', `/api/users/${erased.id}/`, su.access, { first_name: 'Back' });
  await notFound('PUT', `/api/users/${erased.id}/`, su.access, {
    email: 'back@capaciti.org.za',
    first_name: 'Back',
  });
  await notFound('PATCH', `/api/users/${erased.id}/`, su.access, { role: 'admin' });
  await notFound('PATCH', `/api/users/${erased.id}/activate/`, su.access);
  await notFound('PATCH', `/api/users/${erased.id}/deactivate/`, su.access);
  await notFound('PATCH', `/api/users/${erased.id}/profile/`, su.access, { phone_number: '0821234567' });
  await notFound('POST', '/api/auth/admin/force-logout/', su.access, { user_id: erased.id, reason: 'x' });
}

describe('one instance', () => {
  let t: TestApp;
  let su: TestUser;
  let admin: TestUser;
  let approver: TestUser;
  beforeAll(async () => {
    [t] = (await createTestCluster(1)) as [TestApp];
    su = await createUserWithSession(t, 'superuser');
    admin = await createUserWithSession(t, 'admin');
    approver = await createUserWithSession(t, 'admin');
  });
  afterAll(async () => {
    await t.close();
  });

  it('after an erasure no write about the person is accepted, and no data key is created for them', async () => {
    const cand = await registerCandidate(t);
    const other = await registerCandidate(t);
    expect((await call(t, 'POST', '/api/admin-notes/', admin.access, note(cand.id))).statusCode).toBe(201);
    expect((await call(t, 'GET', '/api/admin-notes/', admin.access)).statusCode).toBe(200); // key cached
    await erase(t, cand, admin, approver);

    await expectNoWriteAccepted(t, cand, su, admin, other);
    expect(await keysOf(t, cand.id)).toHaveLength(0);
    const list = await call(t, 'GET', '/api/admin-notes/', admin.access);
    expect(list.statusCode).toBe(200);
    expect(
      list.json<{ results: { candidate: number }[] }>().results.some((n) => n.candidate === cand.id),
    ).toBe(false);
  });

  it('writes fired in parallel with an erasure leave nothing about the person and no key', async () => {
    const cand = await registerCandidate(t);
    await raceErasure(t, t, cand, admin, approver);
  });

  it('one unreadable note never fails the list: it is shown with placeholders and logged without content', async () => {
    const cand = await registerCandidate(t);
    const broken = await call(t, 'POST', '/api/admin-notes/', admin.access, note(cand.id));
    const fine = await call(t, 'POST', '/api/admin-notes/', admin.access, {
      ...note(cand.id),
      title: 'Readable',
    });
    const brokenId = broken.json<{ id: number }>().id;
    // A ciphertext that no key opens (as a note sealed under a destroyed key is).
    const [row] = await t.c.db
      .select()
      .from(adminNotes)
      .where(eq(adminNotes.id, fine.json<{ id: number }>().id));
    await t.c.db
      .update(adminNotes)
      .set({ sealed: row!.sealed })
      .where(and(eq(adminNotes.id, brokenId)));
    const warnings: unknown[] = [];
    const warn = t.c.logger.warn.bind(t.c.logger);
    t.c.logger.warn = (obj: unknown) => {
      warnings.push(obj);
    };
    let list;
    try {
      list = await call(t, 'GET', `/api/admin-notes/?candidate=${cand.id}`, admin.access);
    } finally {
      t.c.logger.warn = warn;
    }
    expect(list.statusCode).toBe(200);
    const results = list.json<{ results: { id: number; title: string; content: string }[] }>().results;
    expect(results.find((n) => n.id === brokenId)).toMatchObject({
      title: '[unreadable]',
      content: '[unreadable]',
    });
    expect(results.find((n) => n.id === fine.json<{ id: number }>().id)).toMatchObject({
      title: 'Readable',
      content: 'Doing well.',
    });
    expect(JSON.stringify(warnings)).toContain(String(brokenId));
    expect(JSON.stringify(warnings)).not.toContain('Doing well');
    expect((await call(t, 'GET', '/api/admin-notes/', admin.access)).statusCode).toBe(200);
  });
});

describe.skipIf(!redisUrl)('two instances, one database, one Redis', () => {
  let a: TestApp;
  let b: TestApp;
  let su: TestUser;
  let admin: TestUser;
  let approver: TestUser;
  beforeAll(async () => {
    [a, b] = (await createTestCluster(2, { REDIS_URL: redisUrl })) as [TestApp, TestApp];
    su = await createUserWithSession(a, 'superuser');
    admin = await createUserWithSession(a, 'admin');
    approver = await createUserWithSession(a, 'admin');
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it("an erasure on A reaches B's key cache: B accepts no note, creates no key, and both lists answer", async () => {
    const cand = await registerCandidate(a);
    const other = await registerCandidate(a);
    expect((await call(b, 'POST', '/api/admin-notes/', admin.access, note(cand.id))).statusCode).toBe(201);
    expect((await call(b, 'GET', '/api/admin-notes/', admin.access)).statusCode).toBe(200); // B caches the key
    await erase(a, cand, admin, approver);

    // B's cached key was dropped before the erasure answered, through the shared store.
    expect(await b.c.dataKeys.find(b.c.db, cand.id)).toBeNull();
    await expectNoWriteAccepted(b, cand, su, admin, other);
    expect(await keysOf(a, cand.id)).toHaveLength(0);
    for (const app of [b, a]) {
      const list = await call(app, 'GET', '/api/admin-notes/', admin.access);
      expect(list.statusCode).toBe(200);
      expect(
        list.json<{ results: { candidate: number }[] }>().results.some((n) => n.candidate === cand.id),
      ).toBe(false);
    }
  });

  it('writes on B fired in parallel with an erasure on A leave nothing about the person and no key', async () => {
    const cand = await registerCandidate(a);
    expect((await call(b, 'POST', '/api/admin-notes/', admin.access, note(cand.id))).statusCode).toBe(201);
    expect((await call(b, 'GET', '/api/admin-notes/', admin.access)).statusCode).toBe(200);
    await raceErasure(b, a, cand, admin, approver);
  });
});

import { randomBytes } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { auditLog, journalEntries, userProfiles, users } from '../src/db/schema.js';
import { ensurePrivacyPolicy } from '../src/modules/privacy/policy/bootstrap.js';
import { createTestApp, openSession, registerCandidate, type TestApp, type TestUser } from './helpers/app.js';
import { buildWorld, FIXED_DATE, MISSING_ID, type Method, type World } from './helpers/authz-world.js';

/**
 * Denied access to sensitive objects is audited (spec privacy.md §6, `outcome: denied`): a caller
 * refused another person's EXISTING object gets the same 404 as for a missing id, and one `denied`
 * entry records who tried what on whose object. A missing id and the owner's own requests record none.
 */

let t: TestApp;
let w: World;
/** Objects of candidate A that only A may reach on the "own" routes. */
let profileId: number;
let consentId: number;
let exportId: number;
let deletionId: number;

async function ok(res: LightMyRequestResponse, what: string, status: number): Promise<number> {
  if (res.statusCode !== status) throw new Error(`fixture ${what}: ${res.statusCode} ${res.body}`);
  return res.json<{ id: number }>().id;
}

beforeAll(async () => {
  t = await createTestApp();
  await ensurePrivacyPolicy(t.c);
  w = await buildWorld(t);
  const [profile] = await t.c.db.select().from(userProfiles).where(eq(userProfiles.userId, w.A.id));
  if (!profile) throw new Error('fixture: A has no profile');
  profileId = profile.id;
  const policy = (await t.request({ method: 'GET', url: '/api/popia/privacy-policy/' })).json<{
    id: number;
  }>();
  const { access } = await openSession(t, w.A.id);
  const post = (url: string, payload: object) => t.request({ method: 'POST', url, token: access, payload });
  consentId = await ok(
    await post('/api/popia/consents/grant/', {
      consent_type: 'data_processing',
      privacy_policy_version_id: policy.id,
    }),
    'consent',
    201,
  );
  exportId = await ok(await post('/api/popia/data-export/', {}), 'export', 202);
  deletionId = await ok(
    await post('/api/popia/deletion-requests/create/', { reason: 'fixture' }),
    'deletion',
    201,
  );
});
afterAll(async () => {
  await t.close();
});

type Who = 'B' | 'admin';
interface Probe {
  method: Method;
  /** Under /api; `{id}` is the object's path id. */
  path: string;
  /** The path id of A's object. */
  pathId: () => number;
  resourceType: string;
  /** The audited resource id (the object's own id; a profile's row id for the per-user paths). */
  resourceId: () => number;
  action: string;
  body?: () => Record<string, unknown>;
  who?: Who;
}

const entry = () => w.entry.get(w.A.id)!;
const note = () => w.note.get(w.A.id)!;
const userA = () => w.A.id;

const PROBES: Probe[] = [
  ...(['GET', 'PUT', 'PATCH', 'DELETE'] as const).map((method): Probe => ({
    method,
    path: '/journal/{id}/',
    pathId: entry,
    resourceType: 'journal_entry',
    resourceId: entry,
    action: { GET: 'read', PUT: 'update', PATCH: 'update', DELETE: 'delete' }[method],
    ...(method === 'PUT'
      ? { body: () => ({ date: FIXED_DATE, mood: 'okay', energy_level: 4, activities: 'probe' }) }
      : method === 'PATCH'
        ? { body: () => ({ mood: 'excellent' }) }
        : {}),
  })),
  ...(['GET', 'PUT', 'PATCH'] as const).map((method): Probe => ({
    method,
    path: '/users/{id}/',
    pathId: userA,
    resourceType: 'user',
    resourceId: userA,
    action: method === 'GET' ? 'read' : 'update',
    ...(method === 'GET' ? {} : { body: () => ({ first_name: 'Probe' }) }),
  })),
  ...(['GET', 'PUT', 'PATCH'] as const).map((method): Probe => ({
    method,
    path: '/users/{id}/profile/',
    pathId: userA,
    resourceType: 'profile',
    resourceId: () => profileId,
    action: method === 'GET' ? 'read' : 'update',
    ...(method === 'GET' ? {} : { body: () => ({ learning_style: 'auditory' }) }),
  })),
  {
    method: 'GET',
    path: '/intake/{id}/',
    pathId: userA,
    resourceType: 'profile',
    resourceId: () => profileId,
    action: 'read',
  },
  {
    method: 'GET',
    path: '/intake/submissions/{id}/',
    pathId: () => w.submission.get(w.A.id)!,
    resourceType: 'intake_submission',
    resourceId: () => w.submission.get(w.A.id)!,
    action: 'read',
  },
  ...(['GET', 'PUT', 'PATCH', 'DELETE'] as const).map((method): Probe => ({
    method,
    path: '/admin-notes/{id}/',
    pathId: note,
    resourceType: 'admin_note',
    resourceId: note,
    action: { GET: 'read', PUT: 'update', PATCH: 'update', DELETE: 'delete' }[method],
    ...(method === 'PUT'
      ? { body: () => ({ candidate: w.B.id, category: 'general', title: 'T', content: 'C' }) }
      : method === 'PATCH'
        ? { body: () => ({ is_important: true }) }
        : {}),
  })),
  ...(['B', 'admin'] as const).flatMap((who): Probe[] => [
    {
      method: 'GET',
      path: '/popia/data-export/{id}/',
      pathId: () => exportId,
      resourceType: 'data_export_request',
      resourceId: () => exportId,
      action: 'read',
      who,
    },
    {
      method: 'GET',
      path: '/popia/data-export/{id}/download/',
      pathId: () => exportId,
      resourceType: 'data_export_request',
      resourceId: () => exportId,
      action: 'export_downloaded',
      who,
    },
  ]),
  {
    method: 'POST',
    path: '/popia/consents/{id}/withdraw/',
    pathId: () => consentId,
    resourceType: 'consent',
    resourceId: () => consentId,
    action: 'consent_withdrawn',
  },
  ...(['admin', 'B'] as const).map((who): Probe => ({
    method: 'POST',
    path: '/popia/deletion-requests/{id}/cancel/',
    pathId: () => deletionId,
    resourceType: 'data_deletion_request',
    resourceId: () => deletionId,
    action: 'deletion_cancelled',
    who,
  })),
];

const label = (p: Probe) => `${p.who ?? 'B'} ${p.method} ${p.path}`;
const callerOf = (who: Who | undefined): TestUser => (who === 'admin' ? w.admin : w.B);
const newRequestId = (tag: string) => `denied-${tag}-${randomBytes(4).toString('hex')}`;

async function send(
  p: Probe,
  caller: TestUser | null,
  id: number,
  requestId: string,
): Promise<LightMyRequestResponse> {
  const token = caller ? (await openSession(t, caller.id)).access : undefined;
  return t.request({
    method: p.method,
    url: `/api${p.path.replace('{id}', String(id))}`,
    ...(token ? { token } : {}),
    ...(p.body ? { payload: p.body() } : {}),
    headers: { 'x-request-id': requestId },
  });
}

const rowsOf = (requestId: string) =>
  t.c.db.select().from(auditLog).where(eq(auditLog.requestId, requestId)).orderBy(auditLog.id);

/** The 404 body without its per-response `error_id`. */
function notFoundShape(res: LightMyRequestResponse) {
  const body = res.json<Record<string, unknown>>();
  expect(body.error_id).toMatch(/^[0-9a-f]{8}$/);
  const { error_id: _errorId, ...rest } = body;
  return { status: res.statusCode, keys: Object.keys(body), rest, type: res.headers['content-type'] };
}

describe("denied access to another person's object", () => {
  it.each(PROBES.map((p) => [label(p), p] as const))(
    '%s: same 404 as a missing id, one denied entry, none for the missing id',
    async (_label, p) => {
      const caller = callerOf(p.who);
      const theirsId = newRequestId('theirs');
      const missingId = newRequestId('missing');
      const theirs = await send(p, caller, p.pathId(), theirsId);
      const missing = await send(p, caller, MISSING_ID, missingId);

      expect(theirs.statusCode).toBe(404);
      expect(notFoundShape(theirs)).toEqual(notFoundShape(missing));

      const rows = await rowsOf(theirsId);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        actorId: caller.id,
        actorRole: caller.role,
        action: p.action,
        resourceType: p.resourceType,
        resourceId: String(p.resourceId()),
        subjectUserId: w.A.id,
        outcome: 'denied',
        reason: 'not_visible',
        fields: null,
        changes: null,
      });
      expect(await rowsOf(missingId)).toEqual([]);
    },
  );

  it('leaves the refused object unchanged', async () => {
    const [row] = await t.c.db.select().from(journalEntries).where(eq(journalEntries.id, entry()));
    expect(row).toMatchObject({ userId: w.A.id, date: FIXED_DATE, mood: 'good' });
  });

  it("records nothing denied for the owner's own requests", async () => {
    const owner = await openSession(t, w.A.id);
    for (const p of PROBES.filter((x) => x.method === 'GET' && !x.path.includes('download'))) {
      const requestId = newRequestId('own');
      const res = await t.request({
        method: 'GET',
        url: `/api${p.path.replace('{id}', String(p.pathId()))}`,
        token: owner.access,
        headers: { 'x-request-id': requestId },
      });
      expect(res.statusCode, label(p)).toBe(200);
      expect(await rowsOf(requestId), label(p)).toEqual([]);
    }
    const requestId = newRequestId('own-write');
    const res = await t.request({
      method: 'PATCH',
      url: `/api/journal/${entry()}/`,
      token: owner.access,
      payload: { mood: 'good' },
      headers: { 'x-request-id': requestId },
    });
    expect(res.statusCode).toBe(200);
    expect((await rowsOf(requestId)).map((r) => [r.action, r.outcome])).toEqual([['update', 'success']]);
  });

  it('does not audit anonymous download attempts (no token, or a wrong one)', async () => {
    for (const query of ['', '?token=not-the-token']) {
      const requestId = newRequestId('anon');
      const res = await t.request({
        method: 'GET',
        url: `/api/popia/data-export/${exportId}/download/${query}`,
        headers: { 'x-request-id': requestId },
      });
      expect(res.statusCode).toBe(404);
      expect(await rowsOf(requestId)).toEqual([]);
    }
  });
});

describe('where denied attempts are seen', () => {
  // Self-contained: each run of this block makes its own refused attempts first.
  beforeAll(async () => {
    const attempts = PROBES.filter((p) => p.method !== 'GET' || p.path.includes('download'));
    for (const p of attempts) {
      const requestId = newRequestId('seen');
      expect((await send(p, callerOf(p.who), p.pathId(), requestId)).statusCode).toBe(404);
      expect((await rowsOf(requestId)).map((r) => r.outcome)).toEqual(['denied']);
    }
  });

  it('superusers find them in the audit log by outcome, actor and subject', async () => {
    const su = await openSession(t, w.su.id);
    const res = await t.request({
      method: 'GET',
      url: `/api/popia/audit-log/?outcome=denied&actor=${w.B.id}&subject=${w.A.id}&page_size=100`,
      token: su.access,
    });
    expect(res.statusCode).toBe(200);
    const page = res.json<{ count: number; results: Record<string, unknown>[] }>();
    expect(page.count).toBeGreaterThan(0);
    for (const entry of page.results) {
      expect(entry).toMatchObject({ outcome: 'denied', actor_id: w.B.id, subject_user_id: w.A.id });
    }
    const bad = await t.request({
      method: 'GET',
      url: '/api/popia/audit-log/?outcome=maybe',
      token: su.access,
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ errors: { outcome: ['"maybe" is not a valid choice.'] } });
  });

  it("are not shown in the subject's access log (nothing was accessed)", async () => {
    const owner = await openSession(t, w.A.id);
    const res = await t.request({
      method: 'GET',
      url: '/api/popia/access-log/?page_size=100&include_self=true',
      token: owner.access,
    });
    expect(res.statusCode).toBe(200);
    const items = res.json<{ results: { actor: { id: number } | null }[] }>().results;
    expect(items.length).toBeGreaterThan(0); // staff wrote notes about A
    expect(items.filter((i) => i.actor?.id === w.B.id)).toEqual([]);

    // Nor in the access log of A's data export (which shows the actor's role only).
    const doc = await t.request({ method: 'GET', url: '/api/popia/data-export/', token: owner.access });
    expect(doc.statusCode).toBe(200);
    const accessLog = doc.json<{ access_log: { action: string }[] }>().access_log;
    expect(accessLog.length).toBeGreaterThan(0);
    // A never withdrew, cancelled or downloaded: only the refused attempts of others had these actions.
    const attempted = ['consent_withdrawn', 'deletion_cancelled', 'export_downloaded'];
    expect(accessLog.filter((e) => attempted.includes(e.action))).toEqual([]);
  });
});

describe('costs and failures', () => {
  it('runs no extra statement on a successful read (GET journal/<id>/ by its owner)', async () => {
    const owner = await openSession(t, w.A.id);
    const read = () => t.request({ method: 'GET', url: `/api/journal/${entry()}/`, token: owner.access });
    expect((await read()).statusCode).toBe(200); // warm-up (session and data-key caches)
    await t.c.jobs.idle(); // background e-mails of sign-ups done: only this request counts
    const before = t.c.database.statementCount();
    expect((await read()).statusCode).toBe(200);
    // The entry, in one query (the data key is cached); a self-read is not audited.
    expect(t.c.database.statementCount() - before).toBe(1);
  });

  it('still answers the 404 when the denied entry cannot be written, and logs why', async () => {
    // A real fault of the audit store for denied rows only (a trigger in this test's own database).
    await t.c.db.execute(
      sql.raw(`create function test_refuse_denied() returns trigger language plpgsql as $$
        begin raise exception 'audit store refuses denied rows'; end $$`),
    );
    await t.c.db.execute(
      sql.raw(`create trigger test_refuse_denied before insert on audit_log
        for each row when (new.outcome = 'denied') execute function test_refuse_denied()`),
    );
    const error = vi.spyOn(t.c.logger, 'error');
    try {
      const p = PROBES[0]!;
      const requestId = newRequestId('store-down');
      const theirs = await send(p, w.B, p.pathId(), requestId);
      const missing = await send(p, w.B, MISSING_ID, newRequestId('store-down-missing'));
      expect(notFoundShape(theirs)).toEqual(notFoundShape(missing));
      expect(await rowsOf(requestId)).toEqual([]);
      const logged = error.mock.calls.map((c) => JSON.stringify(c));
      expect(logged.some((line) => line.includes(requestId))).toBe(true);
    } finally {
      error.mockRestore();
      await t.c.db.execute(sql.raw('drop trigger test_refuse_denied on audit_log'));
      await t.c.db.execute(sql.raw('drop function test_refuse_denied()'));
    }
  });

  it('writes no denied entry when the object is gone (deleted by its owner)', async () => {
    const gone = await ok(
      await t.request({
        method: 'POST',
        url: '/api/journal/',
        token: (await openSession(t, w.A.id)).access,
        payload: { date: '2019-06-01', mood: 'good', energy_level: 5, activities: 'soon gone' },
      }),
      'entry',
      201,
    );
    await t.c.db.delete(journalEntries).where(eq(journalEntries.id, gone));
    const requestId = newRequestId('gone');
    const res = await send(PROBES[0]!, w.B, gone, requestId);
    expect(res.statusCode).toBe(404);
    expect(await rowsOf(requestId)).toEqual([]);
  });

  it('records nothing about an erased person (a write on their anonymised account is refused quietly)', async () => {
    const erased = await registerCandidate(t);
    await t.c.db
      .update(users)
      .set({ anonymizedAt: new Date(), isActive: false })
      .where(eq(users.id, erased.id));
    const requestId = newRequestId('erased');
    const res = await t.request({
      method: 'PATCH',
      url: `/api/users/${erased.id}/`,
      token: (await openSession(t, w.admin.id)).access,
      payload: { first_name: 'Again' },
      headers: { 'x-request-id': requestId },
    });
    expect(res.statusCode).toBe(404);
    expect(await rowsOf(requestId)).toEqual([]);
  });
});

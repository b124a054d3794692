import { and, count, desc, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, users } from '../src/db/schema.js';
import { addDays } from '../src/lib/time.js';
import { chainKey } from '../src/modules/audit/chain-mac.js';
import { recordAudit } from '../src/modules/audit/recorder.js';
import { verifyAuditChain } from '../src/modules/audit/verify.js';
import { runCli as runCliOn, sealUntil } from './helpers/audit.js';
import {
  createTestApp,
  createUserWithSession,
  registerCandidate,
  type TestApp,
  type TestUser,
} from './helpers/app.js';

let t: TestApp;
let cand: TestUser;
let cand2: TestUser;
let cand3: TestUser;
let admin: TestUser;
let su: TestUser;

beforeAll(async () => {
  t = await createTestApp();
  cand = await registerCandidate(t);
  cand2 = await registerCandidate(t);
  cand3 = await registerCandidate(t);
  admin = await createUserWithSession(t, 'admin');
  su = await createUserWithSession(t, 'superuser');
});
afterAll(async () => {
  await t.close();
});

const call = (
  url: string,
  user: TestUser | null,
  opts: { method?: 'GET' | 'POST' | 'PATCH'; payload?: object; requestId?: string } = {},
) =>
  t.request({
    method: opts.method ?? 'GET',
    url,
    ...(opts.payload ? { payload: opts.payload } : {}),
    ...(user ? { token: user.access } : {}),
    ...(opts.requestId ? { headers: { 'x-request-id': opts.requestId } } : {}),
  });

let day = 0;
async function createEntry(owner: TestUser): Promise<{ id: number }> {
  day += 1;
  const date = addDays('2030-01-01', day);
  const res = await call('/api/journal/', owner, {
    method: 'POST',
    payload: { date, mood: 'good', energy_level: 6, activities: 'Went for a walk' },
  });
  if (res.statusCode !== 201) throw new Error(`entry: ${res.statusCode} ${res.body}`);
  return res.json();
}

async function createNote(about: TestUser): Promise<{ id: number }> {
  const res = await call('/api/admin-notes/', admin, {
    method: 'POST',
    payload: {
      candidate: about.id,
      category: 'medical',
      title: 'Check-in',
      content: 'Needs a screen reader',
    },
  });
  if (res.statusCode !== 201) throw new Error(`note: ${res.statusCode} ${res.body}`);
  return res.json();
}

interface AccessItem {
  id: number;
  at: string;
  actor: { id: number; role: string; name: string | null } | null;
  action: string;
  resource_type: string;
  resource_id: string | null;
  fields: string[] | null;
}
interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

const readsOf = (requestId: string) =>
  t.c.db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.requestId, requestId), eq(auditLog.action, 'read')))
    .orderBy(auditLog.id);

const auditCount = async () => (await t.c.db.select({ n: count() }).from(auditLog))[0]!.n;

const ACCESS_KEYS = ['id', 'at', 'actor', 'action', 'resource_type', 'resource_id', 'fields'];
const ENTRY_KEYS = [
  'id',
  'at',
  'actor_id',
  'actor_role',
  'ip',
  'user_agent',
  'request_id',
  'action',
  'resource_type',
  'resource_id',
  'subject_user_id',
  'fields',
  'changes',
  'outcome',
  'reason',
  'metadata',
  'seq',
  'hash',
];

describe('GET popia/access-log/ (who accessed my data)', () => {
  it("shows a candidate the admin's reads of their profile, journal and notes, without IPs", async () => {
    const entry = await createEntry(cand);
    const note = await createNote(cand);
    expect((await call(`/api/users/${cand.id}/profile/`, admin)).statusCode).toBe(200);
    expect((await call(`/api/journal/${entry.id}/`, admin)).statusCode).toBe(200);
    expect((await call(`/api/admin-notes/${note.id}/`, admin)).statusCode).toBe(200);
    // The candidate's own reads are not recorded.
    expect((await call(`/api/users/${cand.id}/profile/`, cand)).statusCode).toBe(200);
    expect((await call(`/api/journal/${entry.id}/`, cand)).statusCode).toBe(200);
    expect((await call(`/api/admin-notes/${note.id}/`, cand)).statusCode).toBe(200);

    const res = await call('/api/popia/access-log/', cand);
    expect(res.statusCode).toBe(200);
    const body = res.json<Page<AccessItem>>();
    expect(Object.keys(body)).toEqual(['count', 'next', 'previous', 'results']);
    for (const item of body.results) {
      expect(Object.keys(item)).toEqual(ACCESS_KEYS);
      expect(item.actor?.id).not.toBe(cand.id);
    }
    expect(res.body).not.toContain('127.0.0.1');
    const reads = body.results.filter((r) => r.action === 'read');
    // newest first
    expect(reads.map((r) => [r.resource_type, r.resource_id])).toEqual([
      ['admin_note', String(note.id)],
      ['journal_entry', String(entry.id)],
      ['profile', expect.any(String)],
    ]);
    const actor = { id: admin.id, role: 'admin', name: 'admin Tester' };
    for (const r of reads) expect(r.actor).toEqual(actor);
    expect(reads[0]!.fields).toEqual(['title', 'content']);
    expect(reads[1]!.fields).toEqual(['activities', 'challenges', 'achievements', 'notes', 'barriers_faced']);
    expect(reads[2]!.fields).toContain('diagnosis');
    expect(reads[0]!.at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?\+02:00$/);
    // The note the admin wrote about the candidate is shown too (someone else acted on their data).
    expect(body.results).toContainEqual(
      expect.objectContaining({ action: 'create', resource_type: 'admin_note', actor }),
    );
    // No own action without include_self.
    expect(body.results.some((r) => r.action === 'create' && r.resource_type === 'journal_entry')).toBe(
      false,
    );
  });

  it('adds own actions with include_self=true, never own reads', async () => {
    const res = await call('/api/popia/access-log/?include_self=true', cand);
    expect(res.statusCode).toBe(200);
    const results = res.json<Page<AccessItem>>().results;
    const own = results.filter((r) => r.actor?.id === cand.id);
    expect(own.some((r) => r.action === 'create' && r.resource_type === 'journal_entry')).toBe(true);
    expect(own.some((r) => r.action === 'read')).toBe(false);
    expect(own[0]?.actor).toEqual({ id: cand.id, role: 'candidate', name: 'Test Candidate' });

    const bad = await call('/api/popia/access-log/?include_self=maybe', cand);
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({
      code: 'validation_error',
      errors: { include_self: ['Must be a valid boolean.'] },
    });
  });

  it('shows system actions with a null actor and a removed actor without a name', async () => {
    await recordAudit(
      t.c.db,
      { actor: null, meta: null },
      { action: 'retention_exempted', resourceType: 'user', resourceId: cand2.id, subjectUserId: cand2.id },
    );
    const gone = await createUserWithSession(t, 'admin');
    expect((await call(`/api/users/${cand2.id}/`, gone)).statusCode).toBe(200);
    await t.c.db.delete(users).where(eq(users.id, gone.id));

    const results = (await call('/api/popia/access-log/', cand2)).json<Page<AccessItem>>().results;
    expect(results[0]).toMatchObject({
      action: 'read',
      resource_type: 'user',
      resource_id: String(cand2.id),
      actor: { id: gone.id, role: 'admin', name: null },
    });
    expect(results[1]).toMatchObject({ action: 'retention_exempted', actor: null });
  });

  it('pages the log and answers 401 without a token', async () => {
    const page = await call('/api/popia/access-log/?page_size=1', cand);
    expect(page.json<Page<AccessItem>>().results).toHaveLength(1);
    expect(page.json<Page<AccessItem>>().next).toBe(
      'http://localhost/api/popia/access-log/?page_size=1&page=2',
    );
    expect((await call('/api/v1/popia/access-log/', cand)).statusCode).toBe(200);
    expect((await call('/api/popia/access-log/', null)).statusCode).toBe(401);
  });
});

describe('read audit of lists', () => {
  it('writes one read per other person on a page, in one statement whatever the page size', async () => {
    for (const who of [cand2, cand3]) {
      for (let i = 0; i < 10; i += 1) {
        await createEntry(who);
        await createNote(who);
      }
    }
    for (const url of ['/api/journal/', '/api/admin-notes/']) {
      await call(`${url}?page_size=100`, admin); // warm-up (session, data-key caches)
      const measure = async (size: number) => {
        await t.c.jobs.idle(); // background e-mails of sign-ups done: only this request counts
        const before = t.c.database.statementCount();
        const res = await call(`${url}?page_size=${size}`, admin);
        expect(res.statusCode).toBe(200);
        expect(res.json<Page<unknown>>().results).toHaveLength(size);
        return t.c.database.statementCount() - before;
      };
      expect(await measure(20)).toBe(await measure(1));
    }

    const res = await call('/api/journal/?page_size=20', admin, { requestId: 'journal-page-20' });
    const page = res.json<Page<{ id: number; user: number }>>().results;
    const reads = await readsOf('journal-page-20');
    const subjects = [...new Set(page.map((e) => e.user))];
    expect(reads.map((r) => r.subjectUserId)).toEqual(subjects);
    const mine = page.filter((e) => e.user === cand2.id).map((e) => e.id);
    expect(reads.find((r) => r.subjectUserId === cand2.id)).toMatchObject({
      actorId: admin.id,
      actorRole: 'admin',
      resourceType: 'journal_entry',
      resourceId: null,
      metadata: { entry_ids: mine },
      ip: '127.0.0.1',
    });

    const notes = await call(`/api/admin-notes/candidate/${cand3.id}/`, admin, {
      requestId: 'notes-of-cand3',
    });
    const noteIds = notes.json<Page<{ id: number }>>().results.map((n) => n.id);
    expect(noteIds).toHaveLength(10);
    const noteReads = await readsOf('notes-of-cand3');
    expect(noteReads).toHaveLength(1);
    expect(noteReads[0]).toMatchObject({
      subjectUserId: cand3.id,
      resourceType: 'admin_note',
      fields: ['title', 'content'],
      metadata: { note_ids: noteIds },
    });

    // A candidate listing their own data records nothing.
    await call('/api/journal/', cand2, { requestId: 'own-journal' });
    await call('/api/admin-notes/', cand2, { requestId: 'own-notes' });
    expect(await readsOf('own-journal')).toHaveLength(0);
    expect(await readsOf('own-notes')).toHaveLength(0);

    // Users: every other user on the page, not the reader.
    await call('/api/users/?page_size=100', admin, { requestId: 'users-page' });
    const userReads = await readsOf('users-page');
    expect(userReads.map((r) => r.subjectUserId)).toContain(cand.id);
    expect(userReads.map((r) => r.subjectUserId)).not.toContain(admin.id);
    expect(userReads.every((r) => r.resourceType === 'user')).toBe(true);
  });

  it('records a staff edit of a journal entry as a read and an update', async () => {
    const entry = await createEntry(cand3);
    const res = await call(`/api/journal/${entry.id}/`, admin, {
      method: 'PATCH',
      payload: { mood: 'okay' },
      requestId: 'staff-patch',
    });
    expect(res.statusCode).toBe(200);
    const rows = await t.c.db
      .select({ action: auditLog.action, subject: auditLog.subjectUserId })
      .from(auditLog)
      .where(eq(auditLog.requestId, 'staff-patch'))
      .orderBy(auditLog.id);
    expect(rows).toEqual([
      { action: 'read', subject: cand3.id },
      { action: 'update', subject: cand3.id },
    ]);
  });

  it('answers 503 and serves nothing when the audit store refuses writes', async () => {
    const entry = await createEntry(cand3);
    await t.c.database.exec(`
      create function pss_test_audit_down() returns trigger language plpgsql as $$
      -- 57P03 cannot_connect_now: the audit store is unavailable (a defect would be a 500, see error-logging)
      begin raise exception 'audit store down' using errcode = '57P03'; end $$;
      create trigger pss_test_audit_down before insert on audit_log
        for each row execute function pss_test_audit_down();`);
    try {
      const res = await call(`/api/journal/${entry.id}/`, admin);
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({
        code: 'service_unavailable',
        detail: 'Audit store unavailable. Please try again later.',
      });
      expect(res.body).not.toContain('Went for a walk');
      const list = await call('/api/admin-notes/', admin);
      expect(list.statusCode).toBe(503);
    } finally {
      await t.c.database.exec(
        'drop trigger pss_test_audit_down on audit_log; drop function pss_test_audit_down();',
      );
    }
    expect((await call(`/api/journal/${entry.id}/`, admin)).statusCode).toBe(200);
  });
});

describe('GET popia/audit-log/ (superuser)', () => {
  it('returns full entries, newest first, with filters', async () => {
    // A new entry is listed at once, before the sealer gives it a place in the chain.
    await recordAudit(
      t.c.db,
      { actor: null, meta: null },
      { action: 'not_sealed_yet', resourceType: 'user' },
    );
    const fresh = await call('/api/popia/audit-log/?page_size=1', su);
    expect(fresh.json<Page<unknown>>().results[0]).toMatchObject({
      action: 'not_sealed_yet',
      seq: null,
      hash: null,
    });
    await sealUntil(t.c);
    const res = await call(
      `/api/popia/audit-log/?actor=${admin.id}&action=read&resource_type=journal_entry`,
      su,
    );
    expect(res.statusCode).toBe(200);
    const body = res.json<Page<Record<string, unknown>>>();
    expect(body.count).toBeGreaterThan(0);
    for (const e of body.results) {
      expect(Object.keys(e)).toEqual(ENTRY_KEYS);
      expect(e).toMatchObject({ actor_id: admin.id, action: 'read', resource_type: 'journal_entry' });
      expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
    }
    const ids = body.results.map((e) => e.id as number);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(body.results[0]).toMatchObject({ ip: '127.0.0.1', outcome: 'success' });

    const bySubject = (await call(`/api/popia/audit-log/?subject=${cand3.id}`, su)).json<
      Page<{ subject_user_id: number }>
    >();
    expect(bySubject.count).toBeGreaterThan(0);
    expect(bySubject.results.every((e) => e.subject_user_id === cand3.id)).toBe(true);

    const today = (body.results[0]!.at as string).slice(0, 10);
    const inDay = await call(`/api/popia/audit-log/?date_from=${today}&date_to=${today}&page_size=1`, su);
    expect(inDay.json<Page<unknown>>().count).toBe(await auditCount());
    const before = await call(`/api/popia/audit-log/?date_to=2000-01-01`, su);
    expect(before.json<Page<unknown>>().count).toBe(0);
    const after = await call(`/api/popia/audit-log/?date_from=2999-01-01`, su);
    expect(after.json<Page<unknown>>().count).toBe(0);
  });

  it('rejects bad filter values with field errors', async () => {
    const res = await call('/api/popia/audit-log/?date_from=2024-13-01&actor=abc&date_to=x', su);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      code: 'validation_error',
      error: 'Validation error',
      errors: {
        actor: ['A valid integer is required.'],
        date_from: ['Date has wrong format. Use one of these formats instead: YYYY-MM-DD.'],
        date_to: ['Date has wrong format. Use one of these formats instead: YYYY-MM-DD.'],
      },
    });
  });

  it('is refused to admins and candidates', async () => {
    for (const who of [admin, cand]) {
      const res = await call('/api/popia/audit-log/', who);
      expect(res.statusCode).toBe(403);
      expect(res.json().code).toBe('permission_denied');
    }
  });
});

describe('append-only, hash-chained log', () => {
  it('refuses UPDATE and DELETE', async () => {
    // The database's own message (drizzle wraps it as the cause of its "Failed query" error).
    const failure = (query: PromiseLike<unknown>) =>
      Promise.resolve(query).then(
        () => 'succeeded',
        (err: unknown) => {
          const e = err as Error;
          return e.cause instanceof Error ? e.cause.message : e.message;
        },
      );
    const before = await auditCount();
    const oldest = sql`(select min(id) from audit_log)`;
    expect(await failure(t.c.db.execute(sql`update audit_log set action = 'x' where id = ${oldest}`))).toBe(
      'audit_log is append-only',
    );
    expect(await failure(t.c.db.execute(sql`delete from audit_log where id = ${oldest}`))).toBe(
      'audit_log is append-only',
    );
    expect(await failure(t.c.db.delete(auditLog))).toBe('audit_log is append-only');
    expect(await failure(t.c.db.execute(sql`truncate audit_log`))).toBe('audit_log is append-only');
    expect(await auditCount()).toBe(before);
  });

  it('verifies a clean chain, in batches', async () => {
    await sealUntil(t.c);
    const n = await auditCount();
    const key = chainKey(t.c.config.encryption);
    const checkpoint = { seq: n, hash: expect.stringMatching(/^[0-9a-f]{64}$/) };
    expect(await verifyAuditChain(t.c.db, key)).toEqual({ ok: true, checked: n, checkpoint });
    expect(await verifyAuditChain(t.c.db, key, 7)).toEqual({ ok: true, checked: n, checkpoint });
    const http = await t.request({ method: 'POST', url: '/api/popia/audit-log/verify/', token: su.access });
    expect(http.statusCode).toBe(200);
    expect(http.json()).toEqual({
      ok: true,
      checked: n,
      first_broken: null,
      checkpoint: { seq: n },
      unsealed: { count: 0, oldest_age_seconds: null },
    });
    // The verdict is recorded as the superuser's action.
    const [verdict] = await t.c.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, 'audit_verified'))
      .orderBy(desc(auditLog.id))
      .limit(1);
    expect(verdict?.actorId).toBe(su.id);
    expect(verdict?.outcome).toBe('success');
  });

  it('reports the first tampered entry', async () => {
    const [victim] = await t.c.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, 'read'))
      .orderBy(auditLog.seq)
      .limit(1);
    const tamper = async (action: string) => {
      await t.c.database.exec(`
        alter table audit_log disable trigger audit_log_append_only;
        update audit_log set action = '${action}' where id = ${String(victim!.id)};
        alter table audit_log enable trigger audit_log_append_only;`);
    };
    await tamper('login_success');
    const key = chainKey(t.c.config.encryption);
    try {
      const result = await verifyAuditChain(t.c.db, key, 5);
      expect(result.ok).toBe(false);
      expect(result.firstBroken).toEqual({
        seq: victim!.seq,
        id: victim!.id,
        problem: expect.stringContaining('hash'),
      });
      const out = await runCli('audit:verify', []);
      expect(out.code).toBe(1);
      expect(out.text).toContain(`seq ${String(victim!.seq)} (id ${String(victim!.id)})`);
      // The console's check: the same verdict over HTTP, for superusers only.
      const http = await t.request({ method: 'POST', url: '/api/popia/audit-log/verify/', token: su.access });
      expect(http.statusCode).toBe(200);
      expect(http.json()).toMatchObject({
        ok: false,
        first_broken: { seq: victim!.seq, id: victim!.id, problem: expect.stringContaining('hash') },
      });
      const byAdmin = await t.request({
        method: 'POST',
        url: '/api/popia/audit-log/verify/',
        token: admin.access,
      });
      expect(byAdmin.statusCode).toBe(403);
    } finally {
      await tamper('read');
    }
    expect((await verifyAuditChain(t.c.db, key)).ok).toBe(true);
  });
});

const runCli = (name: string, args: string[]) => runCliOn(t.c, name, args);

describe('CLI audit:verify and audit:purge', () => {
  it('audit:verify prints the number of entries of an intact chain and of unsealed ones', async () => {
    await sealUntil(t.c);
    const n = await auditCount();
    const out = await runCli('audit:verify', []);
    expect(out).toEqual({
      code: 0,
      text: `audit chain intact: ${String(n)} entries, last checkpoint at seq ${String(n)}\nunsealed: 0 entries\n`,
    });
    // The check itself is recorded (as system), and enters the chain at the next seal.
    const [last] = await t.c.db.select().from(auditLog).orderBy(desc(auditLog.id)).limit(1);
    expect(last).toMatchObject({
      action: 'audit_verified',
      actorId: null,
      actorRole: 'system',
      seq: null,
      metadata: { checked: n, checkpoint_seq: n, unsealed: 0, oldest_unsealed_age_seconds: null },
    });
  });

  it('refuses without --yes, changes nothing with --dry-run, then purges the old prefix', async () => {
    await sealUntil(t.c);
    const total = await auditCount();
    const refused = await runCli('audit:purge', ['--retention-days', '30']);
    expect(refused.code).toBe(2);
    expect(refused.text).toContain('refusing to delete without --yes');
    expect(await auditCount()).toBe(total);
    expect((await runCli('audit:purge', ['--retention-days', 'x', '--yes'])).code).toBe(2);

    // Make everything so far older than 30 days, then add entries inside the retention.
    t.clock.advance(31 * 86_400);
    const recent = t.c.now();
    const insert = (at: Date, action: string) =>
      t.c.db.insert(auditLog).values({ at, action, resourceType: 'user', actorRole: 'system' });
    await insert(recent, 'recent_1');
    await insert(new Date(recent.getTime() - 40 * 86_400_000), 'old_after_recent');
    await insert(recent, 'recent_2');
    await sealUntil(t.c);
    const old = total; // every earlier entry is now past the retention

    const dry = await runCli('audit:purge', ['--retention-days', '30', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.text).toContain(`would delete ${String(old)} audit entries`);
    expect(await auditCount()).toBe(total + 3);

    const done = await runCli('audit:purge', ['--retention-days', '30', '--yes']);
    expect(done.code).toBe(0);
    expect(done.text).toContain(`deleted ${String(old)} audit entries`);
    await sealUntil(t.c);
    const left = await t.c.db.select().from(auditLog).orderBy(auditLog.seq);
    // Only the chain's prefix goes: an old entry after a recent one waits for a later purge.
    expect(left.map((r) => r.action)).toEqual(['recent_1', 'old_after_recent', 'recent_2', 'audit_purged']);
    expect(left[3]).toMatchObject({
      actorId: null,
      actorRole: 'system',
      metadata: { retention_days: 30, deleted: old },
    });
    expect(await verifyAuditChain(t.c.db, chainKey(t.c.config.encryption))).toMatchObject({
      ok: true,
      checked: 4,
    });
    expect((await runCli('audit:verify', [])).text).toBe(
      `audit chain intact: 4 entries, last checkpoint at seq ${String(left[3]!.seq)}\nunsealed: 0 entries\n`,
    );
  });

  it('an entry older than the retention but not sealed yet stays', async () => {
    await sealUntil(t.c);
    t.clock.advance(31 * 86_400);
    await t.c.db
      .insert(auditLog)
      .values({ at: new Date(0), action: 'old_unsealed', resourceType: 'user', actorRole: 'system' });
    await runCli('audit:purge', ['--retention-days', '30', '--yes']);
    const [kept] = await t.c.db.select().from(auditLog).where(eq(auditLog.action, 'old_unsealed'));
    expect(kept).toMatchObject({ seq: null });
    await sealUntil(t.c);
    expect((await verifyAuditChain(t.c.db, chainKey(t.c.config.encryption))).ok).toBe(true);
  });
});

import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminNotes, auditLog, users } from '../src/db/schema.js';
import {
  createTestApp,
  createUserWithSession,
  registerCandidate,
  type TestApp,
  type TestUser,
} from './helpers/app.js';

let t: TestApp;
let admin: TestUser;
let superuser: TestUser;
let cand: TestUser;
let other: TestUser;
beforeAll(async () => {
  t = await createTestApp();
  admin = await createUserWithSession(t, 'admin');
  superuser = await createUserWithSession(t, 'superuser');
  cand = await registerCandidate(t);
  other = await registerCandidate(t);
});
afterAll(async () => {
  await t.close();
});

const NOTE_KEYS = [
  'id',
  'category',
  'title',
  'content',
  'is_important',
  'tags',
  'created_at',
  'updated_at',
  'candidate',
  'admin',
];
const TAG_RULE = 'Each tag must be 1 to 50 characters of letters, digits, "-" or "_".';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const call = (method: Method, url: string, token: string, payload?: unknown) =>
  t.request({
    method,
    url,
    token,
    ...(payload === undefined ? {} : { payload: payload as object }),
  });

type Note = { id: number; title: string; candidate: number; admin: number | null; [k: string]: unknown };
type NotePage = { count: number; next: string | null; previous: string | null; results: Note[] };

async function createNote(
  about: TestUser,
  extra: Record<string, unknown> = {},
  by: TestUser = admin,
): Promise<Note> {
  const res = await call('POST', '/api/admin-notes/', by.access, {
    candidate: about.id,
    category: 'progress',
    title: 'Weekly check-in',
    content: 'Doing well.',
    ...extra,
  });
  if (res.statusCode !== 201) throw new Error(`create failed: ${res.statusCode} ${res.body}`);
  return res.json<Note>();
}

const auditFor = (id: number, action: string) =>
  t.c.db
    .select()
    .from(auditLog)
    .where(
      and(
        eq(auditLog.resourceType, 'admin_note'),
        eq(auditLog.resourceId, String(id)),
        eq(auditLog.action, action),
      ),
    );

describe('POST admin-notes/', () => {
  it('creates a note about a candidate, authored by the caller, sealed under the candidate key', async () => {
    const res = await call('POST', '/api/admin-notes/', admin.access, {
      candidate: cand.id,
      category: 'medical',
      title: '  Needs <b>screen reader</b> ',
      content: 'Uses "JAWS" & braille display',
      tags: ' Follow-Up, ISA,follow-up ,',
      admin: superuser.id,
    });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(Object.keys(body)).toEqual(NOTE_KEYS);
    expect(body).toMatchObject({
      category: 'medical',
      title: 'Needs &lt;b&gt;screen reader&lt;/b&gt;',
      content: 'Uses &quot;JAWS&quot; &amp; braille display',
      is_important: false,
      tags: ['follow-up', 'isa'],
      candidate: cand.id,
      admin: admin.id,
    });
    expect(body.created_at).toBe(body.updated_at);
    expect(body.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?\+02:00$/);

    // PRIVACY: title and content are one sealed record at rest; the per-field columns stay empty.
    const [row] = await t.c.db
      .select({ sealed: adminNotes.sealed, title: adminNotes.title, content: adminNotes.content })
      .from(adminNotes)
      .where(eq(adminNotes.id, body.id));
    if (!row) throw new Error('note not stored');
    expect(row.sealed).toMatch(/^v2\./);
    expect(row).toMatchObject({ title: null, content: null });
    expect(JSON.stringify(row)).not.toMatch(/screen|JAWS|braille/);

    const [audit] = await auditFor(body.id, 'create');
    expect(audit).toMatchObject({
      actorId: admin.id,
      actorRole: 'admin',
      subjectUserId: cand.id,
      fields: ['candidate', 'category', 'title', 'content', 'is_important', 'tags'],
      changes: {
        category: [null, 'medical'],
        is_important: [null, false],
        tags: [null, ['follow-up', 'isa']],
        candidate: [null, cand.id],
      },
    });
    expect(JSON.stringify(audit)).not.toMatch(/screen|JAWS/);
  });

  it('lets a superuser create notes, with tags given as an array', async () => {
    const note = await createNote(
      other,
      { tags: ['Mentor', 'mentor', 'week_1'], is_important: 'true' },
      superuser,
    );
    expect(note).toMatchObject({ admin: superuser.id, tags: ['mentor', 'week_1'], is_important: true });
  });

  it('refuses a candidate with the original message before looking at the body', async () => {
    for (const payload of [{}, { candidate: cand.id, category: 'general', title: 'x', content: 'y' }]) {
      const res = await call('POST', '/api/admin-notes/', cand.access, payload);
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({
        detail: 'Only admins can create notes.',
        code: 'permission_denied',
      });
    }
    const [{ n }] = (await t.c.db
      .select({ n: sql<number>`count(*)::int` })
      .from(adminNotes)
      .where(eq(adminNotes.adminId, cand.id))) as [{ n: number }];
    expect(n).toBe(0);
  });

  it('reports every field error with DRF messages', async () => {
    const bad = async (payload: unknown, errors: Record<string, string[]>) => {
      const res = await call('POST', '/api/admin-notes/', admin.access, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json(), JSON.stringify(payload)).toMatchObject({
        detail: 'Validation error',
        code: 'validation_error',
      });
      expect(res.json().errors, JSON.stringify(payload)).toEqual(errors);
    };
    const required = ['This field is required.'];
    await bad({}, { candidate: required, category: required, title: required, content: required });
    const base = { candidate: cand.id, category: 'general', title: 'T', content: 'C' };
    await bad(
      { ...base, candidate: 'abc', category: 'gossip' },
      {
        candidate: ['Incorrect type. Expected pk value, received str.'],
        category: ['"gossip" is not a valid choice.'],
      },
    );
    await bad(
      { ...base, candidate: 99999999, title: '   ' },
      {
        candidate: ['Invalid pk "99999999" - object does not exist.'],
        title: ['This field may not be blank.'],
      },
    );
    await bad({ ...base, candidate: admin.id }, { candidate: [`User ${admin.id} is not a candidate.`] });
    await bad({ ...base, candidate: null }, { candidate: ['This field may not be null.'] });
    await bad(
      { ...base, candidate: true },
      { candidate: ['Incorrect type. Expected pk value, received bool.'] },
    );
    await bad(
      { ...base, title: 't'.repeat(201), content: 'c'.repeat(10001) },
      {
        title: ['Ensure this field has no more than 200 characters.'],
        content: ['Text exceeds maximum length of 10000 characters (got 10001)'],
      },
    );
    await bad({ ...base, content: '' }, { content: ['This field may not be blank.'] });
    await bad({ ...base, is_important: 'maybe' }, { is_important: ['Must be a valid boolean.'] });
    await bad(
      { ...base, tags: Array.from({ length: 11 }, (_, i) => `t${i}`) },
      { tags: ['Ensure this field has no more than 10 elements.'] },
    );
    await bad({ ...base, tags: ['has space'] }, { tags: [TAG_RULE] });
    await bad({ ...base, tags: ['x'.repeat(51)] }, { tags: [TAG_RULE] });
    await bad({ ...base, tags: ['ok', ''] }, { tags: [TAG_RULE] });
    await bad({ ...base, tags: 'ok,<script>' }, { tags: [TAG_RULE] });
    await bad({ ...base, tags: [1] }, { tags: ['Each tag must be a string.'] });
    await bad({ ...base, tags: 5 }, { tags: ['Expected a list of items but got type "int".'] });
    await bad({ ...base, tags: null }, { tags: ['This field may not be null.'] });
    await bad([base], { non_field_errors: ['Invalid data. Expected a dictionary, but got list.'] });
  });

  it('accepts tags at the limits: 50 characters, 10 distinct after collapsing duplicates', async () => {
    const long = 'a'.repeat(50);
    const many = Array.from({ length: 10 }, (_, i) => `Tag-${i}`);
    const note = await createNote(cand, { tags: [...many, ...many.map((s) => ` ${s.toUpperCase()} `)] });
    expect(note.tags).toEqual(many.map((s) => s.toLowerCase()));
    const single = await createNote(cand, { tags: [` ${long} `, 'Ünïcode_1'] });
    expect(single.tags).toEqual([long, 'ünïcode_1']);
    const none = await createNote(cand, { tags: '' });
    expect(none.tags).toEqual([]);
  });
});

describe('reading notes', () => {
  let aboutCand: Note;
  let aboutOther: Note;
  beforeAll(async () => {
    t.clock.advance(60);
    aboutCand = await createNote(cand, { category: 'concern', tags: ['transport'], is_important: true });
    t.clock.advance(60);
    aboutOther = await createNote(other, { category: 'achievement', tags: ['transport', 'award'] });
  });

  it('lists newest first: staff see every note, a candidate only notes about themselves', async () => {
    const staff = (await call('GET', '/api/admin-notes/', admin.access)).json();
    expect(Object.keys(staff)).toEqual(['count', 'next', 'previous', 'results']);
    expect(staff.results[0].id).toBe(aboutOther.id);
    expect(staff.results[1].id).toBe(aboutCand.id);
    expect(Object.keys(staff.results[0])).toEqual(NOTE_KEYS);
    const all = await t.c.db.select({ n: sql<number>`count(*)::int` }).from(adminNotes);
    expect(staff.count).toBe(all[0]!.n);

    const mine = (await call('GET', '/api/admin-notes/', cand.access)).json<NotePage>();
    expect(mine.results.length).toBeGreaterThan(0);
    expect(mine.results.every((n: Note) => n.candidate === cand.id)).toBe(true);
    expect(mine.results[0]).toEqual(aboutCand);
    // A candidate's ?candidate= cannot reach another candidate's notes.
    const sneaky = (await call('GET', `/api/admin-notes/?candidate=${other.id}`, cand.access)).json();
    expect(sneaky.count).toBe(0);
  });

  it('filters by candidate, category, importance and tag', async () => {
    const ids = async (query: string, token = admin.access) =>
      (await call('GET', `/api/v1/admin-notes/?${query}`, token))
        .json<NotePage>()
        .results.map((n: Note) => n.id);
    expect(await ids(`candidate=${other.id}&category=achievement`)).toEqual([aboutOther.id]);
    expect(await ids('category=concern&is_important=true')).toEqual([aboutCand.id]);
    expect(await ids('tag=%20Transport%20')).toEqual([aboutOther.id, aboutCand.id]);
    expect(await ids('tag=award')).toEqual([aboutOther.id]);
    expect(await ids('tag=transport', cand.access)).toEqual([aboutCand.id]);
    expect(await ids('category=')).toHaveLength(Math.min(20, (await ids('page_size=100')).length));

    const res = await call('GET', '/api/admin-notes/?category=gossip&is_important=perhaps', admin.access);
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual({
      category: ['"gossip" is not a valid choice.'],
      is_important: ['Must be a valid boolean.'],
    });
  });

  it('paginates with links that keep the filters', async () => {
    const res = await call('GET', '/api/admin-notes/?tag=transport&page_size=1', admin.access);
    const body = res.json();
    expect(body.count).toBe(2);
    expect(body.results).toHaveLength(1);
    expect(body.next).toBe('http://localhost/api/admin-notes/?tag=transport&page_size=1&page=2');
    expect(body.previous).toBeNull();
    const last = await call('GET', '/api/admin-notes/?tag=transport&page_size=1&page=3', admin.access);
    expect(last.statusCode).toBe(404);
    expect(last.json().detail).toBe('Invalid page.');
  });

  it('shows one note to staff, and to the candidate it is about; others get 404', async () => {
    expect((await call('GET', `/api/admin-notes/${aboutCand.id}/`, admin.access)).json()).toEqual(aboutCand);
    expect((await call('GET', `/api/admin-notes/${aboutCand.id}/`, superuser.access)).statusCode).toBe(200);
    const own = await call('GET', `/api/admin-notes/${aboutCand.id}/`, cand.access);
    expect(own.statusCode).toBe(200);
    expect(Object.keys(own.json())).toEqual(NOTE_KEYS);
    for (const url of [
      `/api/admin-notes/${aboutOther.id}/`,
      '/api/admin-notes/99999999/',
      '/api/admin-notes/abc/',
    ]) {
      const res = await call('GET', url, cand.access);
      expect(res.statusCode, url).toBe(404);
      expect(res.json().detail, url).toBe('Not found.');
    }
  });

  it('lists the notes about one candidate for staff only', async () => {
    const res = await call('GET', `/api/admin-notes/candidate/${other.id}/`, admin.access);
    expect(res.statusCode).toBe(200);
    const body = res.json<NotePage>();
    expect(body.results.length).toBeGreaterThan(0);
    expect(body.results.every((n: Note) => n.candidate === other.id)).toBe(true);
    expect(body.results[0]).toEqual(aboutOther);
    const filtered = (
      await call('GET', `/api/admin-notes/candidate/${other.id}/?tag=award`, superuser.access)
    ).json<NotePage>();
    expect(filtered.results.map((n: Note) => n.id)).toEqual([aboutOther.id]);

    const unknown = (await call('GET', '/api/admin-notes/candidate/99999999/', admin.access)).json();
    expect(unknown).toEqual({ count: 0, next: null, previous: null, results: [] });

    const refused = await call('GET', `/api/admin-notes/candidate/${cand.id}/`, cand.access);
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({
      detail: 'You do not have permission to perform this action.',
      code: 'permission_denied',
    });
  });

  it('runs as many statements for a page of 1 as for a page of 20', async () => {
    const extra = await registerCandidate(t);
    for (let i = 0; i < 25; i += 1) await createNote([cand, other, extra][i % 3]!);
    const statements = async (pageSize: number) => {
      // Start from cold data-key caches so the key lookup is counted too.
      for (const u of [cand, other, extra]) t.c.dataKeys.evict(u.id);
      await t.c.jobs.idle(); // background e-mails of sign-ups done: only this request counts
      const before = t.c.database.statementCount();
      const res = await call('GET', `/api/admin-notes/?page_size=${pageSize}`, admin.access);
      expect(res.statusCode).toBe(200);
      expect(res.json().results).toHaveLength(pageSize);
      return t.c.database.statementCount() - before;
    };
    await statements(1); // warm-up (session cache)
    const one = await statements(1);
    const twenty = await statements(20);
    expect(twenty).toBe(one);
    // count, page, data keys, and the one insert of the read audit (privacy.md §6)
    expect(one).toBeLessThanOrEqual(4);
  });
});

describe('changing notes', () => {
  it('lets any staff member edit any note; the author stays, fields are re-escaped', async () => {
    const note = await createNote(cand, { tags: ['a'] });
    t.clock.advance(5);
    const res = await call('PATCH', `/api/admin-notes/${note.id}/`, superuser.access, {
      title: 'Tom & Jerry',
      is_important: true,
      tags: 'B, c',
      admin: superuser.id,
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body)).toEqual(NOTE_KEYS);
    expect(body).toMatchObject({
      title: 'Tom &amp; Jerry',
      content: 'Doing well.',
      is_important: true,
      tags: ['b', 'c'],
      admin: admin.id,
      candidate: cand.id,
      created_at: note.created_at,
    });
    expect(body.updated_at).not.toBe(note.updated_at);

    const again = await call('PATCH', `/api/admin-notes/${note.id}/`, admin.access, { title: body.title });
    expect(again.json().title).toBe('Tom &amp;amp; Jerry');

    const audits = await auditFor(note.id, 'update');
    expect(audits[0]).toMatchObject({
      actorId: superuser.id,
      subjectUserId: cand.id,
      fields: ['title', 'is_important', 'tags'],
      changes: { is_important: [false, true], tags: [['a'], ['b', 'c']] },
    });
    expect(JSON.stringify(audits)).not.toContain('Jerry');
  });

  it('PUT needs candidate, category, title and content, and keeps unspecified optional fields', async () => {
    const note = await createNote(cand, { tags: ['keep'], is_important: true });
    const res = await call('PUT', `/api/admin-notes/${note.id}/`, admin.access, { title: 'Only title' });
    expect(res.statusCode).toBe(400);
    const required = ['This field is required.'];
    expect(res.json().errors).toEqual({ candidate: required, category: required, content: required });

    const ok = await call('PUT', `/api/admin-notes/${note.id}/`, admin.access, {
      candidate: cand.id,
      category: 'accommodation',
      title: 'New title',
      content: 'New content',
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({
      category: 'accommodation',
      title: 'New title',
      content: 'New content',
      tags: ['keep'],
      is_important: true,
    });
  });

  it('moves a note to another candidate, re-sealed under their key', async () => {
    const note = await createNote(cand, { title: 'Moving note' });
    const bad = await call('PATCH', `/api/admin-notes/${note.id}/`, admin.access, {
      candidate: superuser.id,
    });
    expect(bad.json().errors).toEqual({ candidate: [`User ${superuser.id} is not a candidate.`] });

    const res = await call('PATCH', `/api/admin-notes/${note.id}/`, admin.access, { candidate: other.id });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ candidate: other.id, title: 'Moving note', content: 'Doing well.' });
    expect((await call('GET', `/api/admin-notes/${note.id}/`, other.access)).json().title).toBe(
      'Moving note',
    );
    expect((await call('GET', `/api/admin-notes/${note.id}/`, cand.access)).statusCode).toBe(404);
    const [audit] = await auditFor(note.id, 'update');
    expect(audit).toMatchObject({ subjectUserId: other.id, changes: { candidate: [cand.id, other.id] } });
  });

  it('refuses candidates: 403 for a note about them, 404 for any other', async () => {
    const mine = await createNote(cand);
    const theirs = await createNote(other);
    for (const method of ['PUT', 'PATCH', 'DELETE'] as const) {
      const payload = method === 'DELETE' ? undefined : {};
      const own = await call(method, `/api/admin-notes/${mine.id}/`, cand.access, payload);
      expect(own.statusCode, method).toBe(403);
      expect(own.json(), method).toMatchObject({
        detail: 'Candidates cannot modify admin notes.',
        code: 'permission_denied',
      });
      const foreign = await call(method, `/api/admin-notes/${theirs.id}/`, cand.access, payload);
      expect(foreign.statusCode, method).toBe(404);
      const missing = await call(method, '/api/admin-notes/99999999/', cand.access, payload);
      expect(missing.statusCode, method).toBe(404);
    }
    expect((await call('GET', `/api/admin-notes/${mine.id}/`, admin.access)).json()).toEqual(mine);
  });

  it('deletes with 204 and records it', async () => {
    const note = await createNote(cand, { category: 'general', tags: ['x'] });
    const res = await call('DELETE', `/api/admin-notes/${note.id}/`, superuser.access);
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect((await call('GET', `/api/admin-notes/${note.id}/`, admin.access)).statusCode).toBe(404);
    expect((await call('DELETE', `/api/admin-notes/${note.id}/`, admin.access)).statusCode).toBe(404);
    const [audit] = await auditFor(note.id, 'delete');
    expect(audit).toMatchObject({
      actorId: superuser.id,
      subjectUserId: cand.id,
      changes: { category: ['general', null], candidate: [cand.id, null], tags: [['x'], null] },
    });
  });

  it('keeps a note whose author was deleted, with admin null', async () => {
    const author = await createUserWithSession(t, 'admin');
    const note = await createNote(cand, {}, author);
    expect(note.admin).toBe(author.id);
    await t.c.db.delete(users).where(eq(users.id, author.id));
    const res = await call('GET', `/api/admin-notes/${note.id}/`, admin.access);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: note.id, admin: null, title: 'Weekly check-in' });
  });
});

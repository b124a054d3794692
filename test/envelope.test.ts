import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRows } from './helpers/dump.js';
import {
  createTestApp,
  createUserWithSession,
  registerCandidate,
  type TestApp,
  type TestUser,
} from './helpers/app.js';
import {
  journalToPerField,
  noteToPerField,
  profileToPerField,
  submissionToPerField,
} from './helpers/per-field-format.js';

/**
 * One envelope per row (docs/privacy.md#one-envelope-per-row): what is stored, that rows written
 * before records still read and write, that a record only opens on its own row and owner, and what
 * a journal page costs in decryptions.
 */
let t: TestApp;
let alice: TestUser;
let bob: TestUser;
let admin: TestUser;
beforeAll(async () => {
  t = await createTestApp({ RATE_LIMIT_USER: 'off' });
  alice = await registerCandidate(t);
  bob = await registerCandidate(t);
  admin = await createUserWithSession(t, 'admin');
});
afterAll(async () => {
  await t.close();
});

type Json = Record<string, unknown>;
async function call(method: 'GET' | 'POST' | 'PATCH', url: string, token: string, payload?: Json) {
  return t.request({ method, url, token, ...(payload ? { payload } : {}) });
}
async function ok(method: 'GET' | 'POST' | 'PATCH', url: string, token: string, payload?: Json) {
  const res = await call(method, url, token, payload);
  if (res.statusCode !== 200 && res.statusCode !== 201) throw new Error(`${res.statusCode} ${res.body}`);
  return res.json<Json>();
}
const raw = (query: ReturnType<typeof sql>) => rawRows<Json>(t.c.db, query);

const ENTRY = {
  mood: 'good',
  energy_level: 6,
  activities: 'Swam',
  challenges: 'Cold',
  achievements: '1 km',
  notes: 'Tired',
  barriers_faced: 'Stairs',
};
let entryId: number;
let noteId: number;
let submissionId: number;

describe('what a write stores', () => {
  it('every write stores one v2 record per row and leaves the per-field columns empty', async () => {
    entryId = (await ok('POST', '/api/journal/', alice.access, { ...ENTRY, date: '2025-01-01' }))
      .id as number;
    await ok('PATCH', `/api/users/${alice.id}/profile/`, alice.access, {
      diagnosis: 'Asthma',
      address: 'Main',
    });
    noteId = (
      await ok('POST', '/api/admin-notes/', admin.access, {
        candidate: alice.id,
        category: 'medical',
        title: 'Inhaler',
        content: 'Keeps one',
      })
    ).id as number;
    const intake = await ok('POST', '/api/intake/submit/', alice.access, {
      intake_data: { allergies: 'Dust' },
    });
    submissionId = (intake.submission as Json).id as number;
    await ok('PATCH', `/api/intake/submissions/${submissionId}/`, admin.access, { review_notes: 'Seen' });

    const rows = {
      journal: await raw(sql`select * from journal_entries where id = ${entryId}`),
      profile: await raw(sql`select * from user_profiles where user_id = ${alice.id}`),
      note: await raw(sql`select * from admin_notes where id = ${noteId}`),
      submission: await raw(sql`select * from intake_submissions where id = ${submissionId}`),
    };
    const perField = {
      journal: ['activities', 'challenges', 'achievements', 'notes', 'barriers_faced'],
      profile: [
        'id_number',
        'address',
        'diagnosis',
        'allergies',
        'medical_notes',
        'communication_preferences',
      ],
      note: ['title', 'content'],
      submission: ['responses', 'review_notes'],
    };
    for (const [name, [row]] of Object.entries(rows)) {
      expect(row?.sealed, name).toMatch(/^v2\.[A-Za-z0-9_-]{40,}$/);
      for (const column of perField[name as keyof typeof perField])
        expect(row?.[column], `${name}.${column}`).toBeNull();
      expect(JSON.stringify(row)).not.toMatch(/Swam|Asthma|Inhaler|Dust|Seen/);
    }
    // A new account's empty profile is a record too.
    const [fresh] = await raw(sql`select sealed from user_profiles where user_id = ${bob.id}`);
    expect(fresh?.sealed).toMatch(/^v2\./);
  });
});

describe('rows written before records', () => {
  it('read back through every route, and a partial write keeps the fields it does not name', async () => {
    await journalToPerField(t.c, entryId);
    await profileToPerField(t.c, alice.id);
    await noteToPerField(t.c, noteId);
    await submissionToPerField(t.c, submissionId);
    const [old] = await raw(sql`select sealed, activities from journal_entries where id = ${entryId}`);
    expect(old).toMatchObject({ sealed: null, activities: expect.stringMatching(/^v1\./) });

    expect(await ok('GET', `/api/journal/${entryId}/`, alice.access)).toMatchObject(ENTRY);
    expect(((await ok('GET', '/api/journal/', admin.access)).results as Json[])[0]).toMatchObject(ENTRY);
    expect(await ok('GET', `/api/users/${alice.id}/profile/`, admin.access)).toMatchObject({
      diagnosis: 'Asthma',
      address: 'Main',
      allergies: 'Dust',
      medications: null,
    });
    expect(await ok('GET', `/api/admin-notes/${noteId}/`, alice.access)).toMatchObject({
      title: 'Inhaler',
      content: 'Keeps one',
    });
    expect(await ok('GET', `/api/intake/submissions/${submissionId}/`, admin.access)).toMatchObject({
      responses: { allergies: 'Dust' },
      review_notes: 'Seen',
    });

    // Partial writes open the old columns, merge, and store one record.
    expect(await ok('PATCH', `/api/journal/${entryId}/`, alice.access, { notes: 'Rested' })).toMatchObject({
      ...ENTRY,
      notes: 'Rested',
    });
    await ok('PATCH', `/api/users/${alice.id}/profile/`, alice.access, { address: null });
    await ok('PATCH', `/api/admin-notes/${noteId}/`, admin.access, { title: 'Inhaler (blue)' });
    await ok('PATCH', `/api/intake/submissions/${submissionId}/`, admin.access, { status: 'reviewed' });
    expect(await ok('GET', `/api/journal/${entryId}/`, alice.access)).toMatchObject({
      ...ENTRY,
      notes: 'Rested',
    });
    expect(await ok('GET', `/api/users/${alice.id}/profile/`, alice.access)).toMatchObject({
      diagnosis: 'Asthma',
      address: null,
      allergies: 'Dust',
    });
    expect(await ok('GET', `/api/admin-notes/${noteId}/`, admin.access)).toMatchObject({
      title: 'Inhaler (blue)',
      content: 'Keeps one',
    });
    expect(await ok('GET', `/api/intake/submissions/${submissionId}/`, alice.access)).toMatchObject({
      responses: { allergies: 'Dust' },
      review_notes: 'Seen',
      status: 'reviewed',
    });
    for (const [table, key, id] of [
      ['journal_entries', 'id', entryId],
      ['user_profiles', 'user_id', alice.id],
      ['admin_notes', 'id', noteId],
      ['intake_submissions', 'id', submissionId],
    ] as const) {
      const [row] = await raw(
        sql`select * from ${sql.identifier(table)} where ${sql.identifier(key)} = ${id}`,
      );
      expect(row?.sealed, table).toMatch(/^v2\./);
      expect(
        Object.values(row ?? {}).filter((v) => typeof v === 'string' && v.startsWith('v1.')),
        table,
      ).toEqual([]);
    }
  });

  it('the export document holds every field, from records and from per-field rows alike', async () => {
    const exported = async () =>
      JSON.parse((await call('GET', '/api/popia/data-export/', alice.access)).body) as Json;
    const expected = {
      profile: expect.objectContaining({ diagnosis: 'Asthma', allergies: 'Dust', address: null }),
      journal_entries: [expect.objectContaining({ ...ENTRY, notes: 'Rested' })],
      admin_notes: [expect.objectContaining({ title: 'Inhaler (blue)', content: 'Keeps one' })],
      intake_submissions: [
        expect.objectContaining({ responses: { allergies: 'Dust' }, review_notes: 'Seen' }),
      ],
    };
    expect(await exported()).toMatchObject(expected);
    await journalToPerField(t.c, entryId);
    await profileToPerField(t.c, alice.id);
    await noteToPerField(t.c, noteId);
    await submissionToPerField(t.c, submissionId);
    expect(await exported()).toMatchObject(expected);
  });
});

describe('a record opens only on its own row, of its own owner', () => {
  it('copied to another row of the same owner, or to another owner’s row: the answer of undecryptable data', async () => {
    const second = (await ok('POST', '/api/journal/', alice.access, { ...ENTRY, date: '2025-01-02' }))
      .id as number;
    const bobs = (await ok('POST', '/api/journal/', bob.access, { ...ENTRY, date: '2025-01-03' }))
      .id as number;
    const first = (await ok('POST', '/api/journal/', alice.access, { ...ENTRY, date: '2025-01-04' }))
      .id as number;
    await t.c.db.execute(
      sql`update journal_entries set sealed = (select sealed from journal_entries where id = ${first}) where id in (${second}, ${bobs})`,
    );
    for (const [url, token] of [
      [`/api/journal/${second}/`, alice.access],
      [`/api/journal/${bobs}/`, bob.access],
      ['/api/journal/', bob.access],
    ] as const) {
      const res = await call('GET', url, token);
      expect(res.statusCode, url).toBe(500);
      expect(res.json()).toEqual({
        detail: 'An unexpected error occurred. Please try again later.',
        code: 'server_error',
        error_id: expect.stringMatching(/^[0-9a-f]{8}$/),
      });
      expect(res.body).not.toContain('Swam');
    }
    expect(await ok('GET', `/api/journal/${first}/`, alice.access)).toMatchObject(ENTRY);

    // A note's record copied to a note about another candidate: that note lists as unreadable.
    const bobsNote = (
      await ok('POST', '/api/admin-notes/', admin.access, {
        candidate: bob.id,
        category: 'general',
        title: 'Bob',
        content: 'Fine',
      })
    ).id as number;
    const fresh = (
      await ok('POST', '/api/admin-notes/', admin.access, {
        candidate: alice.id,
        category: 'general',
        title: 'A',
        content: 'B',
      })
    ).id as number;
    await t.c.db.execute(
      sql`update admin_notes set sealed = (select sealed from admin_notes where id = ${fresh}) where id = ${bobsNote}`,
    );
    expect((await call('GET', `/api/admin-notes/${bobsNote}/`, admin.access)).statusCode).toBe(500);
    const list = (await ok('GET', `/api/admin-notes/?candidate=${bob.id}`, admin.access)).results as Json[];
    expect(list.find((n) => n.id === bobsNote)).toMatchObject({
      title: '[unreadable]',
      content: '[unreadable]',
    });
  });
});

describe('decryptions per journal page', () => {
  it('20 entries: 20 record openings with records, 100 field decryptions in the per-field format', async () => {
    const carol = await registerCandidate(t);
    const ids: number[] = [];
    for (let day = 1; day <= 20; day += 1) {
      const date = `2025-02-${String(day).padStart(2, '0')}`;
      ids.push((await ok('POST', '/api/journal/', carol.access, { ...ENTRY, date })).id as number);
    }
    const counted = async () => {
      const { cipher } = t.c;
      const counts = { decrypt: 0, openRecord: 0 };
      const decrypt = cipher.decrypt.bind(cipher);
      const openRecord = cipher.openRecord.bind(cipher);
      cipher.decrypt = (...args) => ((counts.decrypt += 1), decrypt(...args));
      cipher.openRecord = (...args) => ((counts.openRecord += 1), openRecord(...args));
      try {
        const page = await ok('GET', '/api/journal/?page_size=20', carol.access);
        expect(page.results).toHaveLength(20);
      } finally {
        cipher.decrypt = decrypt;
        cipher.openRecord = openRecord;
      }
      return counts;
    };
    expect(await counted()).toEqual({ decrypt: 0, openRecord: 20 });
    for (const id of ids) await journalToPerField(t.c, id);
    expect(await counted()).toEqual({ decrypt: 100, openRecord: 0 });
  });
});

import { and, desc, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, journalEntries } from '../src/db/schema.js';
import { addDays, utcToday } from '../src/lib/time.js';
import {
  createTestApp,
  createUserWithSession,
  registerCandidate,
  type TestApp,
  type TestUser,
} from './helpers/app.js';

let t: TestApp;
let alice: TestUser; // candidate
let bob: TestUser; // candidate
let admin: TestUser;
let superuser: TestUser;

beforeAll(async () => {
  t = await createTestApp();
  alice = await registerCandidate(t);
  bob = await registerCandidate(t);
  admin = await createUserWithSession(t, 'admin');
  superuser = await createUserWithSession(t, 'superuser');
});
afterAll(async () => {
  await t.close();
});

const ENTRY_KEYS = [
  'id',
  'date',
  'mood',
  'energy_level',
  'activities',
  'challenges',
  'achievements',
  'notes',
  'barriers_faced',
  'barrier_count',
  'created_at',
  'updated_at',
  'user',
];

interface Entry {
  id: number;
  date: string;
  mood: string;
  energy_level: number;
  activities: string;
  challenges: string;
  achievements: string;
  notes: string;
  barriers_faced: string;
  barrier_count: number;
  created_at: string;
  updated_at: string;
  user: number;
}
interface EntryPage {
  count: number;
  next: string | null;
  previous: string | null;
  results: Entry[];
}

const today = () => utcToday(t.c.now());
/** A distinct date per call, far from the dates the stats tests use. */
let dayOffset = 0;
const nextDate = () => addDays('2001-01-01', (dayOffset += 1));

const send = (
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  token: string,
  payload?: unknown,
) => t.request({ method, url, token, ...(payload === undefined ? {} : { payload: payload as object }) });

async function createEntry(user: TestUser, body: Record<string, unknown> = {}): Promise<Entry> {
  const res = await send('POST', '/api/journal/', user.access, {
    date: nextDate(),
    mood: 'good',
    energy_level: 6,
    activities: 'Went for a walk',
    ...body,
  });
  if (res.statusCode !== 201) throw new Error(`create failed: ${res.statusCode} ${res.body}`);
  return res.json<Entry>();
}

const auditRows = (id: number) =>
  t.c.db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.resourceType, 'journal_entry'), eq(auditLog.resourceId, String(id))))
    .orderBy(auditLog.id);

describe('POST /journal/', () => {
  it('writes an entry in four statements: begin, the insert, its audit, commit', async () => {
    const user = await registerCandidate(t);
    await createEntry(user); // the first write creates the owner's data key
    const counts: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      await t.c.jobs.idle(); // background e-mails of sign-ups done: only this request counts
      const before = t.c.database.statementCount();
      await createEntry(user);
      counts.push(t.c.database.statementCount() - before);
    }
    // One create in 64 also reserves the next block of ids. (PGlite's driver sends begin and commit
    // without the statement logger: two there.)
    expect(Math.min(...counts)).toBe(t.c.database.kind === 'pglite' ? 2 : 4);
    const sameDay = nextDate();
    await createEntry(user, { date: sameDay });
    const again = await send('POST', '/api/journal/', user.access, {
      date: sameDay,
      mood: 'good',
      energy_level: 5,
      activities: 'again',
    });
    expect(again.statusCode).toBe(400);
    expect(again.json()).toMatchObject({
      errors: { date: ['You already have a journal entry for this date.'] },
    });
  });

  it('of concurrent entries for one date exactly one is written; the others get the field error', async () => {
    const user = await registerCandidate(t);
    const date = nextDate();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        send('POST', '/api/journal/', user.access, {
          date,
          mood: 'good',
          energy_level: 5,
          activities: `try ${i}`,
        }),
      ),
    );
    const statuses = results.map((r) => r.statusCode).sort();
    expect(statuses).toEqual([201, 400, 400, 400, 400, 400, 400, 400]);
    for (const r of results.filter((x) => x.statusCode === 400)) {
      expect(r.json()).toMatchObject({
        errors: { date: ['You already have a journal entry for this date.'] },
      });
    }
    const list = await send('GET', `/api/journal/?date_from=${date}&date_to=${date}`, user.access);
    expect(list.json<{ count: number }>().count).toBe(1);
  });

  it('creates an entry owned by the caller: keys in order, text trimmed and escaped, defaults', async () => {
    const date = nextDate();
    const res = await send('POST', '/api/journal/', alice.access, {
      date,
      mood: 'excellent',
      energy_level: '7',
      activities: '  <b>Interview</b> & "prep" \'ok\'  ',
      user: bob.id,
      id: 999_999,
      created_at: '2000-01-01T00:00:00+02:00',
    });
    expect(res.statusCode).toBe(201);
    const body = res.json<Entry>();
    expect(Object.keys(body)).toEqual(ENTRY_KEYS);
    expect(body).toMatchObject({
      date,
      mood: 'excellent',
      energy_level: 7,
      activities: '&lt;b&gt;Interview&lt;/b&gt; &amp; &quot;prep&quot; &#x27;ok&#x27;',
      challenges: '',
      achievements: '',
      notes: '',
      barriers_faced: '',
      barrier_count: 0,
      user: alice.id,
    });
    expect(body.id).not.toBe(999_999);
    expect(body.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?[+-]\d{2}:\d{2}$/);
    expect(body.created_at).not.toContain('2000-01-01');
    expect(res.headers['cache-control']).toBe('no-store');

    const got = await send('GET', `/api/journal/${body.id}/`, alice.access);
    expect(got.statusCode).toBe(200);
    expect(got.json()).toEqual(body);

    const [audit] = await auditRows(body.id);
    expect(audit).toMatchObject({
      action: 'create',
      actorId: alice.id,
      subjectUserId: alice.id,
      outcome: 'success',
    });
    expect(audit?.fields).toEqual(ENTRY_KEYS.slice(1, 10));
    expect(audit?.changes).toEqual({
      date: [null, date],
      mood: [null, 'excellent'],
      energy_level: [null, 7],
      barrier_count: [null, 0],
    });
    expect(JSON.stringify(audit)).not.toContain('Interview');
  });

  it('stores the encrypted fields as ciphertext only', async () => {
    const entry = await createEntry(alice, {
      activities: 'Plaintext-marker activities',
      notes: 'Plaintext-marker notes',
    });
    const rows = await t.c.db
      .select({
        sealed: journalEntries.sealed,
        activities: journalEntries.activities,
        notes: journalEntries.notes,
      })
      .from(journalEntries)
      .where(eq(journalEntries.id, entry.id));
    // One record for the five fields; the per-field columns (of rows written before records) are empty.
    expect(rows[0]?.sealed).toMatch(/^v2\./);
    expect(rows[0]?.sealed).not.toContain('Plaintext-marker');
    expect(rows[0]).toMatchObject({ activities: null, notes: null });
  });

  it('reports every missing required field of an empty body at once', async () => {
    for (const payload of [{}, undefined]) {
      const res = await send('POST', '/api/journal/', alice.access, payload);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({
        detail: 'Validation error',
        code: 'validation_error',
        errors: {
          date: ['This field is required.'],
          mood: ['This field is required.'],
          energy_level: ['This field is required.'],
          activities: ['This field is required.'],
        },
      });
      expect(Object.keys(res.json<{ errors: object }>().errors).sort()).toEqual([
        'activities',
        'date',
        'energy_level',
        'mood',
      ]);
    }
  });

  it('words each field error as the original, all fields together', async () => {
    const long = (n: number) => 'x'.repeat(n);
    const res = await send('POST', '/api/journal/', alice.access, {
      date: '2024-02-30',
      mood: 'happy',
      energy_level: 11,
      activities: '   ',
      challenges: long(5001),
      achievements: long(5001),
      notes: long(10_001),
      barriers_faced: long(5001),
      barrier_count: -1,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json<{ errors: unknown }>().errors).toEqual({
      date: ['Date has wrong format. Use one of these formats instead: YYYY-MM-DD.'],
      mood: ['"happy" is not a valid choice.'],
      energy_level: ['"11" is not a valid choice.'],
      activities: ['This field may not be blank.'],
      challenges: ['Text exceeds maximum length of 5000 characters (got 5001)'],
      achievements: ['Text exceeds maximum length of 5000 characters (got 5001)'],
      notes: ['Text exceeds maximum length of 10000 characters (got 10001)'],
      barriers_faced: ['Text exceeds maximum length of 5000 characters (got 5001)'],
      barrier_count: ['barrier_count must be a positive integer'],
    });
  });

  it.each<[string, string, Record<string, unknown>]>([
    ['energy_level', '"0" is not a valid choice.', { energy_level: 0 }],
    ['energy_level', '"11" is not a valid choice.', { energy_level: '11' }],
    ['energy_level', '"high" is not a valid choice.', { energy_level: 'high' }],
    ['barrier_count', 'barrier_count must be 100 or less (got 101)', { barrier_count: 101 }],
    ['barrier_count', 'A valid integer is required.', { barrier_count: 'many' }],
    ['barrier_count', 'A valid integer is required.', { barrier_count: 1.5 }],
    ['date', 'Date has wrong format. Use one of these formats instead: YYYY-MM-DD.', { date: '12/03/2024' }],
    [
      'activities',
      'Text exceeds maximum length of 5000 characters (got 5001)',
      { activities: 'a'.repeat(5001) },
    ],
    ['activities', 'Not a valid string.', { activities: 42 }],
  ])('refuses %s: %s', async (field, message, patch) => {
    const res = await send('POST', '/api/journal/', alice.access, {
      date: nextDate(),
      mood: 'okay',
      energy_level: 5,
      activities: 'Reading',
      ...patch,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json<{ errors: Record<string, string[]> }>().errors).toEqual({ [field]: [message] });
  });

  it('re-checks the length of activities after escaping', async () => {
    const res = await send('POST', '/api/journal/', alice.access, {
      date: nextDate(),
      mood: 'okay',
      energy_level: 5,
      activities: `${'a'.repeat(4995)}<<`, // 4997 raw, 5003 escaped
    });
    expect(res.statusCode).toBe(400);
    expect(res.json<{ errors: unknown }>().errors).toEqual({
      activities: ['Activities exceeds maximum length of 5000 characters (got 5003)'],
    });
  });

  it('accepts the boundaries: energy 1 and 10, barrier_count 0 and 100, a future date', async () => {
    const future = addDays(today(), 400);
    const a = await createEntry(alice, { energy_level: 1, barrier_count: 100, date: future });
    const b = await createEntry(alice, { energy_level: '10', barrier_count: '0' });
    expect([a.energy_level, a.barrier_count, a.date]).toEqual([1, 100, future]);
    expect([b.energy_level, b.barrier_count]).toEqual([10, 0]);
  });

  it('answers a second entry on the same date with 400 errors.date (not 500)', async () => {
    const first = await createEntry(alice);
    const res = await send('POST', '/api/journal/', alice.access, {
      date: first.date,
      mood: 'okay',
      energy_level: 4,
      activities: 'again',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      code: 'validation_error',
      errors: { date: ['You already have a journal entry for this date.'] },
    });
    // Another user may use the same date.
    const other = await createEntry(bob, { date: first.date });
    expect(other.date).toBe(first.date);
  });

  it('requires authentication', async () => {
    const res = await t.request({ method: 'POST', url: '/api/journal/', payload: {} });
    expect(res.statusCode).toBe(401);
  });

  it('keeps long and unusual Unicode text intact', async () => {
    const texts = {
      activities: '🧘‍♀️ Meditation 👩🏽‍💻 coding — naïve café',
      challenges: 'مرحبا بالعالم · שלום עולם ‏RTL‏ mixed ltr',
      achievements: 'Z̴̡̛a̶͚͝l̷̰̈g̴͎̓o and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𠜎𠜱 and \u200b zero-width',
      notes: '😀'.repeat(10_000),
      barriers_faced: `line one\nline two\ttabbed ${'ß'.repeat(4900)}`,
    };
    const created = await createEntry(alice, texts);
    const got = (await send('GET', `/api/journal/${created.id}/`, alice.access)).json<Entry>();
    expect(got).toMatchObject(texts);
    expect(created).toMatchObject(texts);
  });
});

describe('GET /journal/ and pagination', () => {
  let carol: TestUser;
  let carolEntries: Entry[];
  beforeAll(async () => {
    carol = await registerCandidate(t);
    carolEntries = [];
    for (let i = 0; i < 21; i += 1) {
      carolEntries.push(
        await createEntry(carol, { date: addDays('2010-05-01', i), energy_level: (i % 10) + 1 }),
      );
    }
  });

  it('lists own entries 20 per page, newest date first, with a next link', async () => {
    const res = await send('GET', '/api/journal/', carol.access);
    expect(res.statusCode).toBe(200);
    const page = res.json<EntryPage>();
    expect(Object.keys(page)).toEqual(['count', 'next', 'previous', 'results']);
    expect(page.count).toBe(21);
    expect(page.results).toHaveLength(20);
    expect(page.next).toBe('http://localhost/api/journal/?page=2');
    expect(page.previous).toBeNull();
    const expected = [...carolEntries].sort((a, b) => b.date.localeCompare(a.date));
    expect(page.results.map((e) => e.id)).toEqual(expected.slice(0, 20).map((e) => e.id));
    expect(Object.keys(page.results[0] ?? {})).toEqual(ENTRY_KEYS);
    expect(page.results[0]).toEqual(expected[0]);

    const second = (await send('GET', '/api/v1/journal/?page=2', carol.access)).json<EntryPage>();
    expect(second.results.map((e) => e.id)).toEqual([expected[20]?.id]);
    expect(second.next).toBeNull();
    expect(second.previous).toBe('http://localhost/api/v1/journal/');

    const past = await send('GET', '/api/journal/?page=99', carol.access);
    expect(past.statusCode).toBe(404);
    expect(past.json()).toMatchObject({ detail: 'Invalid page.' });
  });

  it('shows a candidate only their own entries, even with ?user=', async () => {
    const res = await send('GET', `/api/journal/?user=${carol.id}&page_size=100`, alice.access);
    const page = res.json<EntryPage>();
    expect(page.count).toBeGreaterThan(0);
    expect(page.results.every((e) => e.user === alice.id)).toBe(true);
  });

  it('shows staff every entry, ordered by date then id, and filters by ?user=', async () => {
    for (const staff of [admin, superuser]) {
      const all = (await send('GET', '/api/journal/?page_size=100', staff.access)).json<EntryPage>();
      const [{ n } = { n: 0 }] = await t.c.db.select({ n: sql<number>`count(*)::int` }).from(journalEntries);
      expect(all.count).toBe(n);
      const owners = new Set(all.results.map((e) => e.user));
      expect(owners.has(alice.id) && owners.has(carol.id)).toBe(true);
      for (let i = 1; i < all.results.length; i += 1) {
        const [a, b] = [all.results[i - 1], all.results[i]];
        if (!a || !b) continue;
        expect(a.date > b.date || (a.date === b.date && a.id > b.id)).toBe(true);
      }
      const carols = (await send('GET', `/api/journal/?user=${carol.id}`, staff.access)).json<EntryPage>();
      expect(carols.count).toBe(21);
      expect(carols.results.every((e) => e.user === carol.id)).toBe(true);
    }
    const bad = await send('GET', '/api/journal/?user=abc', admin.access);
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ errors: { user: ['A valid integer is required.'] } });
  });

  it('orders entries of the same date by id descending', async () => {
    const date = nextDate();
    const a = await createEntry(alice, { date });
    const b = await createEntry(bob, { date });
    const page = (
      await send('GET', `/api/journal/?date_from=${date}&date_to=${date}`, admin.access)
    ).json<EntryPage>();
    expect(page.results.map((e) => e.id)).toEqual([b.id, a.id]);
  });

  it('filters by inclusive date range and mood', async () => {
    const res = await send('GET', '/api/journal/?date_from=2010-05-03&date_to=2010-05-05', carol.access);
    expect(res.json<EntryPage>().results.map((e) => e.date)).toEqual([
      '2010-05-05',
      '2010-05-04',
      '2010-05-03',
    ]);

    const dave = await registerCandidate(t);
    await createEntry(dave, { mood: 'difficult' });
    await createEntry(dave, { mood: 'good' });
    await createEntry(dave, { mood: 'difficult' });
    const moods = (await send('GET', '/api/journal/?mood=difficult', dave.access)).json<EntryPage>();
    expect(moods.count).toBe(2);
    expect(moods.results.every((e) => e.mood === 'difficult')).toBe(true);
    // An empty filter is no filter.
    expect((await send('GET', '/api/journal/?mood=&date_from=', dave.access)).json<EntryPage>().count).toBe(
      3,
    );
  });

  it('refuses bad filter values with field errors', async () => {
    const cases: [string, string][] = [
      ['date_from=2024-13-01', 'date_from'],
      ['date_to=yesterday', 'date_to'],
      ['mood=ecstatic', 'mood'],
    ];
    for (const [query, field] of cases) {
      const res = await send('GET', `/api/journal/?${query}`, alice.access);
      expect(res.statusCode).toBe(400);
      expect(Object.keys(res.json<{ errors: object }>().errors)).toEqual([field]);
    }
    const mood = await send('GET', '/api/journal/?mood=ecstatic', alice.access);
    expect(mood.json()).toMatchObject({ errors: { mood: ['"ecstatic" is not a valid choice.'] } });
  });

  it('issues the same number of SQL statements for 1 or 20 rows per page', async () => {
    for (const user of [carol, admin]) {
      // Warm up (session activity, data-key cache) so both measured requests do the same work.
      await send('GET', '/api/journal/?page_size=100', user.access);
      const measure = async (size: number) => {
        await t.c.jobs.idle(); // background e-mails of sign-ups done: only this request counts
        const before = t.c.database.statementCount();
        const res = await send('GET', `/api/journal/?page_size=${size}`, user.access);
        expect(res.statusCode).toBe(200);
        expect(res.json<EntryPage>().results).toHaveLength(size);
        return t.c.database.statementCount() - before;
      };
      const one = await measure(1);
      const twenty = await measure(20);
      expect(twenty).toBe(one);
    }
  });
});

describe('GET/PUT/PATCH/DELETE /journal/<id>/', () => {
  it("answers another candidate's entry exactly like a missing one (404)", async () => {
    const entry = await createEntry(alice);
    for (const [method, payload] of [
      ['GET', undefined],
      ['PATCH', { mood: 'okay' }],
      ['PUT', { date: nextDate(), mood: 'okay', energy_level: 3, activities: 'x' }],
      ['DELETE', undefined],
    ] as const) {
      const res = await send(method, `/api/journal/${entry.id}/`, bob.access, payload);
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ detail: 'Not found.', code: 'not_found' });
      const missing = await send(method, '/api/journal/987654321/', bob.access, payload);
      expect(missing.statusCode).toBe(404);
      expect(missing.json()).toMatchObject({ detail: 'Not found.', code: 'not_found' });
    }
    expect((await send('GET', '/api/journal/abc/', alice.access)).statusCode).toBe(404);
    // Bug #21: an entry whose id equals the caller's user id is not theirs for that reason.
    const got = await send('GET', `/api/journal/${entry.id}/`, alice.access);
    expect(got.json<Entry>().activities).toBe('Went for a walk');
    // The create, and bob's four refused attempts (privacy.md §6); nothing for the missing id.
    const audits = await auditRows(entry.id);
    expect(audits.map((r) => [r.action, r.outcome, r.actorId])).toEqual([
      ['create', 'success', alice.id],
      ['read', 'denied', bob.id],
      ['update', 'denied', bob.id],
      ['update', 'denied', bob.id],
      ['delete', 'denied', bob.id],
    ]);
  });

  it('PATCH writes only the given field and bumps updated_at', async () => {
    const entry = await createEntry(alice, { notes: 'Keep me', barrier_count: 4 });
    t.clock.advance(5);
    const res = await send('PATCH', `/api/journal/${entry.id}/`, alice.access, { mood: 'very_difficult' });
    expect(res.statusCode).toBe(200);
    const body = res.json<Entry>();
    expect(Object.keys(body)).toEqual(ENTRY_KEYS);
    expect(body).toEqual({ ...entry, mood: 'very_difficult', updated_at: body.updated_at });
    expect(body.updated_at).not.toBe(entry.updated_at);
    const audit = (await auditRows(entry.id)).at(-1);
    expect(audit).toMatchObject({
      action: 'update',
      fields: ['mood'],
      changes: { mood: ['good', 'very_difficult'] },
      subjectUserId: alice.id,
    });
  });

  it('PATCH validates the fields given', async () => {
    const entry = await createEntry(alice);
    const res = await send('PATCH', `/api/journal/${entry.id}/`, alice.access, {
      activities: '',
      barrier_count: 500,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json<{ errors: unknown }>().errors).toEqual({
      activities: ['This field may not be blank.'],
      barrier_count: ['barrier_count must be 100 or less (got 500)'],
    });
  });

  it("moving an entry onto another of the owner's dates is a 400; its own date is fine", async () => {
    const a = await createEntry(alice);
    const b = await createEntry(alice);
    const clash = await send('PATCH', `/api/journal/${b.id}/`, alice.access, { date: a.date });
    expect(clash.statusCode).toBe(400);
    expect(clash.json()).toMatchObject({
      errors: { date: ['You already have a journal entry for this date.'] },
    });
    const put = await send('PUT', `/api/journal/${b.id}/`, admin.access, {
      date: a.date,
      mood: 'good',
      energy_level: 5,
      activities: 'x',
    });
    expect(put.statusCode).toBe(400);
    const same = await send('PATCH', `/api/journal/${b.id}/`, alice.access, { date: b.date });
    expect(same.statusCode).toBe(200);
  });

  it('PUT requires date, mood, energy_level and activities, and keeps absent optional fields', async () => {
    const entry = await createEntry(alice, { challenges: 'Stairs', barrier_count: 2 });
    const missing = await send('PUT', `/api/journal/${entry.id}/`, alice.access, { mood: 'good' });
    expect(missing.statusCode).toBe(400);
    expect(missing.json<{ errors: unknown }>().errors).toEqual({
      date: ['This field is required.'],
      energy_level: ['This field is required.'],
      activities: ['This field is required.'],
    });
    const date = nextDate();
    const res = await send('PUT', `/api/journal/${entry.id}/`, alice.access, {
      date,
      mood: 'okay',
      energy_level: 9,
      activities: 'New <activity>',
      notes: 'n',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      id: entry.id,
      date,
      mood: 'okay',
      energy_level: 9,
      activities: 'New &lt;activity&gt;',
      challenges: 'Stairs',
      notes: 'n',
      barrier_count: 2,
      user: alice.id,
    });
  });

  it("lets an admin read and edit a candidate's entry under the owner's key, audited", async () => {
    const entry = await createEntry(alice, { activities: 'Original' });
    const got = await send('GET', `/api/journal/${entry.id}/`, admin.access);
    expect(got.statusCode).toBe(200);
    expect(got.json()).toEqual(entry);

    const res = await send('PATCH', `/api/journal/${entry.id}/`, admin.access, {
      activities: 'Edited by staff',
      energy_level: 2,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ activities: 'Edited by staff', energy_level: 2, user: alice.id });
    // The owner still reads it: it was sealed with the owner's data key.
    const own = await send('GET', `/api/journal/${entry.id}/`, alice.access);
    expect(own.json()).toMatchObject({ activities: 'Edited by staff', energy_level: 2 });

    const audit = (await auditRows(entry.id)).at(-1);
    expect(audit).toMatchObject({
      action: 'update',
      actorId: admin.id,
      actorRole: 'admin',
      subjectUserId: alice.id,
      fields: ['energy_level', 'activities'],
      changes: { energy_level: [6, 2] },
    });
    expect(JSON.stringify(audit)).not.toContain('Edited by staff');
  });

  it('deletes for the owner and for a superuser (204), audited', async () => {
    const own = await createEntry(bob);
    const res = await send('DELETE', `/api/journal/${own.id}/`, bob.access);
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect((await send('GET', `/api/journal/${own.id}/`, bob.access)).statusCode).toBe(404);

    const other = await createEntry(bob);
    const bySuper = await send('DELETE', `/api/journal/${other.id}/`, superuser.access);
    expect(bySuper.statusCode).toBe(204);
    const rows = await t.c.db.select().from(journalEntries).where(eq(journalEntries.id, other.id));
    expect(rows).toHaveLength(0);
    const audit = (await auditRows(other.id)).at(-1);
    expect(audit).toMatchObject({
      action: 'delete',
      actorId: superuser.id,
      actorRole: 'superuser',
      subjectUserId: bob.id,
    });
    // The date is free again.
    expect((await createEntry(bob, { date: other.date })).date).toBe(other.date);
  });
});

describe('GET /journal/stats/', () => {
  it('answers zeros without entries, with 0.0 as a float', async () => {
    const erin = await registerCandidate(t);
    const res = await send('GET', '/api/journal/stats/', erin.access);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.body).toBe(
      '{"total_entries":0,"last_entry_date":null,"recent_barriers":0,"avg_energy_level":0.0}',
    );
  });

  it('computes count, latest date, barriers of the last 7 days and the mean energy', async () => {
    const frank = await registerCandidate(t);
    const d = today();
    await createEntry(frank, { date: d, energy_level: 7, barrier_count: 2 });
    await createEntry(frank, { date: addDays(d, -7), energy_level: 8, barrier_count: 3 });
    await createEntry(frank, { date: addDays(d, -8), energy_level: 9, barrier_count: 10 });
    await createEntry(frank, { date: addDays(d, 1), energy_level: 6, barrier_count: 1 });
    const res = await send('GET', '/api/v1/journal/stats/', frank.access);
    expect(res.statusCode).toBe(200);
    expect(Object.keys(res.json())).toEqual([
      'total_entries',
      'last_entry_date',
      'recent_barriers',
      'avg_energy_level',
    ]);
    expect(res.json()).toEqual({
      total_entries: 4,
      last_entry_date: addDays(d, 1),
      recent_barriers: 6,
      avg_energy_level: 7.5,
    });
    expect(res.body).toContain('"avg_energy_level":7.5}');
  });

  it('writes a whole mean as 8.0 and leaves unrounded means as they are', async () => {
    const gina = await registerCandidate(t);
    await createEntry(gina, { energy_level: 8 });
    await createEntry(gina, { energy_level: 8 });
    const whole = await send('GET', '/api/journal/stats/', gina.access);
    expect(whole.body).toContain('"avg_energy_level":8.0}');
    await createEntry(gina, { energy_level: 9 });
    const third = (await send('GET', '/api/journal/stats/', gina.access)).json<{
      avg_energy_level: number;
    }>();
    expect(third.avg_energy_level).toBeCloseTo(25 / 3, 12);
  });

  it('covers every entry for admins and superusers', async () => {
    const [agg] = await t.c.db
      .select({
        n: sql<number>`count(*)::int`,
        last: sql<string>`max(${journalEntries.date})::text`,
        avg: sql<number>`avg(${journalEntries.energyLevel})::float8`,
      })
      .from(journalEntries);
    for (const staff of [admin, superuser]) {
      const body = (await send('GET', '/api/journal/stats/', staff.access)).json<Record<string, unknown>>();
      expect(body.total_entries).toBe(agg?.n);
      expect(body.last_entry_date).toBe(agg?.last);
      expect(body.avg_energy_level).toBeCloseTo(Number(agg?.avg), 10);
    }
  });
});

describe('routing', () => {
  it('serves stats before the id route and lists the latest audit entries for the journal', async () => {
    const res = await send('GET', '/api/journal/stats/', alice.access);
    expect(res.statusCode).toBe(200);
    const latest = await t.c.db
      .select({ action: auditLog.action })
      .from(auditLog)
      .where(eq(auditLog.resourceType, 'journal_entry'))
      .orderBy(desc(auditLog.id))
      .limit(1);
    expect(latest).toHaveLength(1);
  });
});

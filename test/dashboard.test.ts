import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminNotes, journalEntries, users } from '../src/db/schema.js';
import { addDays, utcToday } from '../src/lib/time.js';
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
beforeAll(async () => {
  t = await createTestApp();
  admin = await createUserWithSession(t, 'admin');
  superuser = await createUserWithSession(t, 'superuser');
});
afterAll(async () => {
  await t.close();
});

const DAY = 86_400_000;
type AdminStatsBody = {
  total_candidates: number;
  pending_intake: number;
  total_admin_notes: number;
  recent_admin_notes: number;
};
const get = (url: string, token: string) => t.request({ method: 'GET', url, token });

type Mood = (typeof journalEntries.$inferInsert)['mood'];
/** A journal row written directly (the stats never read its encrypted text). */
async function entry(
  user: TestUser,
  values: { date: string; mood?: Mood; energy?: number; barriers?: number; createdAt?: Date },
) {
  const at = values.createdAt ?? t.c.now();
  await t.c.db.insert(journalEntries).values({
    userId: user.id,
    date: values.date,
    mood: values.mood ?? 'okay',
    energyLevel: values.energy ?? 5,
    activities: 'x',
    challenges: '',
    achievements: '',
    notes: '',
    barriersFaced: '',
    barrierCount: values.barriers ?? 0,
    createdAt: at,
    updatedAt: at,
  });
}

async function completeIntake(user: TestUser) {
  await t.c.db.update(users).set({ hasCompletedIntake: true }).where(eq(users.id, user.id));
}

async function note(about: TestUser, createdAt?: Date) {
  if (!createdAt) {
    const res = await t.request({
      method: 'POST',
      url: '/api/admin-notes/',
      token: admin.access,
      payload: { candidate: about.id, category: 'general', title: 'T', content: 'C' },
    });
    expect(res.statusCode).toBe(201);
    return;
  }
  await t.c.db.insert(adminNotes).values({
    candidateId: about.id,
    adminId: admin.id,
    category: 'general',
    title: 'x',
    content: 'x',
    createdAt,
  });
}

describe('GET dashboard/admin-stats/', () => {
  it('counts candidates, intake, the week’s barriers, entries and notes exactly', async () => {
    const empty = await get('/api/dashboard/admin-stats/', admin.access);
    expect(empty.statusCode).toBe(200);
    expect(empty.body).toBe(
      '{"total_candidates":0,"active_candidates":0,"pending_intake":0,"recent_barriers":0,"recent_entries":0,"total_admin_notes":0,"recent_admin_notes":0}',
    );

    const [a, b, c] = [await registerCandidate(t), await registerCandidate(t), await registerCandidate(t)];
    await completeIntake(a);
    // An inactive candidate still counts.
    await t.c.db.update(users).set({ isActive: false }).where(eq(users.id, c.id));

    const now = t.c.now();
    const weekStart = new Date(now.getTime() - 7 * DAY);
    const weekDate = utcToday(weekStart);
    // Barriers: by `date` ≥ UTC date of the week start; entries: by `created_at` ≥ the week start.
    await entry(a, { date: weekDate, barriers: 3, createdAt: weekStart });
    await entry(a, {
      date: addDays(weekDate, -1),
      barriers: 50,
      createdAt: new Date(weekStart.getTime() - 1),
    });
    await entry(b, {
      date: addDays(weekDate, 30),
      barriers: 4,
      createdAt: new Date(now.getTime() - 8 * DAY),
    });
    await entry(c, { date: utcToday(now), barriers: 0 });
    await note(a);
    await note(b);
    await note(b, new Date(weekStart.getTime() - 1000));

    const res = await get('/api/dashboard/admin-stats/', admin.access);
    expect(res.statusCode).toBe(200);
    expect(Object.keys(res.json())).toEqual([
      'total_candidates',
      'active_candidates',
      'pending_intake',
      'recent_barriers',
      'recent_entries',
      'total_admin_notes',
      'recent_admin_notes',
    ]);
    expect(res.json()).toEqual({
      total_candidates: 3,
      active_candidates: 1,
      pending_intake: 2,
      recent_barriers: 7,
      recent_entries: 2,
      total_admin_notes: 3,
      recent_admin_notes: 2,
    });

    // The alias and the /api/v1 prefix answer the same, for superusers too (known bug #22).
    for (const url of [
      '/api/dashboard/stats/',
      '/api/v1/dashboard/admin-stats/',
      '/api/v1/dashboard/stats/',
    ]) {
      const other = await get(url, superuser.access);
      expect(other.statusCode, url).toBe(200);
      expect(other.body, url).toBe(res.body);
    }
  });

  it('reflects every write at once, and moves with the clock', async () => {
    const before = (await get('/api/dashboard/admin-stats/', admin.access)).json<AdminStatsBody>();
    const d = await registerCandidate(t);
    await note(d);
    const after = (await get('/api/dashboard/stats/', admin.access)).json<AdminStatsBody>();
    expect(after.total_candidates).toBe(before.total_candidates + 1);
    expect(after.pending_intake).toBe(before.pending_intake + 1);
    expect(after.total_admin_notes).toBe(before.total_admin_notes + 1);
    expect(after.recent_admin_notes).toBe(before.recent_admin_notes + 1);

    t.clock.advance(8 * 86_400);
    // Access tokens expired meanwhile: staff for the rest of the file log in anew.
    admin = await createUserWithSession(t, 'admin');
    superuser = await createUserWithSession(t, 'superuser');
    const later = (await get('/api/dashboard/admin-stats/', admin.access)).json();
    expect(later).toMatchObject({
      recent_entries: 0,
      recent_admin_notes: 0,
      total_admin_notes: after.total_admin_notes,
    });
  });

  it('refuses candidates with "Forbidden"', async () => {
    const cand = await registerCandidate(t);
    for (const url of ['/api/dashboard/admin-stats/', '/api/dashboard/stats/']) {
      const res = await get(url, cand.access);
      expect(res.statusCode, url).toBe(403);
      expect(res.json(), url).toMatchObject({ detail: 'Forbidden', code: 'permission_denied' });
    }
  });
});

describe('GET dashboard/candidate-stats/', () => {
  const stats = async (user: TestUser) => {
    const res = await get('/api/dashboard/candidate-stats/', user.access);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    return res;
  };

  it('answers zeros, an integer 0 average and an empty distribution without entries', async () => {
    const cand = await registerCandidate(t);
    expect((await stats(cand)).body).toBe(
      '{"total_entries":0,"last_entry_date":null,"avg_energy_level":0,"recent_barriers":0,"admin_notes_count":0,"mood_distribution":[],"has_completed_intake":false}',
    );
  });

  it('gives the caller’s own figures, moods in choice order, a whole average written 8.0', async () => {
    const cand = await registerCandidate(t);
    const someoneElse = await registerCandidate(t);
    const today = utcToday(t.c.now());
    await entry(cand, { date: addDays(today, -31), mood: 'very_difficult', energy: 8, barriers: 100 });
    await entry(cand, { date: addDays(today, -30), mood: 'good', energy: 9, barriers: 2 });
    await entry(cand, { date: addDays(today, 2), mood: 'excellent', energy: 7, barriers: 1 });
    await entry(cand, { date: today, mood: 'good', energy: 8, barriers: 0 });
    await entry(someoneElse, { date: today, mood: 'okay', energy: 1, barriers: 9 });
    await note(cand);
    await note(cand);
    await note(someoneElse);
    await completeIntake(cand);

    const res = await stats(cand);
    expect(res.body).toBe(
      `{"total_entries":4,"last_entry_date":"${addDays(today, 2)}","avg_energy_level":8.0,"recent_barriers":3,` +
        '"admin_notes_count":2,"mood_distribution":[{"mood":"excellent","count":1},{"mood":"good","count":2},' +
        '{"mood":"very_difficult","count":1}],"has_completed_intake":true}',
    );
  });

  it('rounds the average as Python does: 7.25 → 7.2, 7.35 → 7.3, 7.45 → 7.5', async () => {
    const average = async (energies: number[]) => {
      const cand = await registerCandidate(t);
      const today = utcToday(t.c.now());
      for (const [i, energy] of energies.entries()) await entry(cand, { date: addDays(today, -i), energy });
      return (await stats(cand)).body.match(/"avg_energy_level":([^,]+),/)?.[1];
    };
    // 29/4 = 7.25 (an exact tie: to even); 147/20 = 7.35 and 149/20 = 7.45 (not ties in binary).
    expect(await average([7, 7, 7, 8])).toBe('7.2');
    expect(await average([...Array<number>(13).fill(7), ...Array<number>(7).fill(8)])).toBe('7.3');
    expect(await average([...Array<number>(11).fill(7), ...Array<number>(9).fill(8)])).toBe('7.5');
    expect(await average([10, 1, 1])).toBe('4.0');
  });

  it('refuses admins and superusers with "Forbidden"', async () => {
    for (const user of [admin, superuser]) {
      const res = await get('/api/v1/dashboard/candidate-stats/', user.access);
      expect(res.statusCode, user.role).toBe(403);
      expect(res.json(), user.role).toMatchObject({ detail: 'Forbidden', code: 'permission_denied' });
    }
  });

  it('is computed in one statement, then served from the cache until a write changes it', async () => {
    const cand = await registerCandidate(t);
    await t.c.jobs.idle(); // its welcome e-mail's job has run: only this test talks to the database
    const count = () => t.c.database.statementCount();
    await stats(cand);
    let before = count();
    await stats(cand);
    expect(count() - before).toBe(0);
    await t.c.changed([{ kind: 'journal', userId: cand.id }]); // as every journal write does
    before = count();
    await stats(cand);
    expect(count() - before).toBe(1);

    await get('/api/dashboard/admin-stats/', admin.access);
    before = count();
    await get('/api/dashboard/admin-stats/', admin.access);
    expect(count() - before).toBe(0);
    await t.c.changed([{ kind: 'notes', userId: cand.id }]);
    before = count();
    await get('/api/dashboard/admin-stats/', admin.access);
    expect(count() - before).toBe(1);
  });
});

describe('GET dashboard/activity/', () => {
  it('gives every day of the period with its entries and barriers, oldest first, zeros included', async () => {
    const today = utcToday(t.c.now());
    const before = (await get('/api/dashboard/activity/?days=7', admin.access)).json<{
      series: { date: string; entries: number; barriers: number }[];
    }>().series;
    const a = await registerCandidate(t);
    const b = await registerCandidate(t);
    await entry(a, { date: today, barriers: 2 });
    await entry(b, { date: today, barriers: 1 });
    await entry(a, { date: addDays(today, -3), barriers: 0 });
    await entry(a, { date: addDays(today, -7) }); // outside a 7-day period (today and the 6 days before)

    const res = await get('/api/dashboard/activity/?days=7', superuser.access);
    expect(res.statusCode).toBe(200);
    const body = res.json<{ days: number; series: { date: string; entries: number; barriers: number }[] }>();
    expect(body.days).toBe(7);
    expect(body.series.map((d) => d.date)).toEqual([6, 5, 4, 3, 2, 1, 0].map((n) => addDays(today, -n)));
    const added = body.series.map((d, i) => ({
      date: d.date,
      entries: d.entries - (before[i]?.entries ?? 0),
      barriers: d.barriers - (before[i]?.barriers ?? 0),
    }));
    expect(added.find((d) => d.date === today)).toEqual({ date: today, entries: 2, barriers: 3 });
    expect(added.find((d) => d.date === addDays(today, -3))).toEqual({
      date: addDays(today, -3),
      entries: 1,
      barriers: 0,
    });
    expect(added.filter((d) => d.entries !== 0)).toHaveLength(2);
    // The default period is 30 days.
    expect((await get('/api/dashboard/activity/', admin.access)).json<{ days: number }>().days).toBe(30);
  });

  it('takes 7 to 90 days, and refuses candidates', async () => {
    for (const days of ['6', '91', 'x', '7.5']) {
      const res = await get(`/api/dashboard/activity/?days=${days}`, admin.access);
      expect(res.statusCode, days).toBe(400);
      expect(res.json().errors.days, days).toBeDefined();
    }
    const candidate = await registerCandidate(t);
    const refused = await get('/api/dashboard/activity/', candidate.access);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().detail).toBe('Forbidden');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestApp,
  createTestCluster,
  createUserWithSession,
  registerCandidate,
  type TestApp,
} from './helpers/app.js';

/**
 * The user object and the dashboards are cached (docs/operations.md#caches): every write that
 * changes them is seen by the very next read, on every instance. Two instances on one database
 * and one Redis when TEST_REDIS_URL is set; otherwise one instance with its in-process store.
 */
const redisUrl = process.env.TEST_REDIS_URL;

describe('cached reads reflect every committed write', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    if (redisUrl) [a, b] = (await createTestCluster(2, { REDIS_URL: redisUrl })) as [TestApp, TestApp];
    else {
      a = await createTestApp();
      b = a;
    }
  });
  afterAll(async () => {
    await a.close();
    if (b !== a) await b.close();
  });

  const get = async (t: TestApp, url: string, token: string) => {
    const res = await t.request({ method: 'GET', url, token });
    expect(res.statusCode).toBe(200);
    return res.json<Record<string, unknown>>();
  };

  it('a profile change on one instance shows in `me` on the other', async () => {
    const user = await registerCandidate(a);
    const before = await get(b, '/api/auth/me/', user.access);
    expect((before.profile as Record<string, unknown>).accommodations).toBeNull();
    const put = await a.request({
      method: 'PATCH',
      url: `/api/users/${user.id}/profile/`,
      token: user.access,
      payload: { accommodations: 'Screen reader' },
    });
    expect(put.statusCode).toBe(200);
    const after = await get(b, '/api/auth/me/', user.access);
    expect((after.profile as Record<string, unknown>).accommodations).toBe('Screen reader');
    expect(after.updated_at).toBe(before.updated_at);
    expect((await get(a, '/api/users/me/', user.access)).profile).toEqual(after.profile);
  });

  it('a name changed by staff shows in users/<id>/ and me at once, on both instances', async () => {
    const admin = await createUserWithSession(a, 'admin');
    const user = await registerCandidate(a);
    expect((await get(b, `/api/users/${user.id}/`, admin.access)).first_name).toBe('Test');
    expect((await get(a, '/api/auth/me/', user.access)).first_name).toBe('Test');
    const patch = await b.request({
      method: 'PATCH',
      url: `/api/users/${user.id}/`,
      token: admin.access,
      payload: { first_name: 'Thandi' },
    });
    expect(patch.statusCode).toBe(200);
    expect((await get(a, `/api/users/${user.id}/`, admin.access)).first_name).toBe('Thandi');
    expect((await get(a, '/api/auth/me/', user.access)).first_name).toBe('Thandi');
  });

  it('an intake completed on one instance flips has_completed_intake on the other', async () => {
    const user = await registerCandidate(a);
    expect((await get(b, '/api/auth/me/', user.access)).has_completed_intake).toBe(false);
    expect((await get(b, '/api/dashboard/candidate-stats/', user.access)).has_completed_intake).toBe(false);
    const intake = await a.request({
      method: 'POST',
      url: '/api/intake/',
      token: user.access,
      payload: { intake_data: { accommodations: 'Captions' } },
    });
    expect(intake.statusCode).toBeLessThan(300);
    expect((await get(b, '/api/auth/me/', user.access)).has_completed_intake).toBe(true);
    expect((await get(b, '/api/dashboard/candidate-stats/', user.access)).has_completed_intake).toBe(true);
  });

  it('journal writes and notes show in both dashboards on the other instance', async () => {
    const admin = await createUserWithSession(a, 'admin');
    const user = await registerCandidate(a);
    const stats = () => get(b, '/api/dashboard/candidate-stats/', user.access);
    const adminStats = () => get(b, '/api/dashboard/admin-stats/', admin.access);
    const before = await adminStats();
    expect((await stats()).total_entries).toBe(0);
    const created = await a.request({
      method: 'POST',
      url: '/api/journal/',
      token: user.access,
      payload: { date: '2026-01-05', mood: 'good', energy_level: 7, activities: 'walk', barrier_count: 2 },
    });
    expect(created.statusCode).toBe(201);
    expect((await stats()).total_entries).toBe(1);
    expect((await adminStats()).recent_entries).toBe(Number(before.recent_entries) + 1);

    const note = await a.request({
      method: 'POST',
      url: '/api/admin-notes/',
      token: admin.access,
      payload: { candidate: user.id, category: 'general', title: 'Check-in', content: 'Went well' },
    });
    expect(note.statusCode).toBe(201);
    expect((await stats()).admin_notes_count).toBe(1);
    expect((await adminStats()).total_admin_notes).toBe(Number(before.total_admin_notes) + 1);

    const id = created.json<{ id: number }>().id;
    expect(
      (await a.request({ method: 'DELETE', url: `/api/journal/${id}/`, token: user.access })).statusCode,
    ).toBe(204);
    expect((await stats()).total_entries).toBe(0);
    expect((await adminStats()).recent_entries).toBe(before.recent_entries);
  });

  it('an erased person is gone from the other instance at once', async () => {
    const admin = await createUserWithSession(a, 'superuser');
    const user = await registerCandidate(a);
    await a.request({
      method: 'PATCH',
      url: `/api/users/${user.id}/profile/`,
      token: user.access,
      payload: { accommodations: 'Screen reader' },
    });
    const seen = await get(b, `/api/users/${user.id}/`, admin.access);
    expect((seen.profile as Record<string, unknown>).accommodations).toBe('Screen reader');
    const request = await a.request({
      method: 'POST',
      url: '/api/popia/deletion-requests/create/',
      token: user.access,
      payload: { reason: 'leaving' },
    });
    expect(request.statusCode).toBe(201);
    const requestId = request.json<{ id: number }>().id;
    const steps = [
      ['review', { action: 'approve' }],
      ['execute', {}],
    ] as const;
    for (const [step, payload] of steps) {
      const res = await a.request({
        method: 'POST',
        url: `/api/popia/deletion-requests/${requestId}/${step}/`,
        token: admin.access,
        payload,
      });
      expect(res.statusCode, `${step}: ${res.body}`).toBe(200);
    }
    const after = await get(b, `/api/users/${user.id}/`, admin.access);
    expect(after.first_name).toBe('[DELETED]');
    expect(after.profile).toBeNull();
  });
});

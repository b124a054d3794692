import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRONG_PASSWORD, createTestApp, openSession, uniqueEmail, type TestApp } from './helpers/app.js';
import {
  buildWorld,
  callerOf,
  FIXED_DATE,
  hasObject,
  nextDate,
  resolvePath,
  type Row,
  send,
  type World,
} from './helpers/authz-world.js';

/**
 * Role × endpoint × (own | other's object) → status, for every domain endpoint (spec README §5, the
 * authority; domain.md; seed-additions.md). Candidates act as A on their own objects ("own") and as
 * B on A's ("other"); staff act on their own objects ("own") or on candidate A's ("other").
 * `{admin2}`/`{su2}` are other staff accounts; `{fresh-*}` objects are created for their row alone.
 */

let t: TestApp;
let w: World;
beforeAll(async () => {
  t = await createTestApp();
  w = await buildWorld(t);
});
afterAll(async () => {
  await t.close();
});

const _ = undefined;
// Bodies valid for the rows that succeed; refused rows must fail before the body matters.
const PUT_USER = () => ({ email: uniqueEmail('put'), first_name: 'Matrix' });
const PATCH_USER = { first_name: 'Matrix' };
const PROFILE = { learning_style: 'visual' };
const account = (role?: string) => () => ({
  email: uniqueEmail('new'),
  password: STRONG_PASSWORD,
  ...(role ? { role } : {}),
});
const INTAKE = { intake_data: { learning_style: 'visual' } };
const REVIEW = { status: 'reviewed', review_notes: 'Matrix review' };
const NEW_ENTRY = () => ({ date: nextDate(), mood: 'good', energy_level: 5, activities: 'Matrix' });
const PUT_ENTRY = { date: FIXED_DATE, mood: 'okay', energy_level: 4, activities: 'Matrix put' };
const PATCH_ENTRY = { mood: 'excellent' };
const NOTE = (x: World) => ({ candidate: x.A.id, category: 'progress', title: 'T', content: 'C' });
const PATCH_NOTE = { is_important: true };

const USERS: Row[] = [
  ['candidate', 'GET', '/users/', 'none', _, 403],
  ['admin', 'GET', '/users/', 'none', _, 200],
  ['superuser', 'GET', '/users/', 'none', _, 200],
  ['candidate', 'GET', '/users/candidates/', 'none', _, 403],
  ['admin', 'GET', '/users/candidates/', 'none', _, 200],
  ['superuser', 'GET', '/users/candidates/', 'none', _, 200],
  ['candidate', 'GET', '/users/{user}/', 'own', _, 200],
  ['candidate', 'GET', '/users/{user}/', 'other', _, 404],
  ['admin', 'GET', '/users/{user}/', 'own', _, 200],
  ['admin', 'GET', '/users/{user}/', 'other', _, 200],
  ['admin', 'GET', '/users/{su2}/', 'other', _, 200],
  ['superuser', 'GET', '/users/{user}/', 'other', _, 200],
  ...(['PUT', 'PATCH'] as const).flatMap((m): Row[] => {
    const body = m === 'PUT' ? PUT_USER : PATCH_USER;
    return [
      ['candidate', m, '/users/{user}/', 'own', body, 200],
      ['candidate', m, '/users/{user}/', 'other', body, 404],
      ['admin', m, '/users/{user}/', 'own', body, 200],
      ['admin', m, '/users/{user}/', 'other', body, 200],
      ['admin', m, '/users/{admin2}/', 'other', body, 403],
      ['admin', m, '/users/{su2}/', 'other', body, 403],
      ['superuser', m, '/users/{user}/', 'own', body, 200],
      ['superuser', m, '/users/{user}/', 'other', body, 200],
      ['superuser', m, '/users/{admin2}/', 'other', body, 200],
    ];
  }),
  ['candidate', 'DELETE', '/users/{user}/', 'own', _, 405],
  ['admin', 'DELETE', '/users/{user}/', 'other', _, 405],
  ['superuser', 'DELETE', '/users/{user}/', 'other', _, 405],
  ['candidate', 'PATCH', '/users/{user}/', 'own', { role: 'superuser' }, 403],
  ['admin', 'PATCH', '/users/{user}/', 'other', { role: 'admin' }, 403],
  ['admin', 'PATCH', '/users/{user}/', 'own', { role: 'superuser' }, 403],
  ['superuser', 'PATCH', '/users/{fresh-cand}/', 'other', { role: 'admin' }, 200],
  ...(['GET', 'PUT', 'PATCH'] as const).flatMap((m): Row[] => {
    const body = m === 'GET' ? _ : PROFILE;
    return [
      ['candidate', m, '/users/{user}/profile/', 'own', body, 200],
      ['candidate', m, '/users/{user}/profile/', 'other', body, 404],
      ['admin', m, '/users/{user}/profile/', 'own', body, 200],
      ['admin', m, '/users/{user}/profile/', 'other', body, 200],
      ['admin', m, '/users/{su2}/profile/', 'other', body, 200],
      ['superuser', m, '/users/{user}/profile/', 'other', body, 200],
    ];
  }),
  ['candidate', 'POST', '/users/', 'none', account(), 403],
  ['admin', 'POST', '/users/', 'none', account('candidate'), 201],
  ['admin', 'POST', '/users/', 'none', account('admin'), 403],
  ['admin', 'POST', '/users/', 'none', account('superuser'), 403],
  ['superuser', 'POST', '/users/', 'none', account('admin'), 201],
  ['superuser', 'POST', '/users/', 'none', account('superuser'), 201],
  ...['/users/create-admin/', '/auth/create-admin/', '/auth/create-superuser/'].flatMap((p): Row[] => [
    ['candidate', 'POST', p, 'none', account(), 403],
    ['admin', 'POST', p, 'none', account(), 403],
    ['superuser', 'POST', p, 'none', account(), 201],
  ]),
  ['candidate', 'POST', '/users/create-candidate/', 'none', account(), 403],
  ['admin', 'POST', '/users/create-candidate/', 'none', account(), 201],
  ['superuser', 'POST', '/users/create-candidate/', 'none', account(), 201],
  ['candidate', 'PATCH', '/users/{fresh-cand}/activate/', 'other', _, 403],
  ['candidate', 'PATCH', '/users/{user}/activate/', 'own', _, 403],
  ['admin', 'PATCH', '/users/{fresh-cand}/activate/', 'other', _, 200],
  ['admin', 'PATCH', '/users/{fresh-admin}/activate/', 'other', _, 200],
  ['admin', 'PATCH', '/users/{user}/activate/', 'own', _, 400],
  ['superuser', 'PATCH', '/users/{fresh-cand}/activate/', 'other', _, 200],
  ['superuser', 'PATCH', '/users/{user}/activate/', 'own', _, 400],
  ['candidate', 'PATCH', '/users/{fresh-cand}/deactivate/', 'other', _, 403],
  ['candidate', 'PATCH', '/users/{user}/deactivate/', 'own', _, 403],
  ['admin', 'PATCH', '/users/{fresh-cand}/deactivate/', 'other', _, 200],
  ['admin', 'PATCH', '/users/{fresh-admin}/deactivate/', 'other', _, 200],
  ['admin', 'PATCH', '/users/{fresh-su}/deactivate/', 'other', _, 403],
  ['admin', 'PATCH', '/users/{user}/deactivate/', 'own', _, 400],
  ['superuser', 'PATCH', '/users/{fresh-cand}/deactivate/', 'other', _, 200],
  ['superuser', 'PATCH', '/users/{fresh-admin}/deactivate/', 'other', _, 200],
  ['superuser', 'PATCH', '/users/{fresh-su}/deactivate/', 'other', _, 403],
  ['superuser', 'PATCH', '/users/{user}/deactivate/', 'own', _, 400],
  ['admin', 'PATCH', '/users/{missing}/activate/', 'none', _, 404],
  ['superuser', 'PATCH', '/users/{missing}/deactivate/', 'none', _, 404],
  ...(['candidate', 'admin', 'superuser'] as const).flatMap((role): Row[] => [
    [role, 'GET', '/users/me/', 'own', _, 200],
    [role, 'PUT', '/users/me/', 'own', PUT_USER, 200],
    [role, 'PATCH', '/users/me/', 'own', PATCH_USER, 200],
  ]),
  ['candidate', 'PATCH', '/users/me/', 'own', { role: 'admin' }, 403],
  ['admin', 'PATCH', '/users/me/', 'own', { role: 'superuser' }, 403],
];

const INTAKE_ROWS: Row[] = [
  ...(['candidate', 'admin', 'superuser'] as const).flatMap((role): Row[] => [
    [role, 'POST', '/intake/', 'own', INTAKE, 200],
    [role, 'POST', '/intake/submit/', 'own', INTAKE, 200],
    [role, 'GET', '/intake/submissions/', 'none', _, 200],
  ]),
  ['candidate', 'GET', '/intake/{user}/', 'own', _, 200],
  ['candidate', 'GET', '/intake/{user}/', 'other', _, 404],
  ['admin', 'GET', '/intake/{user}/', 'own', _, 200],
  ['admin', 'GET', '/intake/{user}/', 'other', _, 200],
  ['superuser', 'GET', '/intake/{user}/', 'other', _, 200],
  ['candidate', 'GET', '/intake/submissions/{submission}/', 'own', _, 200],
  ['candidate', 'GET', '/intake/submissions/{submission}/', 'other', _, 404],
  ['admin', 'GET', '/intake/submissions/{submission}/', 'own', _, 200],
  ['admin', 'GET', '/intake/submissions/{submission}/', 'other', _, 200],
  ['superuser', 'GET', '/intake/submissions/{submission}/', 'other', _, 200],
  ['candidate', 'PATCH', '/intake/submissions/{submission}/', 'own', REVIEW, 403],
  ['candidate', 'PATCH', '/intake/submissions/{submission}/', 'other', REVIEW, 403],
  ['admin', 'PATCH', '/intake/submissions/{submission}/', 'other', REVIEW, 200],
  ['superuser', 'PATCH', '/intake/submissions/{submission}/', 'other', REVIEW, 200],
];

const JOURNAL: Row[] = [
  ...(['candidate', 'admin', 'superuser'] as const).flatMap((role): Row[] => [
    [role, 'GET', '/journal/', 'none', _, 200],
    [role, 'POST', '/journal/', 'none', NEW_ENTRY, 201],
    [role, 'GET', '/journal/stats/', 'none', _, 200],
  ]),
  ...(
    [
      ['GET', _, 200],
      ['PUT', PUT_ENTRY, 200],
      ['PATCH', PATCH_ENTRY, 200],
    ] as const
  ).flatMap(([m, body, ok]): Row[] => [
    ['candidate', m, '/journal/{entry}/', 'own', body, ok],
    ['candidate', m, '/journal/{entry}/', 'other', body, 404],
    ['admin', m, '/journal/{entry}/', 'own', body, ok],
    ['admin', m, '/journal/{entry}/', 'other', body, ok],
    ['superuser', m, '/journal/{entry}/', 'own', body, ok],
    ['superuser', m, '/journal/{entry}/', 'other', body, ok],
  ]),
  ['candidate', 'DELETE', '/journal/{fresh-entry}/', 'own', _, 204],
  ['candidate', 'DELETE', '/journal/{fresh-entry}/', 'other', _, 404],
  ['admin', 'DELETE', '/journal/{fresh-entry}/', 'own', _, 204],
  ['admin', 'DELETE', '/journal/{fresh-entry}/', 'other', _, 204],
  ['superuser', 'DELETE', '/journal/{fresh-entry}/', 'other', _, 204],
];

const ADMIN_NOTES: Row[] = [
  ['candidate', 'GET', '/admin-notes/', 'none', _, 200],
  ['admin', 'GET', '/admin-notes/', 'none', _, 200],
  ['superuser', 'GET', '/admin-notes/', 'none', _, 200],
  ['candidate', 'POST', '/admin-notes/', 'none', NOTE, 403],
  ['admin', 'POST', '/admin-notes/', 'none', NOTE, 201],
  ['superuser', 'POST', '/admin-notes/', 'none', NOTE, 201],
  ['candidate', 'GET', '/admin-notes/{note}/', 'own', _, 200],
  ['candidate', 'GET', '/admin-notes/{note}/', 'other', _, 404],
  ['admin', 'GET', '/admin-notes/{note}/', 'other', _, 200],
  ['superuser', 'GET', '/admin-notes/{note}/', 'other', _, 200],
  ...(
    [
      ['PUT', NOTE],
      ['PATCH', PATCH_NOTE],
    ] as const
  ).flatMap(([m, body]): Row[] => [
    ['candidate', m, '/admin-notes/{note}/', 'own', body, 403],
    ['candidate', m, '/admin-notes/{note}/', 'other', body, 404],
    ['admin', m, '/admin-notes/{note}/', 'other', body, 200],
    ['superuser', m, '/admin-notes/{note}/', 'other', body, 200],
  ]),
  ['candidate', 'DELETE', '/admin-notes/{fresh-note}/', 'own', _, 403],
  ['candidate', 'DELETE', '/admin-notes/{fresh-note}/', 'other', _, 404],
  ['admin', 'DELETE', '/admin-notes/{fresh-note}/', 'other', _, 204],
  ['superuser', 'DELETE', '/admin-notes/{fresh-note}/', 'other', _, 204],
  ['candidate', 'GET', '/admin-notes/candidate/{user}/', 'own', _, 403],
  ['candidate', 'GET', '/admin-notes/candidate/{user}/', 'other', _, 403],
  ['admin', 'GET', '/admin-notes/candidate/{user}/', 'other', _, 200],
  ['superuser', 'GET', '/admin-notes/candidate/{user}/', 'other', _, 200],
  ['admin', 'GET', '/admin-notes/candidate/{missing}/', 'none', _, 200],
];

const DASHBOARDS: Row[] = [
  ...['/dashboard/admin-stats/', '/dashboard/stats/'].flatMap((p): Row[] => [
    ['candidate', 'GET', p, 'none', _, 403],
    ['admin', 'GET', p, 'none', _, 200],
    ['superuser', 'GET', p, 'none', _, 200],
  ]),
  ['candidate', 'GET', '/dashboard/candidate-stats/', 'none', _, 200],
  ['admin', 'GET', '/dashboard/candidate-stats/', 'none', _, 403],
  ['superuser', 'GET', '/dashboard/candidate-stats/', 'none', _, 403],
];

const TABLE = {
  users: USERS,
  intake: INTAKE_ROWS,
  journal: JOURNAL,
  'admin-notes': ADMIN_NOTES,
  dashboard: DASHBOARDS,
};

const NOT_FOUND_KEYS = ['detail', 'code', 'error_id'];
const ERROR_ID = /^[0-9a-f]{8}$/;

describe('authorization matrix', () => {
  it('answers every role × endpoint × (own | other) with the status of spec README §5', async () => {
    const failures: string[] = [];
    let compared404 = 0;
    for (const [module, rows] of Object.entries(TABLE)) {
      for (const [i, row] of rows.entries()) {
        const [role, method, template, scope, body, expected] = row;
        const caller = callerOf(w, role, scope);
        const url = await resolvePath(w, template, caller, scope);
        const payload = typeof body === 'function' ? body(w) : body;
        // A fresh session per row: deactivation and similar rows may end sessions.
        const { access } = await openSession(t, caller.id);
        const res = await send(t, method, url, access, payload);
        const label = `[${module} #${i}] ${role} ${method} ${template} (${scope}) → ${url}`;
        if (res.statusCode !== expected) {
          failures.push(`${label}: expected ${expected}, got ${res.statusCode} ${res.body.slice(0, 200)}`);
          continue;
        }
        if (expected === 403 && res.json<{ code: string }>().code !== 'permission_denied') {
          failures.push(`${label}: 403 without code permission_denied: ${res.body}`);
        }
        // "Not yours" must be indistinguishable from "does not exist" (README §5, CONVENTIONS).
        if (expected === 404 && scope === 'other' && hasObject(template)) {
          const missingUrl = await resolvePath(w, template, caller, scope, true);
          const again = await openSession(t, caller.id);
          const missing = await send(t, method, missingUrl, again.access, payload);
          const [a, b] = [res.json<Record<string, unknown>>(), missing.json<Record<string, unknown>>()];
          const same =
            missing.statusCode === 404 &&
            JSON.stringify(Object.keys(a)) === JSON.stringify(NOT_FOUND_KEYS) &&
            JSON.stringify(Object.keys(b)) === JSON.stringify(NOT_FOUND_KEYS) &&
            a.detail === 'Not found.' &&
            b.detail === 'Not found.' &&
            a.code === 'not_found' &&
            b.code === 'not_found' &&
            ERROR_ID.test(String(a.error_id)) &&
            ERROR_ID.test(String(b.error_id));
          if (!same) failures.push(`${label}: 404 differs from missing id: ${res.body} vs ${missing.body}`);
          compared404 += 1;
        }
      }
    }
    expect(failures, failures.join('\n')).toEqual([]);
    expect(compared404).toBeGreaterThanOrEqual(10);
  });

  it("answers a 404 for another person's object with exactly the body of a missing id", async () => {
    const { access } = await openSession(t, w.B.id);
    const theirs = await send(t, 'GET', `/api/journal/${w.entry.get(w.A.id)}/`, access);
    const missing = await send(t, 'GET', '/api/journal/999999999/', access);
    for (const res of [theirs, missing]) {
      expect(res.statusCode).toBe(404);
      expect(Object.keys(res.json())).toEqual(NOT_FOUND_KEYS);
      expect(res.json()).toEqual({
        detail: 'Not found.',
        code: 'not_found',
        error_id: expect.stringMatching(ERROR_ID),
      });
      expect(res.headers['content-type']).toBe(missing.headers['content-type']);
    }
  });
});

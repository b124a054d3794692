import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../src/lib/actor.js';
import {
  createTestApp,
  createUserWithSession,
  openSession,
  registerCandidate,
  STRONG_PASSWORD,
  uniqueEmail,
  type TestApp,
  type TestUser,
} from './helpers/app.js';

/**
 * NUL characters (U+0000) in any text input (issue 9 item 7). PostgreSQL stores no NUL in text or
 * jsonb, so such a value must be refused as a 400 naming its field before anything reaches the
 * database: never a 500, never a false "audit store unavailable". The inputs are generated from the
 * OpenAPI document, so a new route or field is covered without touching this file.
 */
const NUL_MESSAGE = 'Null characters are not allowed.';
const WITH_NUL = 'a\u0000b';

let t: TestApp;
const users = {} as Record<Role, TestUser>;
beforeAll(async () => {
  // With TEST_REDIS_URL (CI), session state and limits live in the real Redis.
  t = await createTestApp(process.env.TEST_REDIS_URL ? { REDIS_URL: process.env.TEST_REDIS_URL } : {});
  users.candidate = await registerCandidate(t);
  users.admin = await createUserWithSession(t, 'admin');
  users.superuser = await createUserWithSession(t, 'superuser');
});
afterAll(async () => {
  await t.close();
});

function expectRefused(res: LightMyRequestResponse, field: string, label: string): void {
  expect(res.statusCode, `${label}: ${res.body}`).toBe(400);
  const body = res.json<{ code: string; errors?: Record<string, string[]>; error_id: string }>();
  expect(body.code, label).toBe('validation_error');
  expect(body.errors?.[field], `${label}: ${res.body}`).toEqual([NUL_MESSAGE]);
  expect(body.error_id, label).toMatch(/^[0-9a-f]{8}$/);
}

// ---------------------------------------------------------------------------------------------
// Generated from the OpenAPI document
// ---------------------------------------------------------------------------------------------

interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
}
interface Operation {
  parameters?: { in: string; name: string; schema?: Schema }[];
  requestBody?: { content: Record<string, { schema?: Schema }> };
}
type Paths = Record<string, Record<string, Operation>>;

/**
 * Body fields the spec lists for routes whose OpenAPI document describes the body only loosely
 * (documentation-only schemas; the service validates). Keyed by method and path under /api.
 */
const PROFILE_FIELDS = [
  'id_number',
  'contact_number',
  'address',
  'emergency_contact',
  'emergency_phone',
  'diagnosis',
  'medications',
  'allergies',
  'medical_notes',
  'doctor_name',
  'doctor_phone',
  'accommodations',
  'assistive_technology',
  'learning_style',
  'support_needs',
  'communication_preferences',
];
const NOTE_FIELDS = ['candidate', 'category', 'title', 'content', 'is_important', 'tags'];
const SPEC_BODY_FIELDS: Record<string, string[]> = {
  'POST /admin-notes/': NOTE_FIELDS,
  'PUT /admin-notes/{id}/': NOTE_FIELDS,
  'PATCH /admin-notes/{id}/': NOTE_FIELDS,
  'PUT /users/{id}/profile/': PROFILE_FIELDS,
  'PATCH /users/{id}/profile/': PROFILE_FIELDS,
};
/** Routes that take no body at all (spec: none listed). */
const NO_BODY = new Set([
  'POST /auth/2fa/setup/',
  'POST /popia/data-export/',
  'PATCH /users/{id}/activate/',
  'PATCH /users/{id}/deactivate/',
  'POST /popia/privacy-policy/versions/{id}/activate/',
  'POST /popia/consents/{id}/withdraw/',
  'POST /popia/deletion-requests/{id}/cancel/',
  'POST /popia/deletion-requests/{id}/execute/',
  'POST /popia/retention/schedules/{id}/unexempt/',
  'POST /admin/jobs/failed/{id}/retry/',
  'POST /popia/audit-log/verify/',
]);

/** The gate of an OpenAPI operation, from the routes the app registered. */
function gateOf(method: string, path: string) {
  const normal = (url: string) => url.replace(/:([A-Za-z_]+)(\([^)]*\))?/g, '{$1}');
  return t.app.routeGates.find((g) => g.method === method && normal(g.url) === path);
}

/** A token of a role the gate admits (none for public routes). */
async function tokenFor(method: string, path: string): Promise<string | undefined> {
  const gate = gateOf(method, path);
  if (!gate) throw new Error(`no route for ${method} ${path}`);
  if (!Array.isArray(gate.auth)) return undefined;
  const role = (['superuser', 'admin', 'candidate'] as const).find((r) => gate.auth.includes(r));
  if (!role) throw new Error(`no role admitted by ${method} ${path}`);
  return (await openSession(t, users[role].id)).access;
}

const concrete = (path: string) => path.replace(/\{[a-z_]+\}/g, '999999');

interface Case {
  label: string;
  method: string;
  path: string;
  field: string;
  url: string;
  payload?: string;
  contentType?: string;
}

function casesFrom(paths: Paths): { cases: Case[]; incomplete: string[]; pathStrings: string[] } {
  const cases: Case[] = [];
  const incomplete: string[] = [];
  const pathStrings: string[] = [];
  for (const [path, ops] of Object.entries(paths)) {
    for (const [m, op] of Object.entries(ops)) {
      const method = m.toUpperCase();
      const url = concrete(path);
      for (const p of op.parameters ?? []) {
        if (p.in === 'query') {
          const label = `${method} ${path} ?${p.name}=`;
          cases.push({ label, method, path, field: p.name, url: `${url}?${p.name}=a%00b` });
        } else if (p.in === 'path' && p.schema?.type === 'string') pathStrings.push(`${method} ${path}`);
      }
      if (method === 'GET' || method === 'DELETE') continue;
      const key = `${method} ${path.replace(/^\/api(\/v1)?/, '')}`;
      const documented = Object.keys(op.requestBody?.content['application/json']?.schema?.properties ?? {});
      let fields = documented;
      if (documented.length === 0 && !NO_BODY.has(key)) {
        incomplete.push(key);
        fields = SPEC_BODY_FIELDS[key] ?? [];
      }
      for (const field of fields) {
        cases.push({
          label: `${method} ${path} JSON ${field}`,
          method,
          path,
          field,
          url,
          payload: JSON.stringify({ [field]: WITH_NUL }),
          contentType: 'application/json',
        });
        if (path.startsWith('/api/v1/')) continue;
        cases.push({
          label: `${method} ${path} form ${field}`,
          method,
          path,
          field,
          url,
          payload: `${encodeURIComponent(field)}=a%00b`,
          contentType: 'application/x-www-form-urlencoded',
        });
      }
    }
  }
  return { cases, incomplete: [...new Set(incomplete)], pathStrings };
}

describe('NUL characters, inputs generated from the OpenAPI document', () => {
  it('every query parameter and body field of every operation answers 400 naming the field', async () => {
    const doc = await t.request({ method: 'GET', url: '/api/docs/json' });
    const { cases, incomplete } = casesFrom(doc.json<{ paths: Paths }>().paths);
    // The routes whose document lacks the body fields are exercised with the spec's fields.
    for (const key of incomplete) expect(SPEC_BODY_FIELDS[key], `spec fields for ${key}`).toBeDefined();
    expect(cases.length).toBeGreaterThan(300);
    const failures: string[] = [];
    for (const c of cases) {
      const token = await tokenFor(c.method, c.path);
      const res = await t.request({
        method: c.method,
        url: c.url,
        ...(token ? { token } : {}),
        ...(c.payload === undefined
          ? {}
          : { payload: c.payload, headers: { 'content-type': c.contentType! } }),
      });
      const errors =
        res.statusCode === 400 ? res.json<{ errors?: Record<string, string[]> }>().errors : undefined;
      if (res.statusCode !== 400 || errors?.[c.field]?.[0] !== NUL_MESSAGE) {
        failures.push(`${c.label} -> ${res.statusCode} ${res.body.slice(0, 120)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('a NUL in a text path parameter is an unknown path (404), never a 5xx', async () => {
    const doc = await t.request({ method: 'GET', url: '/api/docs/json' });
    const { pathStrings } = casesFrom(doc.json<{ paths: Paths }>().paths);
    expect(pathStrings.length).toBeGreaterThan(0);
    for (const op of pathStrings) {
      const [method, path] = op.split(' ') as [string, string];
      const token = await tokenFor(method, path);
      const url = path.replace(/\{[a-z_]+\}/g, 'a%00b');
      const res = await t.request({ method: method, url, ...(token ? { token } : {}) });
      expect(res.statusCode, `${op}: ${res.body}`).toBe(404);
      expect(res.json().code).toBe('not_found');
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The cases the issue lists, as a user would meet them
// ---------------------------------------------------------------------------------------------

describe('NUL characters, the reported cases', () => {
  it('registration refuses a NUL in a name (anonymously) before any other check, and creates nobody', async () => {
    const email = uniqueEmail('nul');
    for (const field of ['first_name', 'last_name']) {
      const res = await t.request({
        method: 'POST',
        url: '/api/auth/register/',
        payload: { email, password: STRONG_PASSWORD, first_name: 'Ann', [field]: 'Ann\u0000Lee' },
      });
      expectRefused(res, field, `register ${field}`);
      // Register's errors also carry the original's `error` key (spec README §4).
      expect(res.json().error).toBe('Validation error');
    }
    // A NUL is the first failing check: before "Email and password are required" (auth.md §2 row 1).
    const first = await t.request({
      method: 'POST',
      url: '/api/auth/register/',
      payload: { email: 'not-an-email', first_name: '\u0000' },
    });
    expectRefused(first, 'first_name', 'register before row 1');
    expect(Object.keys(first.json().errors)).toEqual(['first_name']);
    const form = await t.request({
      method: 'POST',
      url: '/api/auth/register/',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `email=${encodeURIComponent(email)}&password=${encodeURIComponent(STRONG_PASSWORD)}&last_name=X%00`,
    });
    expectRefused(form, 'last_name', 'register form-encoded');
    // Nobody was created: the same e-mail registers now.
    const ok = await t.request({
      method: 'POST',
      url: '/api/auth/register/',
      payload: { email, password: STRONG_PASSWORD, first_name: 'Ann' },
    });
    expect(ok.statusCode, ok.body).toBe(201);
  });

  it('force-logout with a NUL in the reason is a 400 (not 503 "audit store unavailable") and ends nothing', async () => {
    const target = await registerCandidate(t);
    const res = await t.request({
      method: 'POST',
      url: '/api/auth/admin/force-logout/',
      token: (await openSession(t, users.admin.id)).access,
      payload: { user_id: target.id, reason: 'policy\u0000breach' },
    });
    expectRefused(res, 'reason', 'force-logout reason');
    const me = await t.request({ method: 'GET', url: '/api/auth/me/', token: target.access });
    expect(me.statusCode).toBe(200);
  });

  it('list filters ?tag=, ?search=, ?user_email= and ?action= with a NUL are 400s naming the filter', async () => {
    const filters: [Role, string, string][] = [
      ['admin', '/api/admin-notes/', 'tag'],
      ['candidate', '/api/admin-notes/', 'tag'],
      ['admin', '/api/users/', 'search'],
      ['admin', '/api/auth/admin/sessions/', 'user_email'],
      ['superuser', '/api/popia/audit-log/', 'action'],
      ['superuser', '/api/v1/popia/audit-log/', 'action'],
    ];
    for (const [role, path, name] of filters) {
      const { access } = await openSession(t, users[role].id);
      for (const query of [`${name}=x%00y`, `${name}=ok&${name}=%00`]) {
        const res = await t.request({ method: 'GET', url: `${path}?${query}`, token: access });
        expectRefused(res, name, `${role} ${path}?${query}`);
      }
    }
  });

  it('a nested NUL names the top-level field; a NUL in a key is a non-field error', async () => {
    const token = (await openSession(t, users.candidate.id)).access;
    const post = (payload: unknown) =>
      t.request({ method: 'POST', url: '/api/intake/submit/', token, payload: payload as object });
    expectRefused(
      await post({ intake_data: { learning_style: 'vis\u0000ual' } }),
      'intake_data',
      'nested value',
    );
    expectRefused(
      await post({ intake_data: { 'learning\u0000style': 'visual' } }),
      'intake_data',
      'nested key',
    );
    expectRefused(await post({ intake_data: { list: [['deep', '\u0000']] } }), 'intake_data', 'nested array');
    expectRefused(await post({ 'intake\u0000data': {} }), 'non_field_errors', 'top-level key');
    const query = await t.request({ method: 'GET', url: '/api/journal/?x%00=1', token });
    expectRefused(query, 'non_field_errors', 'query key');
    // Every field carrying a NUL is named at once.
    const both = await t.request({
      method: 'POST',
      url: '/api/journal/',
      token,
      payload: { date: '2020-02-02', mood: 'good', energy_level: 5, activities: '\u0000', notes: 'n\u0000' },
    });
    expect(both.statusCode).toBe(400);
    expect(both.json().errors).toEqual({ activities: [NUL_MESSAGE], notes: [NUL_MESSAGE] });
  });

  it('a raw NUL byte in JSON is malformed JSON; multipart bodies are not parsed (415): never a 5xx', async () => {
    const raw = await t.request({
      method: 'POST',
      url: '/api/auth/login/',
      headers: { 'content-type': 'application/json' },
      payload: '{"email": "a\u0000b"}', // a raw U+0000 inside a JSON string (not the escape)
    });
    expect(raw.statusCode).toBe(400);
    expect(raw.json().code).toBe('parse_error');
    const boundary = 'x-boundary';
    const multipart = await t.request({
      method: 'POST',
      url: '/api/auth/register/',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload: `--${boundary}\r\nContent-Disposition: form-data; name="first_name"\r\n\r\nA\u0000\r\n--${boundary}--\r\n`,
    });
    expect(multipart.statusCode).toBe(415);
    expect(multipart.json().code).toBe('unsupported_media_type');
  });

  it('staff writes with a NUL (note, profile, policy) store nothing and answer 400', async () => {
    const token = (await openSession(t, users.admin.id)).access;
    const note = await t.request({
      method: 'POST',
      url: '/api/admin-notes/',
      token,
      payload: { candidate: users.candidate.id, category: 'general', title: 'T', content: 'x\u0000' },
    });
    expectRefused(note, 'content', 'note content');
    const list = await t.request({ method: 'GET', url: '/api/admin-notes/', token });
    expect(list.statusCode).toBe(200);
    expect(list.json().count).toBe(0);
    const profile = await t.request({
      method: 'PATCH',
      url: `/api/users/${users.candidate.id}/profile/`,
      token,
      payload: { diagnosis: 'd\u0000' },
    });
    expectRefused(profile, 'diagnosis', 'profile diagnosis');
  });
});

import type { LightMyRequestResponse } from 'fastify';
import { and, desc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, userProfiles, users } from '../src/db/schema.js';
import {
  createTestApp,
  createUserWithSession,
  registerCandidate,
  STRONG_PASSWORD,
  uniqueEmail,
  type TestApp,
  type TestUser,
} from './helpers/app.js';

let t: TestApp;
let su: TestUser;
let admin: TestUser;
let admin2: TestUser;
let cand: TestUser;
let cand2: TestUser;

const ID_A = '8001015009087';
const ID_B = '9002150123088';
const U_KEYS = [
  'id',
  'email',
  'first_name',
  'last_name',
  'role',
  'has_completed_intake',
  'created_at',
  'updated_at',
  'profile',
];

beforeAll(async () => {
  t = await createTestApp();
  su = await createUserWithSession(t, 'superuser');
  admin = await createUserWithSession(t, 'admin');
  admin2 = await createUserWithSession(t, 'admin');
  cand = await registerCandidate(t, { first_name: 'Thandi', last_name: "O'Brien" });
  cand2 = await registerCandidate(t, { first_name: 'Sipho', last_name: 'Dlamini' });
});
afterAll(async () => {
  await t.close();
});

type Req = { method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'; payload?: object; token?: string };
const call = (url: string, { method = 'GET', payload, token }: Req = {}) =>
  t.request({ method, url, ...(payload ? { payload } : {}), ...(token ? { token } : {}) });

type Listed = { results: { id: number; role: string }[] };
const idsOf = (res: LightMyRequestResponse) => res.json<Listed>().results.map((u) => u.id);

const lastAudit = async (action: string, subject?: number) => {
  const rows = await t.c.db
    .select()
    .from(auditLog)
    .where(
      subject
        ? and(eq(auditLog.action, action), eq(auditLog.subjectUserId, subject))
        : eq(auditLog.action, action),
    )
    .orderBy(desc(auditLog.id))
    .limit(1);
  return rows[0];
};

describe('lists', () => {
  it('GET users/ pages every user as U, id ascending, for staff', async () => {
    const res = await call('/api/users/?page_size=2', { token: admin.access });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body)).toEqual(['count', 'next', 'previous', 'results']);
    expect(body.count).toBeGreaterThanOrEqual(5);
    expect(body.next).toBe('http://localhost/api/users/?page_size=2&page=2');
    expect(body.previous).toBeNull();
    expect(Object.keys(body.results[0])).toEqual(U_KEYS);
    expect(idsOf(res)).toEqual([su.id, admin.id]);
    const page2 = await call('/api/v1/users/?page_size=2&page=2', { token: su.access });
    expect(idsOf(page2)).toEqual([admin2.id, cand.id]);
    expect(page2.json().previous).toBe('http://localhost/api/v1/users/?page_size=2');
    expect((await call('/api/users/?page=99', { token: admin.access })).json().detail).toBe('Invalid page.');
  });

  it('GET users/candidates/ lists only candidates', async () => {
    const res = await call('/api/users/candidates/', { token: admin.access });
    expect(res.statusCode).toBe(200);
    const ids = res.json<Listed>().results.map((u) => {
      expect(u.role).toBe('candidate');
      return u.id;
    });
    expect(ids).toEqual([cand.id, cand2.id]);
  });

  it('refuses both lists to candidates', async () => {
    for (const url of ['/api/users/', '/api/users/candidates/']) {
      const res = await call(url, { token: cand.access });
      expect(res.statusCode).toBe(403);
      expect(res.json().code).toBe('permission_denied');
    }
  });

  it('filters by role, is_active and search (case-insensitive, escaped names, literal %)', async () => {
    const ids = async (q: string) => idsOf(await call(`/api/users/?${q}`, { token: admin.access }));
    expect(await ids('role=admin')).toEqual([admin.id, admin2.id]);
    expect(await ids('is_active=false')).toEqual([]);
    expect(await ids('search=THANDI')).toEqual([cand.id]);
    expect(await ids(`search=${encodeURIComponent("o'brien")}`)).toEqual([cand.id]);
    expect(await ids(`search=${encodeURIComponent(cand2.email.slice(0, 12).toUpperCase())}`)).toEqual([
      cand2.id,
    ]);
    expect(await ids('search=%25')).toEqual([]);
    expect(await ids('search=_')).toEqual([]);
    const bad = await call('/api/users/?role=boss', { token: admin.access });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors).toEqual({ role: ['"boss" is not a valid choice.'] });
  });

  it('finds a user by ID number through the blind index and audits the lookup without the value', async () => {
    const set = await call(`/api/users/${cand2.id}/profile/`, {
      method: 'PATCH',
      payload: { id_number: ID_B },
      token: admin.access,
    });
    expect(set.statusCode).toBe(200);
    const res = await call(`/api/users/?id_number=${encodeURIComponent('900215 0123088')}`, {
      token: admin.access,
    });
    expect(idsOf(res)).toEqual([cand2.id]);
    expect(res.json().results[0].profile.id_number).toBe(ID_B);
    const audit = await lastAudit('read');
    expect(audit).toMatchObject({
      actorId: admin.id,
      resourceType: 'user',
      metadata: { search: 'id_number', matches: 1 },
    });
    expect(JSON.stringify(audit)).not.toContain(ID_B);
    const none = await call(`/api/users/?id_number=${ID_A}`, { token: admin.access });
    expect(none.json().count).toBe(0);
  });
});

describe('users/<id>/', () => {
  it('candidates read themselves only; staff anyone; non-numeric ids are unknown paths', async () => {
    const own = await call(`/api/users/${cand.id}/`, { token: cand.access });
    expect(own.statusCode).toBe(200);
    expect(Object.keys(own.json())).toEqual(U_KEYS);
    expect(own.json().last_name).toBe('O&#x27;Brien');
    const other = await call(`/api/users/${cand2.id}/`, { token: cand.access });
    expect(other.statusCode).toBe(404);
    expect(other.json().detail).toBe('Not found.');
    expect((await call(`/api/users/${admin.id}/`, { token: cand.access })).statusCode).toBe(404);
    expect((await call(`/api/users/${cand2.id}/`, { token: admin.access })).statusCode).toBe(200);
    expect((await call('/api/users/999999/', { token: admin.access })).statusCode).toBe(404);
    expect((await call('/api/users/abc/', { token: admin.access })).statusCode).toBe(404);
  });

  it('candidate PATCHes own names (escaped), other keys ignored; role change refused', async () => {
    const res = await call(`/api/users/${cand.id}/`, {
      method: 'PATCH',
      payload: { first_name: '  <b>Thandi</b> ', has_completed_intake: true, is_active: false },
      token: cand.access,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().first_name).toBe('&lt;b&gt;Thandi&lt;/b&gt;');
    expect(res.json().has_completed_intake).toBe(false);
    const audit = await lastAudit('update', cand.id);
    expect(audit?.changes).toEqual({ first_name: ['Thandi', '&lt;b&gt;Thandi&lt;/b&gt;'] });

    const role = await call(`/api/users/${cand.id}/`, {
      method: 'PATCH',
      payload: { role: 'superuser' },
      token: cand.access,
    });
    expect(role.statusCode).toBe(403);
    expect(role.json().detail).toBe('You do not have permission to change roles.');
    const same = await call(`/api/users/${cand.id}/`, {
      method: 'PATCH',
      payload: { role: 'candidate' },
      token: cand.access,
    });
    expect(same.statusCode).toBe(200);
    const other = await call(`/api/users/${cand2.id}/`, {
      method: 'PATCH',
      payload: { first_name: 'x' },
      token: cand.access,
    });
    expect(other.statusCode).toBe(404);
  });

  it('validates e-mail and names; PUT needs email', async () => {
    const url = `/api/users/${cand.id}/`;
    const cases: [Req, Record<string, string[]>][] = [
      [{ method: 'PUT', payload: { first_name: 'A' } }, { email: ['This field is required.'] }],
      [
        { method: 'PATCH', payload: { email: 'x@example.com' } },
        { email: ['Email domain must be one of: capaciti.org.za'] },
      ],
      [
        { method: 'PATCH', payload: { email: cand2.email.toUpperCase() } },
        { email: ['user with this email already exists.'] },
      ],
      [{ method: 'PATCH', payload: { email: '' } }, { email: ['This field may not be blank.'] }],
      [
        { method: 'PATCH', payload: { last_name: 'n'.repeat(151) } },
        { last_name: ['Ensure this field has no more than 150 characters.'] },
      ],
    ];
    for (const [req, errors] of cases) {
      const res = await call(url, { ...req, token: cand.access });
      expect(res.statusCode, JSON.stringify(req)).toBe(400);
      expect(res.json()).toMatchObject({ detail: 'Validation error', code: 'validation_error', errors });
    }
    const email = uniqueEmail('moved');
    const put = await call(url, {
      method: 'PUT',
      payload: { email: ` ${email.toUpperCase()} ` },
      token: cand.access,
    });
    expect(put.statusCode).toBe(200);
    expect(put.json().email).toBe(email);
    cand.email = email;
  });

  it('admins modify candidates and themselves only, and cannot change roles', async () => {
    const other = await call(`/api/users/${admin2.id}/`, {
      method: 'PATCH',
      payload: { first_name: 'X' },
      token: admin.access,
    });
    expect(other.statusCode).toBe(403);
    expect(other.json().detail).toBe('You do not have permission to perform this action.');
    const sup = await call(`/api/users/${su.id}/`, {
      method: 'PATCH',
      payload: { first_name: 'X' },
      token: admin.access,
    });
    expect(sup.statusCode).toBe(403);
    const self = await call(`/api/users/${admin.id}/`, {
      method: 'PATCH',
      payload: { last_name: 'Self' },
      token: admin.access,
    });
    expect(self.statusCode).toBe(200);
    const c2 = await call(`/api/users/${cand2.id}/`, {
      method: 'PATCH',
      payload: { last_name: 'Dlamini-Z' },
      token: admin.access,
    });
    expect(c2.json().last_name).toBe('Dlamini-Z');
    const role = await call(`/api/users/${cand2.id}/`, {
      method: 'PATCH',
      payload: { role: 'admin' },
      token: admin.access,
    });
    expect(role.statusCode).toBe(403);
    expect(role.json().detail).toBe('You do not have permission to change roles.');
  });

  it('refuses to demote the last active superuser', async () => {
    const res = await call(`/api/users/${su.id}/`, {
      method: 'PATCH',
      payload: { role: 'admin' },
      token: su.access,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual({ role: ['Cannot remove the last active superuser.'] });
    expect((await call('/api/users/me/', { token: su.access })).json().role).toBe('superuser');
  });

  it('a superuser changes a role; the user’s existing sessions end (a new role needs a new sign-in)', async () => {
    const promoted = await registerCandidate(t);
    expect((await call('/api/users/', { token: promoted.access })).statusCode).toBe(403);
    const res = await call(`/api/users/${promoted.id}/`, {
      method: 'PATCH',
      payload: { role: 'admin' },
      token: su.access,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().role).toBe('admin');
    expect((await call('/api/users/', { token: promoted.access })).statusCode).toBe(401);
    const audit = await lastAudit('role_changed', promoted.id);
    expect(audit).toMatchObject({ actorId: su.id, changes: { role: ['candidate', 'admin'] } });
  });

  it('DELETE is not allowed', async () => {
    const res = await call(`/api/users/${cand2.id}/`, { method: 'DELETE', token: su.access });
    expect(res.statusCode).toBe(405);
  });
});

describe('users/me/', () => {
  it('GET equals auth/me; PATCH updates the caller', async () => {
    const me = await call('/api/users/me/', { token: cand2.access });
    const auth = await call('/api/auth/me/', { token: cand2.access });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toEqual(auth.json());
    const patched = await call('/api/users/me/', {
      method: 'PATCH',
      payload: { first_name: 'Sipho & Co' },
      token: cand2.access,
    });
    expect(patched.json().first_name).toBe('Sipho &amp; Co');
    expect(patched.json().id).toBe(cand2.id);
  });
});

describe('profile', () => {
  it('GET by user id: own for candidates, anyone for staff, 404 otherwise', async () => {
    const own = await call(`/api/users/${cand.id}/profile/`, { token: cand.access });
    expect(own.statusCode).toBe(200);
    expect(Object.keys(own.json())).toHaveLength(18);
    expect(Object.keys(own.json()).slice(0, 2)).toEqual(['id_number', 'contact_number']);
    expect((await call(`/api/users/${cand2.id}/profile/`, { token: cand.access })).statusCode).toBe(404);
    expect((await call(`/api/users/${cand.id}/profile/`, { token: admin.access })).statusCode).toBe(200);
    expect((await call('/api/users/999999/profile/', { token: admin.access })).statusCode).toBe(404);
  });

  it('PATCH validates, encrypts, audits field names only; PUT is partial; null clears', async () => {
    const url = `/api/users/${cand.id}/profile/`;
    const bad = await call(url, {
      method: 'PATCH',
      payload: { contact_number: '12ab', id_number: '123' },
      token: cand.access,
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors).toEqual({
      id_number: ['Invalid South African ID number. Must be 13 digits.'],
      contact_number: ['Invalid phone number format. Use format: +27XXXXXXXXX or 0XXXXXXXXX'],
    });
    const ok = await call(url, {
      method: 'PATCH',
      payload: { contact_number: '082 123 4567', diagnosis: 'Dyslexia <mild>', id_number: ID_A },
      token: cand.access,
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({
      contact_number: '+27821234567',
      diagnosis: 'Dyslexia &lt;mild&gt;',
      id_number: ID_A,
    });

    const [raw] = await t.c.db.select().from(userProfiles).where(eq(userProfiles.userId, cand.id));
    // One sealed record for the profile's fields; no per-field column holds anything.
    expect(raw?.sealed).toMatch(/^v2\./);
    expect(raw).toMatchObject({ diagnosis: null, idNumber: null });
    expect(JSON.stringify(raw)).not.toContain('Dyslexia');
    expect(JSON.stringify(raw)).not.toContain(ID_A);

    const audit = await lastAudit('update', cand.id);
    expect(audit).toMatchObject({
      resourceType: 'profile',
      fields: ['id_number', 'contact_number', 'diagnosis'],
    });
    expect(JSON.stringify(audit)).not.toContain('Dyslexia');

    const put = await call(url, { method: 'PUT', payload: { allergies: 'Peanuts' }, token: admin.access });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ allergies: 'Peanuts', diagnosis: 'Dyslexia &lt;mild&gt;' });
    const cleared = await call(url, { method: 'PATCH', payload: { diagnosis: null }, token: cand.access });
    expect(cleared.json()).toMatchObject({ diagnosis: null, allergies: 'Peanuts' });

    const dup = await call(`/api/users/${cand2.id}/profile/`, {
      method: 'PATCH',
      payload: { id_number: ID_A },
      token: cand2.access,
    });
    expect(dup.statusCode).toBe(400);
    expect(dup.json().errors).toEqual({ id_number: ['A profile with this ID number already exists.'] });
    const other = await call(`/api/users/${cand2.id}/profile/`, {
      method: 'PATCH',
      payload: { allergies: 'x' },
      token: cand.access,
    });
    expect(other.statusCode).toBe(404);
  });
});

describe('POST users/', () => {
  it('admins create candidates (201 U, unusable password without one); other roles 403', async () => {
    const email = uniqueEmail('made');
    const res = await call('/api/users/', {
      method: 'POST',
      payload: { email: email.toUpperCase(), first_name: 'New <i>', last_name: 'Person' },
      token: admin.access,
    });
    expect(res.statusCode).toBe(201);
    expect(Object.keys(res.json())).toEqual(U_KEYS);
    expect(res.json()).toMatchObject({ email, first_name: 'New &lt;i&gt;', role: 'candidate' });
    const login = await call('/api/auth/login/', {
      method: 'POST',
      payload: { email, password: STRONG_PASSWORD },
    });
    expect(login.statusCode).toBe(401);
    expect(await lastAudit('create', res.json().id)).toMatchObject({
      actorId: admin.id,
      resourceType: 'user',
    });

    const asAdmin = await call('/api/users/', {
      method: 'POST',
      payload: { email: uniqueEmail(), role: 'admin' },
      token: admin.access,
    });
    expect(asAdmin.statusCode).toBe(403);
    expect(asAdmin.json().detail).toBe('You do not have permission to perform this action.');
    expect(
      (await call('/api/users/', { method: 'POST', payload: { email: uniqueEmail() }, token: cand.access }))
        .statusCode,
    ).toBe(403);
  });

  it('a superuser creates any role with a password; validation errors per field', async () => {
    const email = uniqueEmail('boss');
    const res = await call('/api/users/', {
      method: 'POST',
      payload: { email, role: 'admin', password: STRONG_PASSWORD },
      token: su.access,
    });
    expect(res.statusCode).toBe(201);
    expect(res.json().role).toBe('admin');
    const cases: [object, Record<string, string[]>][] = [
      [{}, { email: ['This field is required.'] }],
      [{ email: 'a@example.com' }, { email: ['Email domain must be one of: capaciti.org.za'] }],
      [{ email }, { email: ['user with this email already exists.'] }],
      [{ email: uniqueEmail(), role: 'boss' }, { role: ['"boss" is not a valid choice.'] }],
      [
        { email: uniqueEmail(), password: 'short' },
        { password: ['Password must be at least 8 characters (got 5)'] },
      ],
      [
        { email: uniqueEmail(), password: 'password1234' },
        { password: expect.arrayContaining(['This password is too common.']) as never },
      ],
    ];
    for (const [payload, errors] of cases) {
      const bad = await call('/api/users/', { method: 'POST', payload, token: su.access });
      expect(bad.statusCode, JSON.stringify(payload)).toBe(400);
      expect(bad.json().errors).toEqual(errors);
    }
  });
});

describe('create-admin / create-superuser / create-candidate', () => {
  const account = (tag: string) => ({
    email: uniqueEmail(tag),
    password: STRONG_PASSWORD,
    first_name: 'Nomsa',
    last_name: 'Khumalo',
  });

  it('superusers create admins and superusers through every path', async () => {
    for (const [url, role, message] of [
      ['/api/users/create-admin/', 'admin', 'Admin user created successfully'],
      ['/api/auth/create-admin/', 'admin', 'Admin user created successfully'],
      ['/api/auth/create-superuser/', 'superuser', 'Superuser created successfully'],
    ] as const) {
      const body = account(role);
      const res = await call(url, { method: 'POST', payload: body, token: su.access });
      expect(res.statusCode, url).toBe(201);
      expect(Object.keys(res.json())).toEqual(['message', 'user']);
      expect(Object.keys(res.json().user)).toEqual(['id', 'email', 'first_name', 'last_name', 'role']);
      expect(res.json()).toMatchObject({ message, user: { email: body.email, role, first_name: 'Nomsa' } });
      // The account exists with its password: staff log in through 2FA setup.
      const login = await call('/api/auth/login/', {
        method: 'POST',
        payload: { email: body.email, password: STRONG_PASSWORD },
      });
      expect(login.json().code).toBe('2fa_setup_required');
    }
  });

  it('refuses non-superusers with the original message and `error` key', async () => {
    for (const url of [
      '/api/users/create-admin/',
      '/api/auth/create-admin/',
      '/api/auth/create-superuser/',
    ]) {
      for (const user of [admin, cand]) {
        const res = await call(url, { method: 'POST', payload: account('x'), token: user.access });
        expect(res.statusCode).toBe(403);
        expect(res.json()).toMatchObject({
          detail: 'Only superusers can create admin accounts',
          code: 'permission_denied',
          error: 'Only superusers can create admin accounts',
        });
      }
    }
  });

  it('answers missing, taken and invalid input with the original messages', async () => {
    const url = '/api/users/create-admin/';
    const missing = await call(url, { method: 'POST', payload: { email: uniqueEmail() }, token: su.access });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({
      detail: 'Email and password are required',
      error: 'Email and password are required',
    });
    const taken = await call(url, {
      method: 'POST',
      payload: { email: admin.email.toUpperCase(), password: STRONG_PASSWORD },
      token: su.access,
    });
    expect(taken.json()).toMatchObject({
      detail: 'User with this email already exists',
      error: 'User with this email already exists',
    });
    const domain = await call(url, {
      method: 'POST',
      payload: { email: 'a@example.com', password: STRONG_PASSWORD },
      token: su.access,
    });
    expect(domain.statusCode).toBe(400);
    expect(domain.json()).toMatchObject({
      detail: 'Failed to create admin user',
      error: 'Failed to create admin user',
      errors: { email: ['Email domain must be one of: capaciti.org.za'] },
    });
    const weak = await call('/api/auth/create-superuser/', {
      method: 'POST',
      payload: { email: uniqueEmail(), password: 'abcdefgh' },
      token: su.access,
    });
    expect(weak.json().detail).toBe('Failed to create superuser');
    expect(weak.json().errors.password).toContain(
      'This password is too short. It must contain at least 12 characters.',
    );
  });

  it('staff create candidates; candidates are refused', async () => {
    for (const user of [admin, su]) {
      const body = account('newcand');
      const res = await call('/api/users/create-candidate/', {
        method: 'POST',
        payload: body,
        token: user.access,
      });
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({
        message: 'Candidate user created successfully',
        user: { role: 'candidate' },
      });
      const login = await call('/api/auth/login/', {
        method: 'POST',
        payload: { email: body.email, password: STRONG_PASSWORD },
      });
      expect(login.statusCode).toBe(200);
    }
    const res = await call('/api/users/create-candidate/', {
      method: 'POST',
      payload: account('no'),
      token: cand.access,
    });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({
      detail: 'Only admins can create candidate accounts',
      error: 'Only admins can create candidate accounts',
    });
    const bad = await call('/api/users/create-candidate/', {
      method: 'POST',
      payload: { email: 'bad', password: STRONG_PASSWORD },
      token: admin.access,
    });
    expect(bad.json()).toMatchObject({
      detail: 'Failed to create candidate user',
      errors: { email: ['Invalid email format'] },
    });
  });
});

describe('activate / deactivate', () => {
  it('refuses own account, superusers, unknown ids and candidates', async () => {
    const own = await call(`/api/users/${admin.id}/deactivate/`, { method: 'PATCH', token: admin.access });
    expect(own.statusCode).toBe(400);
    expect(own.json().detail).toBe('You cannot deactivate your own account.');
    const ownOn = await call(`/api/users/${admin.id}/activate/`, { method: 'PATCH', token: admin.access });
    expect(ownOn.json().detail).toBe('You cannot activate your own account.');
    const sup = await call(`/api/users/${su.id}/deactivate/`, { method: 'PATCH', token: admin.access });
    expect(sup.statusCode).toBe(403);
    expect(sup.json().detail).toBe('Superusers cannot be deactivated.');
    expect(
      (await call('/api/users/999999/deactivate/', { method: 'PATCH', token: admin.access })).statusCode,
    ).toBe(404);
    expect(
      (await call(`/api/users/${cand2.id}/deactivate/`, { method: 'PATCH', token: cand.access })).statusCode,
    ).toBe(403);
  });

  it('deactivation ends the sessions and blocks login; activation restores login', async () => {
    const victim = await registerCandidate(t);
    const off = await call(`/api/users/${victim.id}/deactivate/`, { method: 'PATCH', token: admin.access });
    expect(off.statusCode).toBe(200);
    expect(off.json()).toEqual({ status: 'deactivated' });
    const me = await call('/api/auth/me/', { token: victim.access });
    expect(me.statusCode).toBe(401);
    expect(['user_inactive', 'authentication_failed']).toContain(me.json().code);
    const login = await call('/api/auth/login/', {
      method: 'POST',
      payload: { email: victim.email, password: victim.password },
    });
    expect(login.statusCode).toBe(401);
    expect(await lastAudit('user_deactivated', victim.id)).toMatchObject({
      actorId: admin.id,
      changes: { is_active: [true, false] },
    });
    const listed = await call('/api/users/?is_active=false', { token: admin.access });
    expect(idsOf(listed)).toEqual([victim.id]);

    const on = await call(`/api/users/${victim.id}/activate/`, { method: 'PATCH', token: su.access });
    expect(on.json()).toEqual({ status: 'activated' });
    expect(await lastAudit('user_activated', victim.id)).toMatchObject({ actorId: su.id });
    const again = await call('/api/auth/login/', {
      method: 'POST',
      payload: { email: victim.email, password: victim.password },
    });
    expect(again.statusCode).toBe(200);
  });
});

describe('persisted state', () => {
  it('stores e-mails lower-cased and names escaped', async () => {
    const [row] = await t.c.db.select().from(users).where(eq(users.id, cand.id));
    expect(row?.email).toBe(cand.email.toLowerCase());
    expect(row?.firstName).toBe('&lt;b&gt;Thandi&lt;/b&gt;');
  });
});

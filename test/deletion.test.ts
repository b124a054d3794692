import { createHash } from 'node:crypto';
import { rawDump as dumpAll, rawRows } from './helpers/dump.js';
import { type SQL, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { journalRecord } from '../src/db/sealed-records.js';
import { currentTotp } from '../src/modules/auth/two-factor/totp.js';
import { runDueDeletions } from '../src/modules/privacy/deletion/service.js';
import { eraseUser } from '../src/modules/privacy/deletion/erasure.js';
import {
  createTestApp,
  createUserWithSession,
  openSession,
  registerCandidate,
  type TestApp,
  type TestUser,
  uniqueEmail,
} from './helpers/app.js';

/**
 * Right to erasure (spec privacy.md §4, §7 crypto-shredding): request → review → cancel or
 * execute, with every message; what erasure deletes, anonymises and keeps; the due-deletion job.
 */

let t: TestApp;
let admin: TestUser;
let admin2: TestUser;
let superuser: TestUser;
beforeAll(async () => {
  t = await createTestApp();
  admin = await createUserWithSession(t, 'admin');
  admin2 = await createUserWithSession(t, 'admin');
  superuser = await createUserWithSession(t, 'superuser');
});
afterAll(async () => {
  await t.close();
});

type Json = Record<string, unknown>;
const post = (url: string, token: string | undefined, payload?: unknown) =>
  t.request({
    method: 'POST',
    url,
    ...(token ? { token } : {}),
    ...(payload === undefined ? {} : { payload: payload as Json }),
  });
const get = (url: string, token: string) => t.request({ method: 'GET', url, token });
const create = (token: string, payload: unknown = {}) =>
  post('/api/popia/deletion-requests/create/', token, payload);
const review = (id: number, token: string, payload: unknown) =>
  post(`/api/popia/deletion-requests/${id}/review/`, token, payload);
const cancel = (id: number, token: string) => post(`/api/popia/deletion-requests/${id}/cancel/`, token, {});
const execute = (id: number, token: string) => post(`/api/popia/deletion-requests/${id}/execute/`, token, {});

const rows = <T = Record<string, unknown>>(query: SQL) => rawRows<T>(t.c.db, query);
const rawDump = () => dumpAll(t.c.db);

const REQUEST_KEYS = [
  'id',
  'requested_at',
  'status',
  'status_display',
  'reason',
  'reviewed_by',
  'reviewed_by_email',
  'reviewed_at',
  'admin_notes',
  'completed_at',
  'scheduled_for',
  'cancelled_at',
];
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?[+-]\d{2}:\d{2}$/;

async function mails(template: string, to?: string) {
  await t.c.jobs.idle();
  return t.c.mailer.sent.filter((m) => m.template === template && (to === undefined || m.to === to));
}

async function auditRows(action: string, subject: number) {
  return rows(
    sql`select * from audit_log where action = ${action} and subject_user_id = ${subject} order by id`,
  );
}

/** Files a request for a new candidate; returns both. */
async function candidateWithRequest(reason = 'Moving on') {
  const user = await registerCandidate(t);
  const res = await create(user.access, { reason });
  expect(res.statusCode, res.body).toBe(201);
  return { user, request: res.json() };
}

describe('creating a request', () => {
  it('answers 201 with the request object (reason escaped), e-mails the user and audits', async () => {
    const user = await registerCandidate(t);
    const res = await create(user.access, { reason: '  I am leaving <soon> & "for good"  ' });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(Object.keys(body)).toEqual(REQUEST_KEYS);
    expect(body).toMatchObject({
      status: 'pending',
      status_display: 'Pending Review',
      reason: 'I am leaving &lt;soon&gt; &amp; &quot;for good&quot;',
      reviewed_by: null,
      reviewed_by_email: null,
      reviewed_at: null,
      admin_notes: '',
      completed_at: null,
      scheduled_for: null,
      cancelled_at: null,
    });
    expect(body.requested_at).toMatch(ISO);
    const sent = await mails('deletion_received', user.email);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.subject).toBe('Your data deletion request has been received');
    expect(sent[0]!.text).toContain('Personal Support System');
    const audit = await auditRows('deletion_requested', user.id);
    expect(audit).toHaveLength(1);
    expect(Number(audit[0]!.actor_id)).toBe(user.id);
    expect(audit[0]!.resource_id).toBe(String(body.id));
    // PRIVACY: the reason's text is not in the audit trail.
    expect(JSON.stringify(audit[0])).not.toContain('leaving');

    // A second request while one is open.
    const again = await create(user.access, {});
    expect(again.statusCode).toBe(400);
    expect(again.json()).toEqual({
      detail: 'You already have a pending deletion request',
      code: 'bad_request',
      error_id: expect.stringMatching(/^[0-9a-f]{8}$/),
      error: 'You already have a pending deletion request',
      request_id: body.id,
      requested_at: body.requested_at,
    });
  });

  it('accepts no body; refuses a reason over 5000 characters with the original message', async () => {
    const user = await registerCandidate(t);
    const long = await create(user.access, { reason: 'x'.repeat(5001) });
    expect(long.statusCode).toBe(400);
    expect(long.json()).toMatchObject({
      code: 'validation_error',
      errors: { reason: ['reason exceeds maximum length of 5000 characters (got 5001)'] },
    });
    const none = await t.request({
      method: 'POST',
      url: '/api/popia/deletion-requests/create/',
      token: user.access,
    });
    expect(none.statusCode, none.body).toBe(201);
    expect(none.json().reason).toBe('');
  });

  it('an approved, not yet executed request also blocks a new one; a rejected one does not', async () => {
    const { user, request } = await candidateWithRequest();
    expect((await review(request.id, admin.access, { action: 'approve' })).statusCode).toBe(200);
    const blocked = await create(user.access, {});
    expect(blocked.statusCode).toBe(400);
    expect(blocked.json().request_id).toBe(request.id);

    const other = await candidateWithRequest();
    expect(
      (await review(other.request.id, admin.access, { action: 'reject', notes: 'Open case' })).statusCode,
    ).toBe(200);
    expect((await create(other.user.access, {})).statusCode).toBe(201);
  });

  it('a superuser cannot be erased through a request', async () => {
    const res = await create(superuser.access, {});
    expect(res.statusCode).toBe(400);
    expect(res.json().detail).toBe('Superuser accounts cannot be erased through a deletion request');
  });
});

describe('listing requests', () => {
  it('a candidate sees only own requests, newest first; staff see everyone’s', async () => {
    const user = await registerCandidate(t);
    const first = (await create(user.access, { reason: 'one' })).json();
    await cancel(first.id, user.access);
    t.clock.advance(5);
    const second = (await create(user.access, { reason: 'two' })).json();
    const own = await get('/api/popia/deletion-requests/', user.access);
    expect(own.statusCode).toBe(200);
    expect(own.json()).toMatchObject({ count: 2, next: null, previous: null });
    expect(own.json().results.map((r: Json) => r.id)).toEqual([second.id, first.id]);
    expect(Object.keys(own.json().results[0])).toEqual(REQUEST_KEYS);

    const stranger = await registerCandidate(t);
    const theirs = await get('/api/popia/deletion-requests/', stranger.access);
    expect(theirs.json()).toMatchObject({ count: 0, results: [] });

    const staff = await get('/api/popia/deletion-requests/?page_size=100', admin.access);
    const ids = staff.json().results.map((r: Json) => r.id);
    expect(ids).toEqual(expect.arrayContaining([first.id, second.id]));
    expect(staff.json().count).toBeGreaterThanOrEqual(ids.length);
    const paged = await get('/api/popia/deletion-requests/?page_size=1&page=2', admin.access);
    expect(paged.json().results).toHaveLength(1);
    expect(paged.json().previous).toContain('page_size=1');
  });
});

describe('reviewing a request', () => {
  it('refuses candidates with the original message, unknown ids with 404', async () => {
    const { user, request } = await candidateWithRequest();
    const denied = await review(request.id, user.access, { action: 'approve' });
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toMatchObject({
      detail: 'Only admins can review deletion requests',
      error: 'Only admins can review deletion requests',
      code: 'permission_denied',
    });
    const missing = await review(99999999, admin.access, { action: 'approve' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({
      detail: 'Deletion request not found',
      error: 'Deletion request not found',
    });
  });

  it('validates the action and the notes; a rejection needs notes; one’s own request is refused', async () => {
    const { request } = await candidateWithRequest();
    const bad = await review(request.id, admin.access, { action: 'maybe' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors).toEqual({ action: ['"maybe" is not a valid choice.'] });
    const none = await review(request.id, admin.access, {});
    expect(none.json().errors).toEqual({ action: ['This field is required.'] });
    const long = await review(request.id, admin.access, { action: 'approve', notes: 'n'.repeat(2001) });
    expect(long.json().errors).toEqual({ notes: ['Ensure this field has no more than 2000 characters.'] });
    for (const notes of [undefined, '', '   ']) {
      const res = await review(request.id, admin.access, {
        action: 'reject',
        ...(notes === undefined ? {} : { notes }),
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({
        code: 'validation_error',
        errors: { notes: ['Rejection reason is required when rejecting a deletion request.'] },
      });
    }
    // Still pending after all the refusals.
    expect((await get('/api/popia/deletion-requests/?page_size=100', admin.access)).json().results).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: request.id, status: 'pending' })]),
    );

    const mine = (await create(admin2.access, { reason: 'admin leaving' })).json();
    const own = await review(mine.id, admin2.access, { action: 'approve' });
    expect(own.statusCode).toBe(403);
    expect(own.json().detail).toBe('You cannot review your own deletion request.');
    expect((await cancel(mine.id, admin2.access)).statusCode).toBe(200);
  });

  it('rejects with the reason: 200, e-mail with the reason, audit; a second review says it is rejected', async () => {
    const { user, request } = await candidateWithRequest();
    const res = await review(request.id, admin.access, { action: 'reject', notes: 'Active <case> open' });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(Object.keys(body)).toEqual(REQUEST_KEYS);
    expect(body).toMatchObject({
      id: request.id,
      status: 'rejected',
      status_display: 'Rejected',
      reviewed_by: admin.id,
      reviewed_by_email: admin.email,
      admin_notes: 'Active &lt;case&gt; open',
      scheduled_for: null,
    });
    expect(body.reviewed_at).toMatch(ISO);
    const sent = await mails('deletion_rejected', user.email);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.subject).toBe('Your data deletion request has been rejected');
    expect(sent[0]!.text).toContain('Active');
    const audit = await auditRows('deletion_reviewed', user.id);
    expect(Number(audit[0]!.actor_id)).toBe(admin.id);
    expect(audit[0]!.changes).toEqual({ status: ['pending', 'rejected'] });

    // The status is checked before the body.
    const again = await review(request.id, admin.access, { action: 'nonsense' });
    expect(again.statusCode).toBe(400);
    expect(again.json()).toMatchObject({
      detail: 'Request is already rejected',
      error: 'Request is already rejected',
    });
    const cancelled = await cancel(request.id, user.access);
    expect(cancelled.json().detail).toBe('Request is already rejected');
  });

  it('approves: scheduled 7 days later, e-mail with the date and how to cancel', async () => {
    const { user, request } = await candidateWithRequest();
    const before = t.c.now().getTime();
    const res = await review(request.id, admin.access, { action: 'approve', notes: 'OK' });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ status: 'approved', status_display: 'Approved', admin_notes: 'OK' });
    expect(new Date(body.scheduled_for).getTime() - before).toBe(7 * 86_400_000);
    const sent = await mails('deletion_approved', user.email);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.subject).toBe('Your data deletion request has been approved');
    expect(sent[0]!.text).toContain(body.scheduled_for);
    expect(sent[0]!.text).toMatch(/cancel/i);
    expect(sent[0]!.text).toContain('journal entries');
    const again = await review(request.id, admin.access, { action: 'approve' });
    expect(again.json().detail).toBe('Request is already approved');
  });
});

describe('cancelling a request', () => {
  it('the owner cancels while pending or approved; others get 404; then it is cancelled', async () => {
    const { user, request } = await candidateWithRequest();
    const stranger = await registerCandidate(t);
    expect((await cancel(request.id, stranger.access)).statusCode).toBe(404);
    expect((await cancel(request.id, admin.access)).statusCode).toBe(404);
    const pendingCancel = await cancel(request.id, user.access);
    expect(pendingCancel.statusCode, pendingCancel.body).toBe(200);
    expect(Object.keys(pendingCancel.json())).toEqual(REQUEST_KEYS);
    expect(pendingCancel.json()).toMatchObject({ status: 'cancelled', status_display: 'Cancelled' });
    expect(pendingCancel.json().cancelled_at).toMatch(ISO);

    const next = (await create(user.access, {})).json();
    await review(next.id, admin.access, { action: 'approve' });
    const approvedCancel = await cancel(next.id, user.access);
    expect(approvedCancel.statusCode).toBe(200);
    expect(approvedCancel.json()).toMatchObject({ status: 'cancelled', reviewed_by: admin.id });
    const twice = await cancel(next.id, user.access);
    expect(twice.statusCode).toBe(400);
    expect(twice.json()).toMatchObject({
      detail: 'Request is already cancelled',
      error: 'Request is already cancelled',
    });
    const exec = await execute(next.id, admin.access);
    expect(exec.statusCode).toBe(400);
    expect(exec.json().detail).toBe('Only approved requests can be executed');
    const cancelled = await auditRows('deletion_cancelled', user.id);
    expect(cancelled.map((r) => r.outcome)).toEqual(['denied', 'denied', 'success', 'success']);
    // The refused attempts of the stranger and the admin are recorded (privacy.md §6).
    expect(cancelled.slice(0, 2).map((r) => Number(r.actor_id))).toEqual([stranger.id, admin.id]);
  });
});

describe('executing a request', () => {
  it('refuses candidates with the original message, unknown ids, and requests not approved', async () => {
    const { user, request } = await candidateWithRequest();
    const fresh = await openSession(t, admin.id);
    const denied = await execute(request.id, user.access);
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toMatchObject({
      detail: 'Only admins can execute deletions',
      error: 'Only admins can execute deletions',
    });
    expect((await execute(99999999, fresh.access)).statusCode).toBe(404);
    const pending = await execute(request.id, fresh.access);
    expect(pending.statusCode).toBe(400);
    expect(pending.json()).toMatchObject({
      detail: 'Only approved requests can be executed',
      error: 'Only approved requests can be executed',
    });
  });
});

const marker = (what: string) => `ERASEMARK-${what}-9Zq`;
const ID_NUMBER = '9307145826087';
const JOURNAL_FIELDS = ['activities', 'challenges', 'achievements', 'notes', 'barriers_faced'] as const;

describe('erasure (execute now)', () => {
  let x: TestUser;
  let requestId: number;
  let summary: Json;
  let backup: { ciphertext: string; ref: { rowKey: number; ownerId: number } };
  let authored: { noteId: number; about: TestUser };
  let proofBefore: { journal: number; profile: number };

  it('seeds the candidate’s data everywhere it can live', async () => {
    const staff = await openSession(t, admin.id);
    const adminAccess = staff.access;
    x = await registerCandidate(t, { first_name: 'Xanthippe', last_name: 'Quibbleworth' });
    const intake = await post('/api/intake/submit/', x.access, {
      intake_data: {
        id_number: ID_NUMBER,
        diagnosis: marker('diagnosis'),
        medications: marker('medications'),
      },
    });
    expect(intake.statusCode, intake.body).toBeLessThan(300);
    for (const [n, date] of [
      [1, '2024-05-01'],
      [2, '2024-05-02'],
    ] as const) {
      const res = await post('/api/journal/', x.access, {
        date,
        mood: 'good',
        energy_level: 6,
        ...Object.fromEntries(JOURNAL_FIELDS.map((f) => [f, marker(`${f}${n}`)])),
      });
      expect(res.statusCode, res.body).toBe(201);
    }
    const note = await post('/api/admin-notes/', adminAccess, {
      candidate: x.id,
      category: 'medical',
      title: marker('note_title'),
      content: marker('note_content'),
    });
    expect(note.statusCode, note.body).toBe(201);
    // 2FA on: a TOTP secret and backup codes.
    const setup = await post('/api/auth/2fa/setup/', x.access, {});
    const verified = await post('/api/auth/2fa/verify-setup/', x.access, {
      totp_code: currentTotp(setup.json().secret, t.c.now()),
    });
    expect(verified.statusCode, verified.body).toBe(200);
    expect((await post('/api/auth/password-reset/request/', undefined, { email: x.email })).statusCode).toBe(
      200,
    );
    await t.c.db.execute(
      sql`insert into password_history (user_id, password_hash) values (${x.id}, 'argon2-old-hash')`,
    );
    // Consents and their history (as the consent routes store them).
    const [version] = await rows<{ id: string }>(
      sql`insert into privacy_policy_versions (version, title, content, effective_date) values ('erase-t', 'T', 'T', '2024-01-01') returning id`,
    );
    await t.c.db.execute(
      sql`insert into user_consents (user_id, consent_type, privacy_policy_version_id, ip_address, user_agent) values (${x.id}, 'medical_data', ${version!.id}, '10.9.8.7', ${marker('ua')})`,
    );
    await t.c.db.execute(
      sql`insert into consent_events (user_id, consent_type, privacy_policy_version_id, action, ip_address, user_agent) values (${x.id}, 'medical_data', ${version!.id}, 'grant', '10.9.8.7', ${marker('ua')})`,
    );
    // An export document, encrypted under the user's key.
    const dek = await t.c.dataKeys.find(t.c.db, x.id);
    expect(dek).not.toBeNull();
    await t.c.db.execute(
      sql`insert into data_export_requests (user_id, status, document) values (${x.id}, 'completed', ${t.c.cipher.encrypt(dek!, marker('export'), 'data_export_requests.document.x')})`,
    );
    // A ciphertext "in a backup": a copy of a journal entry's record taken before the erasure.
    const [entry] = await rows<{ id: string; sealed: string }>(
      sql`select id, sealed from journal_entries where user_id = ${x.id} order by id limit 1`,
    );
    backup = { ciphertext: entry!.sealed, ref: { rowKey: Number(entry!.id), ownerId: x.id } };
    expect(journalRecord.open(t.c.cipher, dek!, backup.ref, backup.ciphertext).activities).toBe(
      marker('activities1'),
    );

    // X is also an author: promoted to admin, writes a note about someone else, back to candidate.
    const about = await registerCandidate(t);
    await t.c.db.execute(sql`update users set role = 'admin' where id = ${x.id}`);
    const asAdmin = await openSession(t, x.id);
    const authoredNote = await post('/api/admin-notes/', asAdmin.access, {
      candidate: about.id,
      category: 'progress',
      title: 'Progress check',
      content: 'Doing well',
    });
    expect(authoredNote.statusCode, authoredNote.body).toBe(201);
    await t.c.db.execute(sql`update users set role = 'candidate' where id = ${x.id}`);
    authored = { noteId: authoredNote.json().id, about };
    proofBefore = { journal: 2, profile: 1 };

    const dump = await rawDump();
    expect(dump.get('users')).toContain(x.email);
    expect(dump.get('users')).toContain('Quibbleworth');
  });

  it('approve then execute: 200 with the summary as a JSON string', async () => {
    requestId = (await create(x.access, { reason: 'Please forget me' })).json().id;
    expect((await review(requestId, admin.access, { action: 'approve' })).statusCode).toBe(200);
    const staff = await openSession(t, admin2.id);
    const res = await execute(requestId, staff.access);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(Object.keys(body)).toEqual(['message', 'deletion_summary']);
    expect(body.message).toBe('User data deleted successfully');
    expect(typeof body.deletion_summary).toBe('string');
    summary = JSON.parse(body.deletion_summary as string) as Json;
    expect(Object.keys(summary)).toEqual([
      'user_id',
      'email_sha256',
      'deleted_at',
      'items_deleted',
      'user_anonymized',
      'key_destroyed',
    ]);
    expect(summary).toMatchObject({
      user_id: x.id,
      email_sha256: createHash('sha256').update(x.email.toLowerCase()).digest('hex'),
      items_deleted: {
        journal_entries: proofBefore.journal,
        admin_notes: 1,
        profile: proofBefore.profile,
        consents: 1,
        export_requests: 1,
      },
      user_anonymized: true,
      key_destroyed: true,
    });
    expect(Object.keys(summary.items_deleted as Json)).toEqual([
      'journal_entries',
      'admin_notes',
      'profile',
      'consents',
      'sessions',
      'export_requests',
    ]);
    expect((summary.items_deleted as Json).sessions).toBeGreaterThanOrEqual(2);
    expect(summary.deleted_at).toMatch(/\+00:00$/);
    expect(body.deletion_summary).not.toContain(x.email);

    const again = await execute(requestId, staff.access);
    expect(again.json().detail).toBe('Only approved requests can be executed');
  });

  it('a raw dump holds none of the person’s readable data; surviving ciphertext cannot be decrypted', async () => {
    const dump = await rawDump();
    const needles = [
      'ERASEMARK',
      x.email,
      x.email.split('@')[0]!,
      'Xanthippe',
      'Quibbleworth',
      ID_NUMBER,
      '10.9.8.7',
    ];
    const leaks = [...dump].flatMap(([table, text]) =>
      needles.filter((n) => text.includes(n)).map((n) => `${table}: ${n}`),
    );
    expect(leaks).toEqual([]);
    // Crypto-shredding: the key row is gone, so the copied ciphertext has no key anywhere.
    expect(await rows(sql`select * from data_keys where user_id = ${x.id}`)).toEqual([]);
    t.c.dataKeys.evict(x.id);
    expect(await t.c.dataKeys.find(t.c.db, x.id)).toBeNull();
    expect(backup.ciphertext).toMatch(/^v2\./);
    for (const table of [
      'journal_entries',
      'user_profiles',
      'intake_submissions',
      'sessions',
      'password_reset_tokens',
      'two_factor_backup_codes',
      'password_history',
      'user_consents',
      'data_export_requests',
      'account_deletion_schedules',
    ]) {
      const left = await rows(
        sql`select count(*)::int as n from ${sql.identifier(table)} where user_id = ${x.id}`,
      );
      expect(left[0], table).toEqual({ n: 0 });
    }
    expect(await rows(sql`select id from admin_notes where candidate_id = ${x.id}`)).toEqual([]);
  });

  it('the account row stays anonymised; the person can no longer sign in', async () => {
    const [row] = await rows(sql`select * from users where id = ${x.id}`);
    expect(row).toMatchObject({
      email: `deleted_${x.id}@deleted.local`,
      first_name: '[DELETED]',
      last_name: '[DELETED]',
      is_active: false,
      password: '!erased',
      has_completed_intake: false,
      totp_enabled: false,
      totp_secret: null,
    });
    expect(row!.anonymized_at).not.toBeNull();
    const login = await post('/api/auth/login/', undefined, { email: x.email, password: x.password });
    expect(login.statusCode).toBe(401);
    const anonymised = await post('/api/auth/login/', undefined, {
      email: `deleted_${x.id}@deleted.local`,
      password: '!erased',
    });
    // Refused either way (the placeholder domain is not a registrable one).
    expect([400, 401]).toContain(anonymised.statusCode);
    expect(anonymised.json().access).toBeUndefined();
    expect((await get('/api/auth/me/', x.access)).statusCode).toBe(401);
    expect((await post('/api/auth/token/refresh/', undefined, { refresh: x.refresh })).statusCode).toBe(401);
  });

  it('keeps the request (completed, proof with the e-mail hash), consent history without IP/UA, audit and authored notes', async () => {
    const [request] = await rows(sql`select * from data_deletion_requests where id = ${requestId}`);
    expect(request!.status).toBe('completed');
    expect(Number(request!.user_id)).toBe(x.id);
    const completed = new Date(request!.completed_at as string).getTime();
    expect(new Date(request!.retention_until as string).getTime() - completed).toBe(730 * 86_400_000);
    expect(request!.deletion_proof).toEqual(summary);
    expect(JSON.stringify(request!.deletion_proof)).not.toContain(x.email);
    const listed = (await get('/api/popia/deletion-requests/?page_size=100', admin.access)).json().results;
    expect(listed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: requestId, status: 'completed', status_display: 'Completed' }),
      ]),
    );
    expect(listed.find((r: Json) => r.id === requestId).completed_at).toMatch(ISO);

    expect(
      await rows(sql`select action, ip_address, user_agent from consent_events where user_id = ${x.id}`),
    ).toEqual([{ action: 'grant', ip_address: null, user_agent: null }]);

    const executed = await auditRows('deletion_executed', x.id);
    expect(executed).toHaveLength(1);
    expect(Number(executed[0]!.actor_id)).toBe(admin2.id);
    expect(executed[0]).toMatchObject({
      resource_type: 'data_deletion_request',
      resource_id: String(requestId),
    });
    expect(JSON.stringify(executed[0])).not.toContain(x.email);
    expect((await auditRows('deletion_requested', x.id)).length).toBe(1);

    const [note] = await rows(
      sql`select admin_id, candidate_id from admin_notes where id = ${authored.noteId}`,
    );
    expect([Number(note!.admin_id), Number(note!.candidate_id)]).toEqual([x.id, authored.about.id]);
    // Written under the other candidate's key: still readable.
    const staff = await openSession(t, admin.id);
    const read = await get(`/api/admin-notes/${authored.noteId}/`, staff.access);
    expect(read.statusCode, read.body).toBe(200);
    expect(read.json().content).toBe('Doing well');
  });

  it('e-mails the completion to the address the person had, not the anonymised one', async () => {
    const sent = await mails('deletion_completed');
    expect(sent.map((m) => m.to)).toContain(x.email);
    expect(sent.map((m) => m.to)).not.toContain(`deleted_${x.id}@deleted.local`);
    const mail = sent.find((m) => m.to === x.email)!;
    expect(mail.subject).toBe('Your data deletion request has been completed');
    expect(mail.text).toContain('journal entries');
    expect(mail.text).toContain('Personal Support System');
  });

  it('cannot erase twice, nor a superuser directly', async () => {
    await expect(
      eraseUser(t.c, x.id, { audit: { actor: null, meta: null }, trigger: 'request', requestId }),
    ).rejects.toMatchObject({ status: 400, detail: 'User data has already been erased' });
    await expect(
      eraseUser(t.c, superuser.id, { audit: { actor: null, meta: null }, trigger: 'request', requestId }),
    ).rejects.toMatchObject({ status: 400 });
  });
});

describe('the due-deletion job', () => {
  it('erases approved requests once the grace period has passed, not before', async () => {
    const staffAuthor = await createUserWithSession(t, 'admin', uniqueEmail('author'));
    const about = await registerCandidate(t);
    const note = await post('/api/admin-notes/', staffAuthor.access, {
      candidate: about.id,
      category: 'general',
      title: 'Kept',
      content: 'Stays after the author is erased',
    });
    expect(note.statusCode).toBe(201);
    const request = (await create(staffAuthor.access, { reason: 'leaving the team' })).json();
    const reviewer = await openSession(t, admin.id);
    expect((await review(request.id, reviewer.access, { action: 'approve' })).statusCode).toBe(200);
    // Another person approved, then changed their mind: the job leaves them alone.
    const { user: changedMind, request: withdrawn } = await candidateWithRequest();
    expect((await review(withdrawn.id, reviewer.access, { action: 'approve' })).statusCode).toBe(200);
    expect((await cancel(withdrawn.id, changedMind.access)).statusCode).toBe(200);

    const notYet = await runDueDeletions(t.c);
    expect(notYet.erased).toBe(0);
    t.clock.advance(6 * 86_400);
    expect((await runDueDeletions(t.c)).erased).toBe(0);
    const stillThere = await openSession(t, staffAuthor.id);
    expect((await get('/api/auth/me/', stillThere.access)).statusCode).toBe(200);

    t.clock.advance(86_400 + 60);
    // Also erases the requests approved by the tests above (all past their grace period now).
    const due = await runDueDeletions(t.c);
    expect(due.failed).toBe(0);
    expect(due.erased).toBe(due.due);
    expect(due.erased).toBeGreaterThanOrEqual(1);
    expect((await get('/api/auth/me/', stillThere.access)).statusCode).toBe(401);
    const [row] = await rows(
      sql`select status, deletion_proof from data_deletion_requests where id = ${request.id}`,
    );
    expect(row!.status).toBe('completed');
    expect((row!.deletion_proof as Json).key_destroyed).toBe(true);
    const executed = await auditRows('deletion_executed', staffAuthor.id);
    expect(executed[0]).toMatchObject({ actor_id: null, actor_role: 'system' });
    // The note the erased admin wrote about someone else survives, with the author's (bare) id.
    const [kept] = await rows(sql`select admin_id from admin_notes where id = ${note.json().id}`);
    expect(Number(kept!.admin_id)).toBe(staffAuthor.id);
    expect((await mails('deletion_completed', staffAuthor.email)).length).toBe(1);
    const [untouched] = await rows(
      sql`select is_active, anonymized_at from users where id = ${changedMind.id}`,
    );
    expect(untouched).toEqual({ is_active: true, anonymized_at: null });
    // Idempotent: nothing left to do.
    expect(await runDueDeletions(t.c)).toMatchObject({ due: 0, erased: 0 });
  });
});

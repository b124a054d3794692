import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, intakeSubmissions, userProfiles } from '../src/db/schema.js';
import {
  createTestApp,
  createUserWithSession,
  registerCandidate,
  type TestApp,
  type TestUser,
} from './helpers/app.js';

let t: TestApp;
let alice: TestUser;
let bob: TestUser;
let admin: TestUser;
beforeAll(async () => {
  t = await createTestApp();
  alice = await registerCandidate(t);
  bob = await registerCandidate(t);
  admin = await createUserWithSession(t, 'admin');
});
afterAll(async () => {
  await t.close();
});

const post = (url: string, payload: unknown, user: TestUser) =>
  t.request({ method: 'POST', url, payload: payload as object, token: user.access });
const get = (url: string, user: TestUser) => t.request({ method: 'GET', url, token: user.access });
const patch = (url: string, payload: unknown, user: TestUser) =>
  t.request({ method: 'PATCH', url, payload: payload as object, token: user.access });

const VALID_ID = '9001015800088';
const PROFILE_KEYS = [
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
  'created_at',
  'updated_at',
];
const S_KEYS = ['id', 'status', 'submitted_at', 'reviewed_by', 'reviewed_at'];
interface Page {
  count: number;
  next: string | null;
  previous: string | null;
  results: { id: number; user: number }[];
}
const idsOf = (page: Page) => page.results.map((r) => r.id);
const ITEM_KEYS = [
  'id',
  'user',
  'status',
  'submitted_at',
  'reviewed_by',
  'reviewed_at',
  'review_notes',
  'responses',
];

const auditRows = (where: Parameters<typeof and>) =>
  t.c.db
    .select()
    .from(auditLog)
    .where(and(...where));

const submissionsOf = (userId: number) =>
  t.c.db.select().from(intakeSubmissions).where(eq(intakeSubmissions.userId, userId));

describe('POST intake/', () => {
  it('writes the profile (escaped, normalised), sets the intake flag and stores an encrypted submission', async () => {
    const res = await post(
      '/api/intake/',
      {
        intake_data: {
          id_number: '900101 5800 088',
          contact_number: '082 123-4567',
          address: ' 12 <Main> St & "Co" ',
          diagnosis: 'ADHD',
          favourite_colour: 'blue',
        },
      },
      alice,
    );
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body)).toEqual(['detail', 'profile']);
    expect(body.detail).toBe('Intake completed successfully');
    expect(Object.keys(body.profile)).toEqual(PROFILE_KEYS);
    expect(body.profile).toMatchObject({
      id_number: VALID_ID,
      contact_number: '+27821234567',
      address: '12 &lt;Main&gt; St &amp; &quot;Co&quot;',
      diagnosis: 'ADHD',
      medications: null,
    });

    const me = await get('/api/auth/me/', alice);
    expect(me.json().has_completed_intake).toBe(true);
    expect(me.json().profile.contact_number).toBe('+27821234567');

    const stored = await submissionsOf(alice.id);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.status).toBe('submitted');

    const events = await auditRows([eq(auditLog.actorId, alice.id), eq(auditLog.subjectUserId, alice.id)]);
    const profileUpdate = events.find((e) => e.action === 'update' && e.resourceType === 'profile');
    expect(profileUpdate?.fields).toEqual(['id_number', 'contact_number', 'address', 'diagnosis']);
    expect(profileUpdate?.changes).toBeNull();
    expect(events.find((e) => e.action === 'update' && e.resourceType === 'user')?.changes).toEqual({
      has_completed_intake: [false, true],
    });
    const created = events.find((e) => e.action === 'create' && e.resourceType === 'intake_submission');
    expect(created?.resourceId).toBe(String(stored[0]!.id));
    // PRIVACY: no audit entry carries a submitted value.
    expect(JSON.stringify(events)).not.toContain('ADHD');
  });

  it('is repeatable: acts as an update, skips null and stores ""', async () => {
    t.clock.advance(60);
    const res = await post(
      '/api/intake/',
      { intake_data: { address: 'New address', diagnosis: null, medications: '', learning_style: 'visual' } },
      alice,
    );
    expect(res.statusCode).toBe(200);
    expect(res.json().profile).toMatchObject({
      id_number: VALID_ID,
      address: 'New address',
      diagnosis: 'ADHD',
      medications: '',
      learning_style: 'visual',
    });
    expect(await submissionsOf(alice.id)).toHaveLength(2);
  });

  it('answers missing or empty intake data with 400 "No intake data provided"', async () => {
    for (const payload of [{}, { intake_data: {} }, { intake_data: null }, { other: 1 }]) {
      const res = await post('/api/intake/', payload, bob);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      const body = res.json();
      expect(body.detail).toBe('No intake data provided');
      expect(body.code).toBe('bad_request');
      expect(body.errors).toBeUndefined();
    }
  });

  it('answers non-object intake data with the Python type name', async () => {
    const cases: [unknown, string][] = [
      ['some text', 'str'],
      [['a'], 'list'],
      [5, 'int'],
      [1.5, 'float'],
      [true, 'bool'],
    ];
    for (const [data, type] of cases) {
      const res = await post('/api/intake/', { intake_data: data }, bob);
      expect(res.statusCode, type).toBe(400);
      expect(res.json().detail).toBe('Invalid intake data');
      expect(res.json().errors).toEqual({
        non_field_errors: [`Invalid data. Expected a dictionary, but got ${type}.`],
      });
    }
  });

  it('answers field errors keyed by profile field and writes nothing', async () => {
    const res = await post(
      '/api/intake/',
      { intake_data: { id_number: '123', contact_number: 'not a phone', address: 'kept?' } },
      bob,
    );
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.detail).toBe('Invalid intake data');
    expect(body.code).toBe('validation_error');
    expect(body.errors).toEqual({
      id_number: ['Invalid South African ID number. Must be 13 digits.'],
      contact_number: ['Invalid phone number format. Use format: +27XXXXXXXXX or 0XXXXXXXXX'],
    });
    expect(await submissionsOf(bob.id)).toHaveLength(0);
    expect((await get('/api/auth/me/', bob)).json().has_completed_intake).toBe(false);
  });

  it('refuses an ID number another profile holds, as an intake field error', async () => {
    const res = await post('/api/intake/', { intake_data: { id_number: VALID_ID } }, bob);
    expect(res.statusCode).toBe(400);
    expect(res.json().detail).toBe('Invalid intake data');
    expect(res.json().errors).toEqual({ id_number: ['A profile with this ID number already exists.'] });
  });
});

describe('POST intake/submit/', () => {
  it('does the same and returns the submission', async () => {
    t.clock.advance(60);
    const res = await post('/api/v1/intake/submit/', { intake_data: { support_needs: 'Quiet room' } }, bob);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body)).toEqual(['detail', 'profile', 'submission']);
    expect(body.detail).toBe('Intake completed successfully');
    expect(body.profile.support_needs).toBe('Quiet room');
    expect(Object.keys(body.submission)).toEqual(S_KEYS);
    expect(body.submission).toMatchObject({ status: 'submitted', reviewed_by: null, reviewed_at: null });
    expect(body.submission.submitted_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((await get('/api/auth/me/', bob)).json().has_completed_intake).toBe(true);
  });
});

describe('GET intake/<user_id>/', () => {
  it('returns the own profile, hides others from candidates, shows them to staff with an audit entry', async () => {
    const own = await get(`/api/intake/${alice.id}/`, alice);
    expect(own.statusCode).toBe(200);
    expect(Object.keys(own.json())).toEqual(PROFILE_KEYS);
    expect(own.json().address).toBe('New address');

    const other = await get(`/api/intake/${alice.id}/`, bob);
    expect(other.statusCode).toBe(404);
    expect(other.json().detail).toBe('Not found.');

    const staff = await get(`/api/intake/${alice.id}/`, admin);
    expect(staff.statusCode).toBe(200);
    expect(staff.json().id_number).toBe(VALID_ID);
    const reads = await auditRows([
      eq(auditLog.action, 'read'),
      eq(auditLog.resourceType, 'profile'),
      eq(auditLog.actorId, admin.id),
      eq(auditLog.subjectUserId, alice.id),
    ]);
    expect(reads).toHaveLength(1);
    expect(reads[0]!.actorRole).toBe('admin');
  });

  it('answers 404 without a profile, for an unknown user and for a non-numeric id', async () => {
    const carol = await registerCandidate(t);
    await t.c.db.delete(userProfiles).where(eq(userProfiles.userId, carol.id));
    expect((await get(`/api/intake/${carol.id}/`, carol)).statusCode).toBe(404);
    expect((await get('/api/intake/999999/', admin)).statusCode).toBe(404);
    expect((await get('/api/intake/abc/', admin)).statusCode).toBe(404);
  });
});

describe('intake submissions', () => {
  it('lists own submissions to a candidate, newest first, with decrypted answers', async () => {
    const res = await get('/api/intake/submissions/', alice);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body)).toEqual(['count', 'next', 'previous', 'results']);
    expect(body.count).toBe(2);
    expect(res.json<Page>().results.map((r) => r.user)).toEqual([alice.id, alice.id]);
    const [newest, oldest] = body.results;
    expect(Object.keys(newest)).toEqual(ITEM_KEYS);
    expect(newest.id).toBeGreaterThan(oldest.id);
    expect(newest.responses).toEqual({ address: 'New address', medications: '', learning_style: 'visual' });
    expect(oldest.responses).toEqual({
      id_number: VALID_ID,
      contact_number: '+27821234567',
      address: '12 &lt;Main&gt; St &amp; &quot;Co&quot;',
      diagnosis: 'ADHD',
    });
    expect(newest.review_notes).toBeNull();
    // a candidate's ?user= cannot widen the scope
    expect((await get(`/api/intake/submissions/?user=${bob.id}`, alice)).json().count).toBe(0);
  });

  it('lists all to staff with filters and pagination, auditing one read per subject', async () => {
    const all = await get('/api/intake/submissions/', admin);
    expect(all.statusCode).toBe(200);
    expect(all.json().count).toBe(3);
    expect(all.json().results[0].user).toBe(bob.id);

    const byUser = await get(`/api/intake/submissions/?user=${alice.id}`, admin);
    expect(byUser.json().count).toBe(2);
    expect((await get('/api/intake/submissions/?status=reviewed', admin)).json().count).toBe(0);
    expect((await get('/api/intake/submissions/?status=submitted', admin)).json().count).toBe(3);

    const bad = await get('/api/intake/submissions/?status=closed&user=x', admin);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors).toEqual({
      user: ['A valid integer is required.'],
      status: ['"closed" is not a valid choice.'],
    });

    const page1 = await get('/api/intake/submissions/?page_size=2', admin);
    expect(page1.json().results).toHaveLength(2);
    expect(page1.json().next).toBe('http://localhost/api/intake/submissions/?page_size=2&page=2');
    const page2 = await get('/api/intake/submissions/?page_size=2&page=2', admin);
    expect(page2.json().results).toHaveLength(1);
    expect(page2.json().previous).toBe('http://localhost/api/intake/submissions/?page_size=2');
    expect([...idsOf(page1.json<Page>()), ...idsOf(page2.json<Page>())]).toEqual(idsOf(all.json<Page>()));
    expect((await get('/api/intake/submissions/?page=9', admin)).json().detail).toBe('Invalid page.');

    const reads = await auditRows([
      eq(auditLog.action, 'read'),
      eq(auditLog.resourceType, 'intake_submission'),
      eq(auditLog.actorId, admin.id),
    ]);
    // first full listing: one entry for alice (2 submissions) and one for bob
    const firstListing = reads.filter((r) => r.requestId === reads[0]!.requestId);
    expect(firstListing.map((r) => r.subjectUserId).sort()).toEqual([alice.id, bob.id].sort());
    expect(firstListing.find((r) => r.subjectUserId === alice.id)?.metadata).toEqual({
      submission_ids: idsOf(byUser.json<Page>()),
    });
  });

  it('shows one submission to its owner and staff, 404 to others', async () => {
    const [sub] = await submissionsOf(bob.id);
    const url = `/api/intake/submissions/${sub!.id}/`;
    const own = await get(url, bob);
    expect(own.statusCode).toBe(200);
    expect(Object.keys(own.json())).toEqual(ITEM_KEYS);
    expect(own.json()).toMatchObject({
      id: sub!.id,
      user: bob.id,
      responses: { support_needs: 'Quiet room' },
    });

    expect((await get(url, alice)).statusCode).toBe(404);
    expect((await get('/api/intake/submissions/999999/', admin)).statusCode).toBe(404);

    const staff = await get(url, admin);
    expect(staff.statusCode).toBe(200);
    const reads = await auditRows([
      eq(auditLog.action, 'read'),
      eq(auditLog.resourceId, String(sub!.id)),
      eq(auditLog.actorId, admin.id),
    ]);
    expect(reads.length).toBeGreaterThanOrEqual(1);
    expect(reads.at(-1)?.fields).toEqual(['responses', 'review_notes']);
  });

  it('lets staff review a submission; review notes are stored encrypted', async () => {
    const [sub] = await submissionsOf(alice.id);
    const url = `/api/intake/submissions/${sub!.id}/`;
    const res = await patch(url, { status: 'needs_follow_up', review_notes: ' Call <back> ' }, admin);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body)).toEqual(ITEM_KEYS);
    expect(body).toMatchObject({
      id: sub!.id,
      user: alice.id,
      status: 'needs_follow_up',
      reviewed_by: admin.id,
      review_notes: 'Call &lt;back&gt;',
    });
    expect(body.reviewed_at).toMatch(/^\d{4}-\d\d-\d\dT/);

    // the owner sees the review
    expect((await get(url, alice)).json().review_notes).toBe('Call &lt;back&gt;');
    expect((await get('/api/intake/submissions/?status=needs_follow_up', admin)).json().count).toBe(1);

    const [row] = await t.c.db
      .select({
        sealed: intakeSubmissions.sealed,
        responses: intakeSubmissions.responses,
        reviewNotes: intakeSubmissions.reviewNotes,
      })
      .from(intakeSubmissions)
      .where(eq(intakeSubmissions.id, sub!.id));
    expect(row).toMatchObject({ sealed: expect.stringMatching(/^v2\./), responses: null, reviewNotes: null });
    const raw = JSON.stringify(row);
    for (const plain of ['Call', 'back', 'ADHD', '+27821234567', VALID_ID, 'Main']) {
      expect(raw).not.toContain(plain);
    }

    const [update] = await auditRows([
      eq(auditLog.action, 'update'),
      eq(auditLog.resourceType, 'intake_submission'),
      eq(auditLog.resourceId, String(sub!.id)),
    ]);
    expect(update?.actorId).toBe(admin.id);
    expect(update?.subjectUserId).toBe(alice.id);
    expect(update?.fields).toEqual(['status', 'review_notes', 'reviewed_by', 'reviewed_at']);
    expect(update?.changes).toMatchObject({
      status: ['submitted', 'needs_follow_up'],
      reviewed_by: [null, admin.id],
    });
    expect(JSON.stringify(update)).not.toContain('Call');
  });

  it('refuses a review by a candidate (403) and an invalid status (400)', async () => {
    const [sub] = await submissionsOf(alice.id);
    const url = `/api/intake/submissions/${sub!.id}/`;
    const denied = await patch(url, { status: 'reviewed' }, alice);
    expect(denied.statusCode).toBe(403);
    expect(denied.json().detail).toBe('You do not have permission to perform this action.');

    for (const status of ['submitted', 'closed']) {
      const bad = await patch(url, { status }, admin);
      expect(bad.statusCode).toBe(400);
      expect(bad.json().errors).toEqual({ status: [`"${status}" is not a valid choice.`] });
    }
    const tooLong = await patch(url, { review_notes: 'x'.repeat(2001) }, admin);
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().errors.review_notes).toEqual([
      'Text exceeds maximum length of 2000 characters (got 2001)',
    ]);
    expect((await patch('/api/intake/submissions/999999/', { status: 'reviewed' }, admin)).statusCode).toBe(
      404,
    );
  });
});

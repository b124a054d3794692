import { createHash } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  auditLog,
  consentEvents,
  dataDeletionRequests,
  dataExportRequests,
  journalEntries,
  privacyPolicyVersions,
  userConsents,
} from '../src/db/schema.js';
import { exportCommands } from '../src/modules/privacy/export/cli.js';
import { exportJobs } from '../src/modules/privacy/export/jobs.js';
import { processPendingExports, purgeExpiredExports } from '../src/modules/privacy/export/processing.js';
import { utcToday } from '../src/lib/time.js';
import {
  createTestApp,
  createUserWithSession,
  openSession,
  registerCandidate,
  type TestApp,
  type TestUser,
} from './helpers/app.js';

let t: TestApp;
let alice: TestUser; // the candidate who exports
let bob: TestUser; // another candidate: nothing of his may appear in Alice's export
let admin: TestUser;
let policyVersionId: number;

const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?\+00:00$/;
const JOB_KEYS = [
  'id',
  'requested_at',
  'status',
  'status_display',
  'completed_at',
  'download_count',
  'expires_at',
];
const DOC_KEYS = [
  'export_metadata',
  'user_account',
  'profile',
  'journal_entries',
  'admin_notes',
  'consents',
  'deletion_requests',
  'export_requests',
  'consent_history',
  'sessions',
  'access_log',
  'intake_submissions',
];
const BOB_MARKERS = [
  'BOBX-DIAG',
  'BOBX-ACTIVITY',
  'BOBX-NOTE-TITLE',
  'BOBX-NOTE-BODY',
  'BOBX-ADDRESS',
  'BOBX-REASON',
];

const call = (method: 'GET' | 'POST' | 'PATCH', url: string, token?: string, payload?: object) =>
  t.request({ method, url, ...(token ? { token } : {}), ...(payload ? { payload } : {}) });

async function ok(method: 'POST' | 'PATCH', url: string, token: string, payload: object) {
  const res = await call(method, url, token, payload);
  if (res.statusCode >= 300) throw new Error(`${method} ${url} → ${res.statusCode} ${res.body}`);
  return res;
}

/** Profile, intake, a journal entry, a note about them, consents and a deletion request. */
async function seed(user: TestUser, tag: string, date: string) {
  await ok('POST', '/api/intake/', user.access, { intake_data: { address: `${tag}-ADDRESS` } });
  await ok('PATCH', `/api/users/${user.id}/profile/`, user.access, { diagnosis: `${tag}-DIAG` });
  await ok('POST', '/api/journal/', user.access, {
    date,
    mood: 'good',
    energy_level: 7,
    activities: `${tag}-ACTIVITY`,
    challenges: `${tag}-CHALLENGE`,
  });
  await ok('POST', '/api/admin-notes/', admin.access, {
    candidate: user.id,
    category: 'progress',
    title: `${tag}-NOTE-TITLE`,
    content: `${tag}-NOTE-BODY`,
  });
  const at = t.c.now();
  await t.c.db.insert(userConsents).values({
    userId: user.id,
    consentType: 'data_processing',
    policyVersionId,
    grantedAt: at,
    ipAddress: '127.0.0.1',
  });
  await t.c.db.insert(consentEvents).values({
    userId: user.id,
    consentType: 'data_processing',
    policyVersionId,
    action: 'grant',
    at,
    ipAddress: '127.0.0.1',
    userAgent: 'vitest',
  });
  await t.c.db
    .insert(dataDeletionRequests)
    .values({ userId: user.id, reason: `${tag}-REASON`, status: 'rejected' });
}

beforeAll(async () => {
  t = await createTestApp();
  admin = await createUserWithSession(t, 'admin');
  alice = await registerCandidate(t, { first_name: 'Alice', last_name: 'Exporter' });
  bob = await registerCandidate(t, { first_name: 'Bobx', last_name: 'Other' });
  const [v] = await t.c.db
    .insert(privacyPolicyVersions)
    .values({ version: 'exp-1.0', title: 'Policy', content: 'Text', effectiveDate: '2025-01-01' })
    .returning();
  policyVersionId = v!.id;
  await seed(alice, 'ALICEX', '2024-03-01');
  await seed(bob, 'BOBX', '2024-03-01');
  // An admin reads Alice's profile: it must show in her access log (role only).
  expect((await call('GET', `/api/users/${alice.id}/`, admin.access)).statusCode).toBe(200);
});
afterAll(async () => {
  await t.close();
});

type Doc = Record<string, unknown> & {
  export_metadata: Record<string, unknown>;
  user_account: Record<string, unknown>;
  profile: Record<string, unknown> | null;
  journal_entries: Record<string, unknown>[];
  admin_notes: Record<string, unknown>[];
  consents: Record<string, unknown>[];
  deletion_requests: Record<string, unknown>[];
  export_requests: Record<string, unknown>[];
  consent_history: Record<string, unknown>[];
  sessions: Record<string, unknown>[];
  access_log: Record<string, unknown>[];
  intake_submissions: Record<string, unknown>[];
};

function expectAliceDocument(text: string) {
  // 2-space indented JSON.
  const doc = JSON.parse(text) as Doc;
  expect(text).toBe(JSON.stringify(doc, null, 2));
  expect(Object.keys(doc)).toEqual(DOC_KEYS);
  expect(doc.export_metadata).toEqual({
    exported_at: expect.stringMatching(TS),
    user_id: alice.id,
    format: 'JSON',
    popia_compliance: true,
  });
  expect(Object.keys(doc.user_account)).toEqual([
    'id',
    'email',
    'first_name',
    'last_name',
    'role',
    'has_completed_intake',
    'is_active',
    'date_joined',
    'created_at',
    'updated_at',
  ]);
  expect(doc.user_account).toMatchObject({
    id: alice.id,
    email: alice.email,
    first_name: 'Alice',
    role: 'candidate',
    has_completed_intake: true,
    is_active: true,
  });
  expect(doc.user_account.created_at).toMatch(TS);
  expect(Object.keys(doc.profile!)).toHaveLength(18);
  expect(doc.profile).toMatchObject({ diagnosis: 'ALICEX-DIAG', address: 'ALICEX-ADDRESS' });
  expect(doc.profile!.updated_at).toMatch(TS);
  expect(doc.journal_entries).toEqual([
    {
      date: '2024-03-01',
      mood: 'good',
      energy_level: 7,
      activities: 'ALICEX-ACTIVITY',
      challenges: 'ALICEX-CHALLENGE',
      achievements: '',
      notes: '',
      barriers_faced: '',
      barrier_count: 0,
      created_at: expect.stringMatching(TS),
      updated_at: expect.stringMatching(TS),
    },
  ]);
  expect(doc.admin_notes).toEqual([
    {
      category: 'progress',
      title: 'ALICEX-NOTE-TITLE',
      content: 'ALICEX-NOTE-BODY',
      is_important: false,
      created_by: admin.email,
      created_at: expect.stringMatching(TS),
      updated_at: expect.stringMatching(TS),
    },
  ]);
  expect(doc.consents).toEqual([
    {
      consent_type: 'data_processing',
      granted: true,
      privacy_policy_version: 'exp-1.0',
      granted_at: expect.stringMatching(TS),
      withdrawn_at: null,
    },
  ]);
  expect(doc.deletion_requests).toEqual([
    {
      requested_at: expect.stringMatching(TS),
      status: 'rejected',
      reason: 'ALICEX-REASON',
      reviewed_at: null,
    },
  ]);
  expect(doc.consent_history).toEqual([
    {
      consent_type: 'data_processing',
      action: 'grant',
      privacy_policy_version: 'exp-1.0',
      at: expect.stringMatching(TS),
      ip_address: '127.0.0.1',
      user_agent: 'vitest',
    },
  ]);
  expect(doc.sessions.length).toBeGreaterThanOrEqual(1);
  expect(Object.keys(doc.sessions[0]!)).toEqual([
    'created_at',
    'last_activity',
    'expires_at',
    'ip_address',
    'device_type',
    'browser',
    'os',
    'terminated_at',
  ]);
  const adminRead = doc.access_log.find((e) => e.actor_role === 'admin' && e.action === 'read');
  expect(adminRead).toMatchObject({ resource_type: 'user' });
  expect(Object.keys(adminRead!)).toEqual(['at', 'actor_role', 'action', 'resource_type', 'fields']);
  expect(doc.intake_submissions).toEqual([
    {
      status: 'submitted',
      submitted_at: expect.stringMatching(TS),
      responses: expect.objectContaining({ address: 'ALICEX-ADDRESS' }) as unknown,
      reviewed_by: null,
      reviewed_at: null,
      review_notes: null,
    },
  ]);
  // PRIVACY: nothing of Bob (or any other user's identifiers) anywhere in the file.
  for (const marker of [...BOB_MARKERS, bob.email, 'Bobx']) expect(text).not.toContain(marker);
  expect(text).not.toContain('actor_id');
  return doc;
}

describe('GET popia/data-export/ (synchronous)', () => {
  it('returns every record of the caller as a JSON attachment and nothing of anyone else', async () => {
    const res = await call('GET', '/api/popia/data-export/', alice.access);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['content-disposition']).toBe(
      `attachment; filename="my_data_${alice.id}_${utcToday(t.c.now())}.json"`,
    );
    const doc = expectAliceDocument(res.body);
    // The request being served is listed as processing.
    expect(doc.export_requests).toEqual([
      { requested_at: expect.stringMatching(TS), status: 'processing', completed_at: null },
    ]);

    const rows = await t.c.db
      .select()
      .from(dataExportRequests)
      .where(eq(dataExportRequests.userId, alice.id));
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row).toMatchObject({ status: 'completed', downloadCount: 1, errorMessage: null });
    expect(row.expiresAt!.getTime() - row.completedAt!.getTime()).toBe(48 * 3_600_000);

    const audit = await t.c.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'export'), eq(auditLog.subjectUserId, alice.id)));
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorId: alice.id, resourceId: String(row.id), outcome: 'success' });
  });

  it('records a failed request with a generic message and answers 500 without the cause', async () => {
    const carol = await registerCandidate(t);
    await ok('POST', '/api/journal/', carol.access, {
      date: '2024-05-05',
      mood: 'okay',
      energy_level: 5,
      activities: 'x',
    });
    // A damaged ciphertext makes the build fail.
    await t.c.db
      .update(journalEntries)
      .set({ sealed: 'v2.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' })
      .where(eq(journalEntries.userId, carol.id));
    const res = await call('GET', '/api/popia/data-export/', carol.access);
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({
      detail: 'Failed to export data. Please try again later.',
      error: 'Failed to export data. Please try again later.',
    });
    expect(res.body).not.toMatch(/decrypt/i);
    const [row] = await t.c.db
      .select()
      .from(dataExportRequests)
      .where(eq(dataExportRequests.userId, carol.id));
    expect(row).toMatchObject({ status: 'failed', errorMessage: 'The export could not be generated.' });
  });
});

describe('export jobs (POST popia/data-export/)', () => {
  let jobId: number;
  let token: string;

  it('queues a job (202), builds it in the background, stores it encrypted and e-mails a link', async () => {
    const res = await call('POST', '/api/popia/data-export/', alice.access);
    expect(res.statusCode).toBe(202);
    const job = res.json();
    expect(Object.keys(job)).toEqual(JOB_KEYS);
    expect(job).toMatchObject({
      status: 'pending',
      status_display: 'Pending',
      completed_at: null,
      download_count: 0,
      expires_at: null,
    });
    jobId = job.id as number;

    // Built by the job the request enqueued, without waiting for the scheduled sweep.
    await t.c.jobs.idle();
    const [built0] = await t.c.db.select().from(dataExportRequests).where(eq(dataExportRequests.id, jobId));
    expect(built0!.status).toBe('completed');
    expect(await processPendingExports(t.c)).toEqual({ completed: 0, failed: 0 });

    const got = await call('GET', `/api/popia/data-export/${jobId}/`, alice.access);
    expect(got.statusCode).toBe(200);
    expect(Object.keys(got.json())).toEqual(JOB_KEYS);
    expect(got.json()).toMatchObject({ id: jobId, status: 'completed', status_display: 'Completed' });
    const done = got.json<{ completed_at: string; expires_at: string }>();
    expect(Date.parse(done.expires_at) - Date.parse(done.completed_at)).toBe(48 * 3_600_000);

    await t.c.jobs.idle();
    const mail = t.c.mailer.sent.filter((m) => m.to === alice.email && m.template === 'export_ready');
    expect(mail).toHaveLength(1);
    expect(mail[0]!.subject).toBe('Your PSS data export is ready');
    expect(mail[0]!.text).toContain('48 hours');
    const m = new RegExp(
      `${t.c.config.frontendUrl}/data-export/download\\?id=${jobId}&token=([A-Za-z0-9_-]{43})`,
    ).exec(mail[0]!.text);
    expect(m).not.toBeNull();
    token = m![1]!;
    expect(mail[0]!.text).toContain(`/api/popia/data-export/${jobId}/download/?token=${token}`);
    expect(mail[0]!.text).not.toContain('ALICEX');

    // PRIVACY: the stored document is ciphertext; only the token's hash is kept.
    const [row] = await t.c.db.select().from(dataExportRequests).where(eq(dataExportRequests.id, jobId));
    expect(row!.document).toMatch(/^v1\./);
    for (const plain of ['ALICEX', alice.email, 'export_metadata'])
      expect(row!.document).not.toContain(plain);
    expect(row!.downloadTokenHash).toBe(createHash('sha256').update(token).digest('hex'));

    const built = await t.c.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'export'), eq(auditLog.resourceId, String(jobId))));
    expect(built).toMatchObject([{ actorRole: 'system', subjectUserId: alice.id }]);
  });

  it('downloads once with the e-mailed token (no sign-in), then 404', async () => {
    const url = `/api/popia/data-export/${jobId}/download/?token=${token}`;
    const first = await call('GET', url);
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-disposition']).toMatch(
      new RegExp(`^attachment; filename="my_data_${alice.id}_\\d{4}-\\d{2}-\\d{2}\\.json"$`),
    );
    expect(first.headers['content-type']).toMatch(/^application\/json/);
    const doc = expectAliceDocument(first.body);
    expect(doc.export_requests).toContainEqual({
      requested_at: expect.stringMatching(TS),
      status: 'processing',
      completed_at: null,
    });
    const again = await call('GET', url);
    expect(again.statusCode).toBe(404);
    expect(again.json().detail).toBe('Not found.');

    const downloads = await t.c.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'export_downloaded'), eq(auditLog.resourceId, String(jobId))));
    expect(downloads).toMatchObject([{ actorId: null, actorRole: 'anonymous', subjectUserId: alice.id }]);
  });

  it('downloads with the owner access token; others get 404', async () => {
    const url = `/api/popia/data-export/${jobId}/download/`;
    const own = await call('GET', url, alice.access);
    expect(own.statusCode).toBe(200);
    expectAliceDocument(own.body);
    const [row] = await t.c.db.select().from(dataExportRequests).where(eq(dataExportRequests.id, jobId));
    expect(row!.downloadCount).toBe(2);

    expect((await call('GET', url, bob.access)).statusCode).toBe(404);
    expect((await call('GET', url, admin.access)).statusCode).toBe(404);
    expect((await call('GET', url)).statusCode).toBe(404);
    expect((await call('GET', `${url}?token=${'A'.repeat(43)}`)).statusCode).toBe(404);
    expect((await call('GET', `/api/popia/data-export/${jobId}/`, bob.access)).statusCode).toBe(404);
    expect((await call('GET', '/api/popia/data-export/999999/', alice.access)).statusCode).toBe(404);
    expect((await call('GET', `/api/popia/data-export/${jobId}/`)).statusCode).toBe(401);
  });

  it('lists own requests, newest first', async () => {
    const res = await call('GET', '/api/popia/data-export/requests/', alice.access);
    expect(res.statusCode).toBe(200);
    const page = res.json();
    expect(page.count).toBe(2);
    expect(page.results.map((r: { id: number }) => r.id)[0]).toBe(jobId);
    expect(Object.keys(page.results[0])).toEqual(JOB_KEYS);
    const bobs = await call('GET', '/api/popia/data-export/requests/', bob.access);
    expect(bobs.json().count).toBe(0);
  });

  it('refuses a second request while one is pending or processing (400 with request_id)', async () => {
    await t.c.jobs.idle();
    for (const status of ['pending', 'processing'] as const) {
      const dave = await registerCandidate(t);
      const [busy] = await t.c.db
        .insert(dataExportRequests)
        .values({ userId: dave.id, status })
        .returning({ id: dataExportRequests.id });
      const res = await call('POST', '/api/popia/data-export/', dave.access);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({
        detail: 'An export is already in progress',
        error: 'An export is already in progress',
        request_id: busy!.id,
      });
      await t.c.db.delete(dataExportRequests).where(eq(dataExportRequests.id, busy!.id));
    }
  });

  it('the job builds pending requests (as the scheduler runs it); a failing build is marked failed', async () => {
    await t.c.jobs.idle();
    const erin = await registerCandidate(t);
    await ok('POST', '/api/journal/', erin.access, {
      date: '2024-06-06',
      mood: 'okay',
      energy_level: 5,
      activities: 'x',
    });
    await t.c.db
      .update(journalEntries)
      .set({ sealed: 'v2.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' })
      .where(eq(journalEntries.userId, erin.id));
    const [bobJob] = await t.c.db.insert(dataExportRequests).values({ userId: bob.id }).returning();
    const [erinJob] = await t.c.db.insert(dataExportRequests).values({ userId: erin.id }).returning();
    expect(await processPendingExports(t.c)).toEqual({ completed: 1, failed: 1 });
    const [b] = await t.c.db.select().from(dataExportRequests).where(eq(dataExportRequests.id, bobJob!.id));
    expect(b).toMatchObject({ status: 'completed' });
    const [e] = await t.c.db.select().from(dataExportRequests).where(eq(dataExportRequests.id, erinJob!.id));
    expect(e).toMatchObject({
      status: 'failed',
      errorMessage: 'The export could not be generated.',
      document: null,
    });
    await t.c.jobs.idle();
    expect(t.c.mailer.sent.filter((m) => m.template === 'export_ready').map((m) => m.to)).toEqual([
      alice.email,
      bob.email,
    ]);
  });

  it('registers the build and purge jobs', () => {
    expect(exportJobs(t.c).map((j) => [j.name, j.schedule])).toEqual([
      ['export.build-pending', { everyMs: 60_000 }],
      ['exports.purge', { cron: '0 * * * *' }],
    ]);
  });

  it('expires after 48 h: 404 for everyone, and the purge removes the document but keeps the row', async () => {
    t.clock.advance(49 * 3600);
    const fresh = await openSession(t, alice.id);
    expect((await call('GET', `/api/popia/data-export/${jobId}/download/`, fresh.access)).statusCode).toBe(
      404,
    );

    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    let code: number;
    let printed: string;
    try {
      code = await exportCommands['exports:purge']!.run([], () => Promise.resolve(t.c));
      printed = write.mock.calls.map((c) => String(c[0])).join('');
    } finally {
      write.mockRestore();
    }
    expect(code).toBe(0);
    expect(printed).toMatch(/expired export documents removed: 2\b/);

    const [row] = await t.c.db.select().from(dataExportRequests).where(eq(dataExportRequests.id, jobId));
    expect(row).toMatchObject({ status: 'completed', document: null, downloadTokenHash: null });
    expect((await purgeExpiredExports(t.c)).purged).toBe(0);
    const got = await call('GET', `/api/popia/data-export/${jobId}/`, fresh.access);
    expect(got.json().status).toBe('completed');
    expect((await call('GET', `/api/popia/data-export/${jobId}/download/`, fresh.access)).statusCode).toBe(
      404,
    );
    const purgeAudit = await t.c.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'delete'), eq(auditLog.resourceId, String(jobId))));
    expect(purgeAudit).toMatchObject([{ actorRole: 'system', resourceType: 'data_export_request' }]);
  });
});

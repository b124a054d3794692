import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { auditLog, privacyPolicyVersions } from '../src/db/schema.js';
import { ensurePrivacyPolicy } from '../src/modules/privacy/policy/bootstrap.js';
import { policyCommands } from '../src/modules/privacy/policy/cli.js';
import {
  createTestCluster,
  createUserWithSession,
  registerCandidate,
  type TestApp,
  type TestUser,
} from './helpers/app.js';

const OFFICER = 'info.officer@capaciti.org.za';
const POLICY_KEYS = ['id', 'version', 'title', 'content', 'effective_date', 'is_active', 'created_at'];

// Two instances on one database: first start is run by both at once.
let t: TestApp;
let t2: TestApp;
let superuser: TestUser;
let admin: TestUser;
let candidate: TestUser;
beforeAll(async () => {
  [t, t2] = (await createTestCluster(2, { INFORMATION_OFFICER_EMAIL: OFFICER })) as [TestApp, TestApp];
  superuser = await createUserWithSession(t, 'superuser');
  admin = await createUserWithSession(t, 'admin');
  candidate = await registerCandidate(t);
});
afterAll(async () => {
  await t.close();
  await t2.close();
});

const get = (url: string, user?: TestUser) => t.request({ method: 'GET', url, token: user?.access });
const post = (url: string, payload: unknown, user: TestUser) =>
  t.request({ method: 'POST', url, payload: payload as object, token: user.access });

interface Policy {
  id: number;
  version: string;
  title: string;
  content: string;
  effective_date: string;
  is_active: boolean;
}
interface Page {
  count: number;
  next: string | null;
  previous: string | null;
  results: Policy[];
}
const activeRows = () =>
  t.c.db.select().from(privacyPolicyVersions).where(eq(privacyPolicyVersions.isActive, true));

async function runCli(name: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const so = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
  const se = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
  try {
    const code = await policyCommands[name]!.run(args, () => Promise.resolve(t.c));
    return { code, out, err };
  } finally {
    so.mockRestore();
    se.mockRestore();
  }
}

describe('privacy policy on a fresh install', () => {
  it('answers 404 with the error key while no version is active', async () => {
    const res = await get('/api/popia/privacy-policy/');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({
      detail: 'No active privacy policy found',
      code: 'not_found',
      error: 'No active privacy policy found',
    });
  });

  it('creates and activates the template version once, even with two instances starting together', async () => {
    const warn = vi.spyOn(t.c.logger, 'warn');
    const warn2 = vi.spyOn(t2.c.logger, 'warn');
    const outcomes = await Promise.all([ensurePrivacyPolicy(t.c), ensurePrivacyPolicy(t2.c)]);
    expect([...outcomes].sort()).toEqual(['created', 'exists']);
    expect(warn.mock.calls.length + warn2.mock.calls.length).toBe(1);
    const [, message] = (warn.mock.calls[0] ?? warn2.mock.calls[0]) as [unknown, string];
    expect(message).toMatch(/operator must review/);
    warn.mockRestore();
    warn2.mockRestore();
    expect(await ensurePrivacyPolicy(t.c)).toBe('exists');
    expect(await t.c.db.select().from(privacyPolicyVersions)).toHaveLength(1);

    const res = await get('/api/popia/privacy-policy/');
    expect(res.statusCode).toBe(200);
    const body = res.json<Policy>();
    expect(Object.keys(body)).toEqual(POLICY_KEYS);
    expect(body).toMatchObject({ version: '1.0', is_active: true });
    expect(body.effective_date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    // The notice covers what POPIA asks and uses the configured values.
    const text = body.content;
    expect(text).toContain(OFFICER);
    for (const consent of [
      'General Data Processing',
      'Medical Data Processing',
      'Marketing Communications',
      'Data Sharing with Partners',
    ])
      expect(text).toContain(consent);
    expect(text).toMatch(/purposes/i);
    expect(text).toMatch(/Right of access/);
    expect(text).toMatch(/Right to correction/);
    expect(text).toMatch(/Right to erasure/);
    expect(text).toMatch(/data export/);
    expect(text).toMatch(/deletion request/);
    const flat = text.replace(/\s+/g, ' ');
    expect(flat).toContain('2 years of inactivity (730 days), then a further 30 days');
    expect(flat).toContain('(proof of erasure): 730 days after completion');
    expect(text).toContain('**Audit records of access and changes**: 730 days.');
    expect(text).toContain('**Data export files**: 48 hours.');
    expect(text).not.toMatch(/\{\{/);

    const [audit] = await t.c.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.resourceType, 'privacy_policy_version'), eq(auditLog.action, 'create')));
    expect(audit).toMatchObject({ actorId: null, actorRole: 'system', resourceId: String(body.id) });
  });
});

describe('policy versions (superuser)', () => {
  it('refuses candidates and admins', async () => {
    for (const user of [candidate, admin]) {
      expect((await get('/api/popia/privacy-policy/versions/', user)).statusCode).toBe(403);
      const created = await post(
        '/api/popia/privacy-policy/versions/',
        { version: '9.9', title: 'x', content: 'x', effective_date: '2030-01-01' },
        user,
      );
      expect(created.statusCode).toBe(403);
      expect((await post('/api/popia/privacy-policy/versions/1/activate/', {}, user)).statusCode).toBe(403);
    }
    expect((await get('/api/popia/privacy-policy/versions/')).statusCode).toBe(401);
  });

  it('validates the body', async () => {
    const empty = await post('/api/popia/privacy-policy/versions/', {}, superuser);
    expect(empty.statusCode).toBe(400);
    expect(empty.json().errors).toEqual({
      version: ['This field is required.'],
      title: ['This field is required.'],
      content: ['This field is required.'],
      effective_date: ['This field is required.'],
    });
    const bad = await post(
      '/api/popia/privacy-policy/versions/',
      { version: 'v'.repeat(21), title: 't'.repeat(201), content: '  ', effective_date: '2030-02-30' },
      superuser,
    );
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors).toEqual({
      version: ['Ensure this field has no more than 20 characters.'],
      title: ['Ensure this field has no more than 200 characters.'],
      content: ['This field may not be blank.'],
      effective_date: ['Date has wrong format. Use one of these formats instead: YYYY-MM-DD.'],
    });
  });

  it('creates inactive versions, refuses duplicates, and keeps one active version', async () => {
    const created = await post(
      '/api/popia/privacy-policy/versions/',
      { version: '1.1', title: 'Privacy Notice', content: '# v1.1', effective_date: '2030-01-01' },
      superuser,
    );
    expect(created.statusCode).toBe(201);
    const v11 = created.json<Policy>();
    expect(Object.keys(v11)).toEqual(POLICY_KEYS);
    expect(v11).toMatchObject({
      version: '1.1',
      content: '# v1.1',
      effective_date: '2030-01-01',
      is_active: false,
    });
    expect((await get('/api/popia/privacy-policy/')).json<Policy>().version).toBe('1.0');

    const duplicate = await post(
      '/api/popia/privacy-policy/versions/',
      { version: '1.1', title: 'Again', content: 'x', effective_date: '2030-01-02' },
      superuser,
    );
    expect(duplicate.statusCode).toBe(400);
    expect(duplicate.json()).toMatchObject({
      code: 'validation_error',
      errors: { version: ['Privacy Policy Version with this version already exists.'] },
    });

    const active = await post(
      '/api/popia/privacy-policy/versions/',
      {
        version: '2.0',
        title: 'Privacy Notice 2',
        content: '# v2',
        effective_date: '2031-06-01',
        is_active: true,
      },
      superuser,
    );
    expect(active.statusCode).toBe(201);
    const v2 = active.json<Policy>();
    expect(v2.is_active).toBe(true);
    expect((await get('/api/popia/privacy-policy/')).json<Policy>().id).toBe(v2.id);
    expect((await activeRows()).map((r) => r.version)).toEqual(['2.0']);

    const activated = await post(`/api/popia/privacy-policy/versions/${v11.id}/activate/`, {}, superuser);
    expect(activated.statusCode).toBe(200);
    expect(Object.keys(activated.json())).toEqual(POLICY_KEYS);
    expect(activated.json()).toMatchObject({ id: v11.id, is_active: true });
    expect((await get('/api/popia/privacy-policy/')).json<Policy>().version).toBe('1.1');
    expect((await activeRows()).map((r) => r.version)).toEqual(['1.1']);

    const missing = await post('/api/popia/privacy-policy/versions/999999/activate/', {}, superuser);
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ detail: 'Not found.', error: 'Not found.' });

    const audits = await t.c.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.resourceType, 'privacy_policy_version'), eq(auditLog.actorId, superuser.id)))
      .orderBy(asc(auditLog.id));
    expect(audits.map((a) => [a.action, a.resourceId, a.changes])).toEqual([
      [
        'create',
        String(v11.id),
        {
          version: [null, '1.1'],
          title: [null, 'Privacy Notice'],
          effective_date: [null, '2030-01-01'],
          is_active: [null, false],
        },
      ],
      ['update', expect.any(String), { is_active: [true, false] }],
      [
        'create',
        String(v2.id),
        {
          version: [null, '2.0'],
          title: [null, 'Privacy Notice 2'],
          effective_date: [null, '2031-06-01'],
          is_active: [null, true],
        },
      ],
      ['update', String(v2.id), { is_active: [true, false] }],
      ['update', String(v11.id), { is_active: [false, true] }],
    ]);
  });

  it('lists versions newest effective date first, paginated', async () => {
    const res = await get('/api/popia/privacy-policy/versions/?page_size=2', superuser);
    expect(res.statusCode).toBe(200);
    const page = res.json<Page>();
    expect(page.count).toBe(3);
    expect(page.results.map((v) => v.version)).toEqual(['2.0', '1.1']);
    expect(Object.keys(page.results[0]!)).toEqual(POLICY_KEYS);
    expect(page.next).toMatch(/page=2/);
    const second = await get('/api/popia/privacy-policy/versions/?page_size=2&page=2', superuser);
    expect(second.json<Page>().results.map((v) => v.version)).toEqual(['1.0']);
  });

  it('has no route that changes or deletes a version', async () => {
    const v = (await get('/api/popia/privacy-policy/', superuser)).json<Policy>();
    for (const method of ['PUT', 'PATCH', 'DELETE'] as const) {
      const res = await t.request({
        method,
        url: `/api/popia/privacy-policy/versions/${v.id}/`,
        payload: { content: 'changed' },
        token: superuser.access,
      });
      expect(res.statusCode).toBeGreaterThanOrEqual(404);
    }
    expect((await get('/api/popia/privacy-policy/')).json<Policy>()).toEqual(v);
  });
});

describe('policy CLI', () => {
  it('creates, activates, and refuses bad input; audited as system', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'pss-policy-'));
    const file = path.join(dir, 'notice.md');
    await writeFile(file, '# Notice 3.0\n\nReviewed text.\n');
    try {
      const created = await runCli('policy:create', [
        '--version',
        '3.0',
        '--title',
        'Reviewed Privacy Notice',
        '--file',
        file,
        '--effective-date',
        '2032-01-01',
        '--activate',
      ]);
      expect(created.code).toBe(0);
      expect(created.out).toMatch(/created privacy policy version 3\.0/);
      const current = (await get('/api/popia/privacy-policy/')).json<Policy>();
      expect(current).toMatchObject({
        version: '3.0',
        content: '# Notice 3.0\n\nReviewed text.',
        is_active: true,
      });

      const dup = await runCli('policy:create', [
        '--version',
        '3.0',
        '--title',
        'T',
        '--file',
        file,
        '--effective-date',
        '2032-01-01',
      ]);
      expect(dup.code).toBe(1);
      expect(dup.err).toMatch(/already exists/);
      const badDate = await runCli('policy:create', [
        '--version',
        '3.1',
        '--title',
        'T',
        '--file',
        file,
        '--effective-date',
        '01/01/2032',
      ]);
      expect(badDate.code).toBe(2);
      expect(badDate.err).toMatch(/--effective-date: Date has wrong format/);

      const activated = await runCli('policy:activate', ['--version', '1.0']);
      expect(activated.code).toBe(0);
      expect((await get('/api/popia/privacy-policy/')).json<Policy>().version).toBe('1.0');
      expect((await runCli('policy:activate', ['--version', 'nope'])).code).toBe(1);

      const systemRows = await t.c.db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.resourceType, 'privacy_policy_version'), eq(auditLog.actorRole, 'system')))
        .orderBy(asc(auditLog.id));
      // template create; CLI create of 3.0 (+ deactivation of 1.1); activation of 1.0 (+ deactivation of 3.0)
      expect(systemRows.map((r) => r.action)).toEqual(['create', 'update', 'create', 'update', 'update']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

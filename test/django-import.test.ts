import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFromDjango, ImportRefused, type ImportReport } from '../src/modules/django-import/index.js';
import { currentTotp } from '../src/modules/auth/two-factor/totp.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { freshDatabase } from './helpers/database.js';

/**
 * Moving in from the original (docs/migrating-from-django.md): the original's own database
 * (test/fixtures/django-original, made by its code) is restored into PostgreSQL, imported, and every
 * fact of facts.json is checked through this service's API.
 */
const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'django-original');
const facts = JSON.parse(readFileSync(path.join(FIXTURE, 'facts.json'), 'utf8')) as Facts;
const LEGACY_KEY = /FIELD_ENCRYPTION_KEY=(\S+)/.exec(
  readFileSync(path.join(FIXTURE, 'keys.txt'), 'utf8'),
)![1]!;

interface FactUser {
  id: number;
  email: string;
  role: string;
  is_active: boolean;
  first_name: string;
  last_name: string;
  password: string | null;
  totp_enabled: boolean;
  totp_secret: string | null;
  backup_codes_unused_plaintext: string[] | null;
  profile: Record<string, unknown>;
  journal: Record<string, unknown>[];
  admin_notes_about: Record<string, unknown>[];
  consents: {
    id: number;
    consent_type: string;
    granted: boolean;
    withdrawn: boolean;
    privacy_policy_version_id: number;
  }[];
  deletion_requests: { id: number; status: string }[];
  export_requests: { id: number; status: string; error_message: string }[];
  password_history_count: number;
}
interface Facts {
  table_counts: Record<string, number>;
  privacy_policy_versions: { id: number; version: string; is_active: boolean }[];
  users: FactUser[];
}

const CARRIED: Record<string, string> = {
  users_user: 'users',
  users_userprofile: 'user_profiles',
  journal_journalentry: 'journal_entries',
  admin_notes_adminnote: 'admin_notes',
  users_privacypolicyversion: 'privacy_policy_versions',
  users_userconsent: 'user_consents',
  users_datadeletionrequest: 'data_deletion_requests',
  users_dataexportrequest: 'data_export_requests',
  users_accountdeletionschedule: 'account_deletion_schedules',
  users_passwordhistory: 'password_history',
  authentication_twofactorbackupcode: 'two_factor_backup_codes',
  authentication_passwordresettoken: 'password_reset_tokens',
};

const hasPsql = (() => {
  try {
    execFileSync('psql', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

async function restoreFixture(): Promise<{ url: string; drop: () => Promise<void> }> {
  const source = await freshDatabase({ migrate: false });
  const url = source.directUrl!;
  execFileSync('psql', ['-q', '-v', 'ON_ERROR_STOP=1', '-f', path.join(FIXTURE, 'dump.sql'), url], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return { url, drop: source.drop };
}

const run = (
  t: TestApp,
  sourceUrl: string,
  opts: { dryRun?: boolean; key?: string; progress?: (l: string) => void } = {},
) =>
  importFromDjango(
    {
      db: t.c.db,
      cipher: t.c.cipher,
      blindIndexKey: t.c.config.encryption.blindIndexKey,
      timeZone: t.c.config.timeZone,
      deletionGraceDays: t.c.config.retention.deletionGraceDays,
      now: t.c.now,
    },
    { sourceUrl, legacyKey: opts.key ?? LEGACY_KEY, dryRun: opts.dryRun ?? false, progress: opts.progress },
  );

/** The rows of a query on this service's database. */
const rowsOf = <T>(result: unknown): T[] => (result as { rows: T[] }).rows;

const count = async (t: TestApp, table: string) =>
  Number(rowsOf<{ n: string }>(await t.c.db.execute(sql.raw(`select count(*) as n from ${table}`)))[0]!.n);

/** What the database holds, to compare runs: counts, and a digest of every sealed value and row. */
async function fingerprint(t: TestApp): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of [...Object.values(CARRIED), 'consent_events', 'data_keys', 'django_import_rows']) {
    const [r] = rowsOf<{ n: string; h: string }>(
      await t.c.db.execute(
        sql.raw(
          `select count(*) as n, md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as h from ${table} t`,
        ),
      ),
    );
    out[table] = `${r!.n}:${r!.h}`;
  }
  return out;
}

const sum = (report: ImportReport, key: 'imported' | 'updated' | 'unchanged' | 'rejected') =>
  [...report.tables.values()].reduce((n, c) => n + c[key], 0);

describe.runIf(process.env.TEST_DATABASE_URL && hasPsql)('import:django from the original database', () => {
  let source: { url: string; drop: () => Promise<void> };
  let t: TestApp;
  let first: ImportReport;

  beforeAll(async () => {
    source = await restoreFixture();
    t = await createTestApp();
    first = await run(t, source.url);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await source?.drop();
  });

  const post = (url: string, payload: object, token?: string) =>
    t.request({ method: 'POST', url, payload, token });
  const get = (url: string, token: string) => t.request({ method: 'GET', url, token });

  const signedIn = new Map<number, string>();
  /** Signs in as the API does for each role: password, then a TOTP code (or a backup code) for staff. */
  async function signIn(user: FactUser, opts: { backupCode?: string } = {}): Promise<string> {
    const known = opts.backupCode ? undefined : signedIn.get(user.id);
    if (known) return known;
    const access = await signInAnew(user, opts);
    signedIn.set(user.id, access);
    return access;
  }
  async function signInAnew(user: FactUser, opts: { backupCode?: string }): Promise<string> {
    const email = user.email.toLowerCase();
    const res = await post('/api/auth/login/', { email, password: user.password });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<{ access?: string; requires_2fa?: boolean }>();
    if (body.access) return body.access;
    expect(body.requires_2fa).toBe(true);
    // A TOTP code is accepted once: each sign-in takes the next time step.
    t.clock.advance(30);
    const code = opts.backupCode ?? currentTotp(user.totp_secret!, t.c.now());
    const verified = await post('/api/auth/2fa/verify-code/', { email, code });
    expect(verified.statusCode, verified.body).toBe(200);
    return verified.json<{ access: string }>().access;
  }

  const superuser = () => facts.users.find((u) => u.role === 'superuser')!;

  it('writes every carried row, rejects none, and reports the tables it leaves by design', () => {
    for (const [table, n] of Object.entries(CARRIED).map(([s]) => [s, facts.table_counts[s]!] as const)) {
      expect(first.tables.get(table), table).toMatchObject({ source: n, imported: n, rejected: 0 });
    }
    expect(first.problems).toEqual([]);
    expect([...first.notCarried.keys()]).toEqual(
      expect.arrayContaining([
        'authentication_usersession',
        'token_blacklist_outstandingtoken',
        'axes_accessattempt',
      ]),
    );
  });

  it('has every row of the original here, and the history of its audit log without its values', async () => {
    for (const [from, to] of Object.entries(CARRIED))
      expect(await count(t, to), to).toBe(facts.table_counts[from]);
    const [imported] = rowsOf<{ n: string; with_values: string }>(
      await t.c.db.execute(
        sql`select count(*) as n, count(*) filter (where changes is not null) as with_values from audit_log where metadata->>'imported_from' = 'django'`,
      ),
    );
    expect(Number(imported!.n)).toBe(facts.table_counts.auditlog_logentry);
    expect(Number(imported!.with_values)).toBe(0);
    // No plaintext of the original's encrypted fields anywhere in the audit trail.
    const audit = JSON.stringify(rowsOf<unknown>(await t.c.db.execute(sql`select * from audit_log`)));
    for (const u of facts.users) {
      const diagnosis = u.profile.diagnosis;
      if (typeof diagnosis === 'string' && diagnosis) expect(audit).not.toContain(diagnosis);
      if (u.totp_secret) expect(audit).not.toContain(u.totp_secret);
    }
  });

  it('signs everyone in with their password (2FA for staff); the inactive account stays refused', async () => {
    for (const user of facts.users.filter((u) => u.password)) {
      if (!user.is_active) {
        const res = await post('/api/auth/login/', {
          email: user.email.toLowerCase(),
          password: user.password,
        });
        expect(res.statusCode, user.email).toBe(401);
        continue;
      }
      const access = await signIn(user);
      const me = await get('/api/auth/me/', access);
      expect(me.statusCode).toBe(200);
      expect(me.json()).toMatchObject({ id: user.id, email: user.email.toLowerCase(), role: user.role });
    }
    // The stored hash became argon2id at that first sign-in.
    const hashes = rowsOf<{ password: string }>(
      await t.c.db.execute(sql`select password from users where is_active`),
    );
    expect(hashes.every((r) => r.password.startsWith('$argon2id$'))).toBe(true);
  });

  it("accepts a staff member's unused backup code of the original", async () => {
    const staff = facts.users.find((u) => u.backup_codes_unused_plaintext?.length)!;
    const access = await signIn(staff, { backupCode: staff.backup_codes_unused_plaintext![0]! });
    expect(access).toBeTruthy();
  });

  it('shows each profile, decrypted from the original and re-sealed here, to an admin', async () => {
    const admin = await signIn(superuser());
    for (const user of facts.users) {
      const res = await get(`/api/users/${String(user.id)}/`, admin);
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json<{ first_name: string; last_name: string; profile: Record<string, unknown> }>();
      expect(body.first_name).toBe(user.first_name);
      const { id: _id, encrypted_fields_non_null: _e, ...fields } = user.profile;
      expect(body.profile, user.email).toMatchObject(fields);
    }
    // At rest: no plaintext of a medical field in the profile rows.
    const rows = JSON.stringify(rowsOf<unknown>(await t.c.db.execute(sql`select * from user_profiles`)));
    expect(rows).not.toContain('ADHD');
  });

  it("shows each candidate's journal to them, entry by entry", async () => {
    for (const user of facts.users.filter((u) => u.journal.length > 0 && u.is_active && u.password)) {
      const access = await signIn(user);
      const res = await get('/api/journal/?page_size=100', access);
      expect(res.statusCode).toBe(200);
      const results = res.json<{ results: Record<string, unknown>[] }>().results;
      expect(results).toHaveLength(user.journal.length);
      for (const entry of user.journal) {
        expect(
          results.find((r) => r.id === entry.id),
          `${user.email} entry ${String(entry.id)}`,
        ).toMatchObject(entry);
      }
    }
  });

  it('shows the notes about each candidate to admins, with their authors', async () => {
    const admin = await signIn(superuser());
    for (const user of facts.users.filter((u) => u.admin_notes_about.length > 0)) {
      const res = await get(`/api/admin-notes/candidate/${String(user.id)}/?page_size=100`, admin);
      expect(res.statusCode).toBe(200);
      const results = res.json<{ results: Record<string, unknown>[] }>().results;
      expect(results).toHaveLength(user.admin_notes_about.length);
      for (const note of user.admin_notes_about) {
        const found = results.find((r) => r.id === note.id);
        expect(found).toMatchObject({
          category: note.category,
          title: note.title,
          content: note.content,
          is_important: note.is_important,
          tags: [],
          admin: note.by_id,
        });
      }
    }
  });

  it('keeps consents, policy versions, deletion and export requests with their state', async () => {
    const admin = await signIn(superuser());
    const versions = await get('/api/popia/privacy-policy/versions/', admin);
    expect(versions.statusCode, versions.body).toBe(200);
    const list = JSON.stringify(versions.json());
    for (const v of facts.privacy_policy_versions) expect(list).toContain(`"${v.version}"`);
    for (const user of facts.users.filter((u) => u.is_active && u.password && u.role === 'candidate')) {
      const access = await signIn(user);
      const consents = (await get('/api/popia/consents/?page_size=100', access)).json<{
        results: { id: number; consent_type: string; granted: boolean }[];
      }>().results;
      expect(consents.map((c) => [c.id, c.consent_type, c.granted]).sort()).toEqual(
        user.consents.map((c) => [c.id, c.consent_type, c.granted]).sort(),
      );
      const deletions = await get('/api/popia/deletion-requests/', access);
      expect(deletions.statusCode).toBe(200);
      for (const d of user.deletion_requests)
        expect(JSON.stringify(deletions.json())).toContain(`"status":"${d.status}"`);
      const exports = await get('/api/popia/data-export/requests/', access);
      expect(exports.statusCode).toBe(200);
      for (const e of user.export_requests) {
        expect(JSON.stringify(exports.json())).toContain(`"status":"${e.status}"`);
      }
    }
  });

  it('a second run writes nothing and reports every row unchanged', async () => {
    const before = await fingerprint(t);
    const audits = await count(t, 'audit_log');
    const again = await run(t, source.url);
    expect(sum(again, 'imported') + sum(again, 'updated')).toBe(0);
    expect(sum(again, 'rejected')).toBe(0);
    expect(sum(again, 'unchanged')).toBe(sum(first, 'imported'));
    expect(again.problems).toEqual([]);
    expect(await fingerprint(t)).toEqual(before);
    expect(await count(t, 'audit_log')).toBe(audits);
  });
});

describe.runIf(process.env.TEST_DATABASE_URL && hasPsql)(
  'import:django: refusals, dry runs, interruptions, rejections',
  () => {
    let source: { url: string; drop: () => Promise<void> };
    beforeAll(async () => {
      source = await restoreFixture();
    }, 60_000);
    afterAll(async () => {
      await source?.drop();
    });

    it('a wrong Fernet key stops the run before anything is written, naming the problem', async () => {
      const t = await createTestApp();
      try {
        const wrong = `${randomBytes(32).toString('base64url')}=`;
        await expect(run(t, source.url, { key: wrong })).rejects.toThrow(ImportRefused);
        await expect(run(t, source.url, { key: wrong })).rejects.toThrow(
          /LEGACY_FIELD_ENCRYPTION_KEY does not decrypt the original's data \(users_userprofile \d+, column \w+\).*Nothing was written/,
        );
        await expect(run(t, source.url, { key: 'not-a-key' })).rejects.toThrow(/not a Fernet key/);
        expect(await count(t, 'users')).toBe(0);
        expect(await count(t, 'django_import_rows')).toBe(0);
      } finally {
        await t.close();
      }
    });

    it('refuses a database that already has users of its own', async () => {
      const t = await createTestApp();
      try {
        await t.request({
          method: 'POST',
          url: '/api/auth/register/',
          payload: {
            email: 'someone.new@capaciti.org.za',
            password: 'Tq9!Vb7#Lm4$Xz2k',
            first_name: 'A',
            last_name: 'B',
          },
        });
        await expect(run(t, source.url)).rejects.toThrow(/already has 1 user that was not imported/);
        expect(await count(t, 'journal_entries')).toBe(0);
      } finally {
        await t.close();
      }
    });

    it('a dry run reports what a run would write, and writes nothing', async () => {
      const t = await createTestApp();
      try {
        const dry = await run(t, source.url, { dryRun: true });
        expect(dry.tables.get('journal_journalentry')).toMatchObject({
          source: 117,
          imported: 117,
          rejected: 0,
        });
        expect(await count(t, 'users')).toBe(0);
        expect(await count(t, 'django_import_rows')).toBe(0);
      } finally {
        await t.close();
      }
    });

    it('a run interrupted half-way finishes on the next run with the same result as one whole run', async () => {
      const whole = await createTestApp();
      const broken = await createTestApp();
      try {
        await run(whole, source.url);
        await expect(
          run(broken, source.url, {
            progress: (line) => {
              if (line.startsWith('journal_journalentry: done')) throw new Error('killed');
            },
          }),
        ).rejects.toThrow('killed');
        expect(await count(broken, 'journal_entries')).toBe(117);
        expect(await count(broken, 'admin_notes')).toBe(0);
        const resumed = await run(broken, source.url);
        expect(resumed.tables.get('journal_journalentry')).toMatchObject({ unchanged: 117, imported: 0 });
        expect(resumed.tables.get('admin_notes_adminnote')).toMatchObject({ imported: 19 });
        for (const table of Object.values(CARRIED))
          expect(await count(broken, table), table).toBe(await count(whole, table));
      } finally {
        await whole.close();
        await broken.close();
      }
    });

    it('reports each row it cannot carry with its table, id and reason, and what depends on it', async () => {
      const client = new pg.Client({ connectionString: source.url });
      await client.connect();
      try {
        // An address equal to another once lower-cased, with a journal entry; a profile field under another key.
        await client.query(`insert into users_user (id, password, is_superuser, email, first_name, last_name, role,
          has_completed_intake, is_active, is_staff, date_joined, created_at, updated_at, password_last_changed, totp_enabled)
        values (900, '!', false, 'PEER.Candidate1@capaciti.org.za', 'Twin', 'User', 'candidate', false, true, false,
          now(), now(), now(), now(), false)`);
        await client.query(`insert into journal_journalentry (id, date, mood, energy_level, activities, challenges, achievements,
          notes, barriers_faced, barrier_count, created_at, updated_at, user_id)
        values (9000, '2026-01-01', 'good', 5, '', '', '', '', '', 0, now(), now(), 900)`);
        await client.query(
          `update users_userprofile set medications = 'gAAAAABpAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==' where user_id = 3`,
        );
      } finally {
        await client.end();
      }
      const t = await createTestApp();
      try {
        const report = await run(t, source.url);
        expect(report.problems).toEqual(
          expect.arrayContaining([
            expect.objectContaining({
              table: 'users_user',
              id: 900,
              kind: 'rejected',
              reason: expect.stringMatching(/same as users_user 2/),
            }),
            expect.objectContaining({
              table: 'journal_journalentry',
              id: 9000,
              reason: expect.stringMatching(/users_user 900\) was not imported/),
            }),
            expect.objectContaining({
              table: 'users_userprofile',
              id: 3,
              reason: 'medications does not decrypt with LEGACY_FIELD_ENCRYPTION_KEY',
            }),
          ]),
        );
        expect(report.hasProblems()).toBe(true);
        expect(report.tables.get('users_user')).toMatchObject({ source: 10, imported: 9, rejected: 1 });
        // The person whose profile could not be carried is here, with an empty profile, and nothing else is lost.
        expect(await count(t, 'journal_entries')).toBe(117);
      } finally {
        await t.close();
      }
    });
  },
);

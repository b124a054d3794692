import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Container } from '../src/container.js';
import { keyCommands } from '../src/modules/keys/cli.js';
import { reencryptRecords } from '../src/modules/keys/index.js';
import { rawRows } from './helpers/dump.js';
import {
  createTestCluster,
  createUserWithSession,
  registerCandidate,
  type TestApp,
  type TestUser,
} from './helpers/app.js';
import {
  journalToPerField,
  noteToPerField,
  profileToPerField,
  submissionToPerField,
} from './helpers/per-field-format.js';

/**
 * `keys:reencrypt` (docs/operations.md#re-sealing-records): rows written before records are re-sealed
 * as one record per row, in batches, with progress, resumably, while another instance serves writes.
 * The command runs on a container of its own (as `npm run cli` would), on the same database.
 */
const onPostgres = Boolean(process.env.TEST_DATABASE_URL);
let t: TestApp; // the serving instance
let cli: Container; // the command's
let admin: TestUser;
beforeAll(async () => {
  const cluster = await createTestCluster(2, { RATE_LIMIT_USER: 'off', RATE_LIMIT_REGISTER: 'off' });
  t = cluster[0]!;
  cli = cluster[1]!.c;
  admin = await createUserWithSession(t, 'admin');
});
afterAll(async () => {
  await t.close();
});

type Json = Record<string, unknown>;
const TABLES = ['user_profiles', 'journal_entries', 'admin_notes', 'intake_submissions'] as const;
const raw = (query: ReturnType<typeof sql>) => rawRows<Json>(t.c.db, query);
const pending = async () =>
  Object.fromEntries(
    await Promise.all(
      TABLES.map(async (table) => {
        const [row] = await raw(
          sql`select count(*)::int as n from ${sql.identifier(table)} where sealed is null`,
        );
        return [table, row?.n] as const;
      }),
    ),
  );
async function ok(method: 'GET' | 'POST' | 'PATCH', url: string, token: string, payload?: Json) {
  const res = await t.request({ method, url, token, ...(payload ? { payload } : {}) });
  if (res.statusCode !== 200 && res.statusCode !== 201)
    throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
  return res.json<Json>();
}

/** Runs the command on the CLI container; its exit code and output lines. */
async function reencrypt(...args: string[]) {
  let out = '';
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  try {
    const code = await keyCommands['keys:reencrypt']!.run(args, async () => cli);
    return { code, lines: out.trim().split('\n') };
  } finally {
    stdout.mockRestore();
  }
}

interface Person {
  user: TestUser;
  entries: number[];
  noteId: number;
  submissionId: number;
}
/** A candidate with `n` journal entries, a profile, a note and a reviewed submission, all in the per-field format. */
async function seedPerField(tag: string, n: number): Promise<Person> {
  const user = await registerCandidate(t);
  const entries: number[] = [];
  for (let i = 0; i < n; i += 1) {
    const body = { date: `2024-01-${String(i + 1).padStart(2, '0')}`, mood: 'okay', energy_level: 4 };
    entries.push(
      (
        await ok('POST', '/api/journal/', user.access, {
          ...body,
          activities: `${tag} a${i}`,
          notes: `${tag} n${i}`,
        })
      ).id as number,
    );
  }
  const intake = await ok('POST', '/api/intake/submit/', user.access, {
    intake_data: { diagnosis: `${tag} dx` },
  });
  const submissionId = (intake.submission as Json).id as number;
  await ok('PATCH', `/api/intake/submissions/${submissionId}/`, admin.access, {
    review_notes: `${tag} review`,
  });
  const note = { candidate: user.id, category: 'general', title: `${tag} title`, content: `${tag} content` };
  const noteId = (await ok('POST', '/api/admin-notes/', admin.access, note)).id as number;
  for (const id of entries) await journalToPerField(t.c, id);
  await profileToPerField(t.c, user.id);
  await noteToPerField(t.c, noteId);
  await submissionToPerField(t.c, submissionId);
  return { user, entries, noteId, submissionId };
}

async function expectReadable(p: Person, tag: string, notes = (i: number) => `${tag} n${i}`) {
  for (const [i, id] of p.entries.entries()) {
    expect(await ok('GET', `/api/journal/${id}/`, p.user.access)).toMatchObject({
      activities: `${tag} a${i}`,
      notes: notes(i),
    });
  }
  expect(await ok('GET', `/api/users/${p.user.id}/profile/`, p.user.access)).toMatchObject({
    diagnosis: `${tag} dx`,
  });
  expect(await ok('GET', `/api/admin-notes/${p.noteId}/`, admin.access)).toMatchObject({
    title: `${tag} title`,
  });
  expect(await ok('GET', `/api/intake/submissions/${p.submissionId}/`, admin.access)).toMatchObject({
    responses: { diagnosis: `${tag} dx` },
    review_notes: `${tag} review`,
  });
}

describe('keys:reencrypt', () => {
  let people: Person[];
  it('--dry-run counts the rows to re-seal and changes nothing', async () => {
    // Three people in the per-field format, one (the admin's own profile aside) already in records.
    people = [await seedPerField('P0', 5), await seedPerField('P1', 4), await seedPerField('P2', 0)];
    await seedPerField('R0', 2).then(async (p) => {
      for (const id of p.entries) await ok('PATCH', `/api/journal/${id}/`, p.user.access, { mood: 'good' });
    });
    const before = await pending();
    expect(before).toEqual({ user_profiles: 4, journal_entries: 9, admin_notes: 4, intake_submissions: 4 });
    const run = await reencrypt('--dry-run');
    expect(run.code).toBe(0);
    expect(run.lines).toEqual(expect.arrayContaining(['journal_entries: 9 rows would be re-sealed']));
    expect(await pending()).toEqual(before);
  });

  it('re-seals them in batches with progress, leaving updated_at alone; a second run changes nothing', async () => {
    const stamps = await raw(sql`select id, updated_at from journal_entries order by id`);
    const auditBefore = await raw(sql`select count(*)::int as n from audit_log`);
    const run = await reencrypt('--batch-size', '4');
    const auditAfter = await raw(sql`select count(*)::int as n from audit_log`);
    expect(run.code, run.lines.join('\n')).toBe(0);
    const journalLines = run.lines.filter((l) => l.startsWith('journal_entries:'));
    expect(journalLines).toEqual([
      'journal_entries: 9 rows in the per-field format',
      'journal_entries: 4/9 re-sealed',
      'journal_entries: 8/9 re-sealed',
      'journal_entries: 9/9 re-sealed',
      'journal_entries: 9 re-sealed, 0 left in the per-field format',
    ]);
    expect(run.lines).toEqual(
      expect.arrayContaining([
        'user_profiles: 4 re-sealed, 0 left in the per-field format',
        'journal_entries: 9 re-sealed, 0 left in the per-field format',
        'admin_notes: 4 re-sealed, 0 left in the per-field format',
        'intake_submissions: 4 re-sealed, 0 left in the per-field format',
      ]),
    );
    expect(await pending()).toEqual({
      user_profiles: 0,
      journal_entries: 0,
      admin_notes: 0,
      intake_submissions: 0,
    });
    expect(
      await raw(
        sql`select count(*)::int as n from journal_entries where activities is not null or notes is not null`,
      ),
    ).toEqual([{ n: 0 }]);
    expect(await raw(sql`select id, updated_at from journal_entries order by id`)).toEqual(stamps);
    for (const [i, p] of people.entries()) await expectReadable(p, `P${i}`);

    // Audited per batch, by the system, counts and ids only.
    const audits = await raw(sql`select * from audit_log where action = 'data_reencrypted' order by id`);
    expect(
      audits.every((a) => a.actor_id === null && a.actor_role === 'system' && a.subject_user_id === null),
    ).toBe(true);
    const rowsOf = (table: string) =>
      audits
        .filter((a) => (a.metadata as Json).table === table)
        .reduce((n, a) => n + ((a.metadata as Json).rows as number), 0);
    expect(TABLES.map(rowsOf)).toEqual([4, 9, 4, 4]);
    expect(audits.filter((a) => (a.metadata as Json).table === 'journal_entries')).toHaveLength(3);
    expect(JSON.stringify(audits)).not.toMatch(/P\d (a|n|dx|title|content|review)/);
    // The run wrote nothing else to the audit log.
    expect(auditAfter[0]!.n).toBe((auditBefore[0]!.n as number) + audits.length);

    const sealedBefore = await raw(sql`select id, sealed from journal_entries order by id`);
    const again = await reencrypt('--batch-size', '4');
    expect(again.code).toBe(0);
    expect(again.lines).toEqual(
      expect.arrayContaining(['journal_entries: 0 re-sealed, 0 left in the per-field format']),
    );
    expect(await raw(sql`select id, sealed from journal_entries order by id`)).toEqual(sealedBefore);
    expect(
      await raw(sql`select count(*)::int as n from audit_log where action = 'data_reencrypted'`),
    ).toEqual([{ n: audits.length }]);
  });

  it('reports rows it cannot re-seal by table and id, goes on with the others, exits 1, and keeps their old columns', async () => {
    const broken = await seedPerField('B', 3);
    const keyless = await seedPerField('K', 1);
    const erased = await seedPerField('E', 1);
    // A value copied from another row (its AAD does not match); a person whose key is gone; an erased person.
    const [, second, third] = broken.entries as [number, number, number];
    await t.c.db.execute(
      sql`update journal_entries set activities = (select activities from journal_entries where id = ${third}) where id = ${second}`,
    );
    await t.c.db.execute(sql`delete from data_keys where user_id = ${keyless.user.id}`);
    cli.dataKeys.evict(keyless.user.id);
    await t.c.db.execute(sql`update users set anonymized_at = now() where id = ${erased.user.id}`);
    const [damaged] = await raw(sql`select activities from journal_entries where id = ${second}`);

    try {
      const run = await reencrypt();
      expect(run.code).toBe(1);
      expect(run.lines).toEqual(
        expect.arrayContaining([
          `journal_entries: 1 rows could not be decrypted, left as they are: ids ${second}`,
          `journal_entries: 1 rows skipped (no data key), left as they are: ids ${keyless.entries[0]}`,
          `journal_entries: 1 rows skipped (erased), left as they are: ids ${erased.entries[0]}`,
          'journal_entries: 2 re-sealed, 3 left in the per-field format',
          `admin_notes: 1 rows skipped (erased), left as they are: ids ${erased.noteId}`,
        ]),
      );
      expect(run.lines.join('\n')).not.toMatch(/B a|K a|E a/);
      expect(await raw(sql`select sealed, activities from journal_entries where id = ${second}`)).toEqual([
        { sealed: null, activities: damaged!.activities },
      ]);
      expect(await ok('GET', `/api/journal/${broken.entries[0]}/`, broken.user.access)).toMatchObject({
        activities: 'B a0',
      });
    } finally {
      // Removed so the next tests start from tables without them.
      for (const id of [broken.user.id, keyless.user.id, erased.user.id])
        await t.c.db.execute(sql`delete from users where id = ${id}`);
    }
  });

  it('runs while the other instance serves writes to the same rows: no write is lost, every row ends as a record', async () => {
    const crowd = await Promise.all([0, 1, 2, 3, 4].map((i) => seedPerField(`C${i}`, 6)));
    let running = true;
    let answeredDuringRun = 0;
    const writes = (round: number) =>
      Promise.all(
        crowd.map(async (p, i) => {
          for (const [j, id] of p.entries.entries()) {
            await ok('PATCH', `/api/journal/${id}/`, p.user.access, { notes: `C${i} w${round}.${j}` });
            if (running) answeredDuringRun += 1;
          }
          await ok('PATCH', `/api/users/${p.user.id}/profile/`, p.user.access, {
            medications: `C${i} m${round}`,
          });
          await ok('PATCH', `/api/admin-notes/${p.noteId}/`, admin.access, { content: `C${i} content` });
          await ok('PATCH', `/api/intake/submissions/${p.submissionId}/`, admin.access, {
            status: 'reviewed',
          });
        }),
      );
    const command = reencrypt('--batch-size', '3').finally(() => {
      running = false;
    });
    const [run] = await Promise.all([command, writes(0).then(() => writes(1))]);
    expect(run.code, run.lines.join('\n')).toBe(0);
    // It sealed rows itself. On PostgreSQL writes were also answered while it ran (PGlite, one
    // connection, runs each of its transactions alone: there the two only take turns).
    if (onPostgres) expect(answeredDuringRun).toBeGreaterThan(0);
    expect(run.lines.find((l) => /^journal_entries: [1-9]\d* re-sealed/.test(l))).toBeDefined();
    expect(await pending()).toEqual({
      user_profiles: 0,
      journal_entries: 0,
      admin_notes: 0,
      intake_submissions: 0,
    });
    for (const [i, p] of crowd.entries()) {
      await expectReadable(p, `C${i}`, (j) => `C${i} w1.${j}`);
      expect(await ok('GET', `/api/users/${p.user.id}/profile/`, p.user.access)).toMatchObject({
        medications: `C${i} m1`,
      });
    }
    expect((await reencrypt()).lines).toEqual(
      expect.arrayContaining(['journal_entries: 0 rows in the per-field format']),
    );
  });

  it.runIf(onPostgres)(
    'never waits on a live writer or an erasure: their rows are left for a later run',
    async () => {
      const held = await seedPerField('H', 3);
      const erasing = await seedPerField('X', 1);
      const client = await t.c.database.pool!.connect();
      let first;
      try {
        // A write holding one entry, and an erasure holding a person (both uncommitted while the run goes).
        await client.query('begin');
        await client.query('select id from journal_entries where id = $1 for update', [held.entries[1]]);
        await client.query('select id from users where id = $1 for update', [erasing.user.id]);
        first = await reencryptRecords(cli, cli.sealedTables, { batchSize: 2 });
      } finally {
        await client.query('rollback');
        client.release();
      }
      const journal = (reports: typeof first) => reports?.find((r) => r.table === 'journal_entries');
      expect(journal(first)).toMatchObject({ pending: 4, sealed: 2, left: 2, skipped: [] });
      expect(first.find((r) => r.table === 'user_profiles')).toMatchObject({ sealed: 1, left: 1 });
      const second = await reencryptRecords(cli, cli.sealedTables, { batchSize: 2 });
      expect(journal(second)).toMatchObject({ pending: 2, sealed: 2, left: 0 });
      await expectReadable(held, 'H');
      await expectReadable(erasing, 'X');
    },
  );

  it.runIf(onPostgres)('two runs side by side share the work and seal each row once', async () => {
    const crowd = await Promise.all([0, 1, 2].map((i) => seedPerField(`S${i}`, 10)));
    const auditBefore = await raw(
      sql`select count(*)::int as n from audit_log where action = 'data_reencrypted'`,
    );
    const [a, b] = await Promise.all([
      reencryptRecords(cli, cli.sealedTables, { batchSize: 4 }),
      reencryptRecords(t.c, t.c.sealedTables, { batchSize: 4 }),
    ]);
    const sealed = (table: string) =>
      [a, b]
        .flat()
        .filter((r) => r.table === table)
        .reduce((n, r) => n + r.sealed, 0);
    expect(TABLES.map(sealed)).toEqual([3, 30, 3, 3]);
    expect(await pending()).toEqual({
      user_profiles: 0,
      journal_entries: 0,
      admin_notes: 0,
      intake_submissions: 0,
    });
    const audits = await raw(
      sql`select metadata from audit_log where action = 'data_reencrypted' order by id offset ${auditBefore[0]!.n}`,
    );
    expect(audits.reduce((n, a) => n + ((a.metadata as Json).rows as number), 0)).toBe(39);
    for (const [i, p] of crowd.entries()) await expectReadable(p, `S${i}`);
  });
});

import { mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { desc, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { auditLog, dataKeys } from '../src/db/schema.js';
import { keyCommands } from '../src/modules/keys/cli.js';
import { readKeyBackup, writeKeyBackup } from '../src/modules/keys/backup.js';
import {
  createTestCluster,
  createUserWithSession,
  registerCandidate,
  type TestApp,
  type TestUser,
} from './helpers/app.js';
import { runCommand } from './helpers/cli.js';

/**
 * Key backups (docs/privacy.md#key-backups): `KEY_BACKUP_DIR` gets a daily file of the wrapped data
 * keys; files older than `KEY_BACKUP_RETENTION_DAYS` are deleted, so an erased person's key leaves
 * every backup within that bound; a restore puts keys back for live people only and refuses a file
 * that was cut or changed.
 */
let dir: string;
let t: TestApp;
let fresh: TestApp;
let admin: TestUser;
let approver: TestUser;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pss-key-backups-'));
  // Two instances on one database: `fresh` reads nothing until the end, so no key of it is cached.
  [t, fresh] = (await createTestCluster(2, { KEY_BACKUP_DIR: dir, KEY_BACKUP_RETENTION_DAYS: '35' })) as [
    TestApp,
    TestApp,
  ];
  admin = await createUserWithSession(t, 'admin');
  approver = await createUserWithSession(t, 'admin');
});
afterAll(async () => {
  await fresh.close();
  await t.close();
  await rm(dir, { recursive: true, force: true });
});

const cli = (name: string, ...args: string[]) => runCommand(keyCommands, name, args, async () => t.c);

const journal = (who: TestUser, activities: string) =>
  t.request({
    method: 'POST',
    url: '/api/journal/',
    token: who.access,
    payload: { date: '2026-03-01', mood: 'good', energy_level: 6, activities },
  });

async function erase(cand: TestUser) {
  const created = await t.request({
    method: 'POST',
    url: '/api/popia/deletion-requests/create/',
    token: cand.access,
    payload: {},
  });
  const id = created.json<{ id: number }>().id;
  const review = await t.request({
    method: 'POST',
    url: `/api/popia/deletion-requests/${id}/review/`,
    token: approver.access,
    payload: { action: 'approve', notes: 'ok' },
  });
  expect(review.statusCode).toBe(200);
  return t.request({
    method: 'POST',
    url: `/api/popia/deletion-requests/${id}/execute/`,
    token: admin.access,
    payload: {},
  });
}

const keyOf = async (userId: number) =>
  (await t.c.db.select().from(dataKeys).where(eq(dataKeys.userId, userId)))[0];
const backupFiles = async () => (await readdir(dir)).filter((n) => n.endsWith('.jsonl')).sort();

describe('key backups', () => {
  it('the daily keys.backup job is scheduled at 01:00 only when KEY_BACKUP_DIR is set', async () => {
    const job = t.c.scheduledJobs.find((j) => j.name === 'keys.backup');
    expect(job?.schedule).toEqual({ cron: '0 1 * * *' });
    const off = await createTestCluster(1);
    try {
      expect(off[0]!.c.scheduledJobs.map((j) => j.name)).not.toContain('keys.backup');
    } finally {
      await off[0]!.close();
    }
  });

  it('a backup holds every data key, still wrapped; a restore brings back a lost key but never an erased person’s', async () => {
    const kept = await registerCandidate(t);
    const erased = await registerCandidate(t);
    expect((await journal(kept, 'kept person marker')).statusCode).toBe(201);
    expect((await journal(erased, 'erased person marker')).statusCode).toBe(201);
    const keptKey = await keyOf(kept.id);
    expect(keptKey).toBeDefined();

    const job = t.c.scheduledJobs.find((j) => j.name === 'keys.backup');
    t.clock.advance(1);
    const result = await job?.run();
    expect(result).toMatchObject({ backups_deleted: 0, backups_kept: 1 });
    const [name] = await backupFiles();
    expect(name).toMatch(/^data-keys-\d{8}T\d{9}Z\.jsonl$/);
    const file = join(dir, name!);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const text = await readFile(file, 'utf8');
    // Wrapped only: the raw key never appears, and neither does anything the person wrote.
    expect(text).toContain(keptKey!.wrappedKey);
    expect(text).not.toContain('marker');
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(2 + (await t.c.db.select().from(dataKeys)).length);
    const audit = await t.c.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, 'data_keys_backed_up'))
      .orderBy(desc(auditLog.id));
    expect(audit[0]?.metadata).toMatchObject({ keys: lines.length - 2 });

    // The erasure deletes the key (crypto-shredding); the kept person's key row is then lost.
    expect((await erase(erased)).statusCode).toBe(200);
    expect(await keyOf(erased.id)).toBeUndefined();
    await t.c.db.delete(dataKeys).where(eq(dataKeys.userId, kept.id));

    const dry = await cli('keys:restore', '--file', file, '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('would restore 1;');
    expect(await keyOf(kept.id)).toBeUndefined();

    const restored = await cli('keys:restore', '--file', file);
    expect(restored.code).toBe(0);
    expect(restored.out).toContain('restored 1;');
    expect(restored.out).toContain('not restored: 1 erased');
    expect((await keyOf(kept.id))?.wrappedKey).toBe(keptKey!.wrappedKey);
    expect(await keyOf(erased.id)).toBeUndefined();
    const [entry] = await t.c.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, 'data_keys_restored'))
      .orderBy(desc(auditLog.id));
    expect(entry?.metadata).toMatchObject({ restored: 1, erased: 1 });

    // Read through the instance that never cached the key: the person's journal opens again.
    const read = await fresh.request({ method: 'GET', url: '/api/journal/', token: kept.access });
    expect(read.statusCode).toBe(200);
    expect(JSON.stringify(read.json())).toContain('kept person marker');

    // A second restore changes nothing: the key is there now.
    const again = await cli('keys:restore', '--file', file);
    expect(again.out).toContain('restored 0; kept the key already there for');
  });

  // PostgreSQL: the embedded database has one connection, so a second transaction cannot wait on a lock.
  it.runIf(Boolean(process.env.TEST_DATABASE_URL))(
    'a restore meeting an erasure in progress waits for it, then restores nothing for the erased person',
    async () => {
      const cand = await registerCandidate(t);
      expect((await journal(cand, 'raced')).statusCode).toBe(201);
      t.clock.advance(1);
      await cli('keys:backup');
      const newest = join(dir, (await backupFiles()).at(-1)!);
      await t.c.db.delete(dataKeys).where(eq(dataKeys.userId, cand.id));
      let restoring: ReturnType<typeof cli> | undefined;
      let settled = false;
      // As an erasure does: the person's row held FOR UPDATE from its start, anonymised before commit.
      await t.c.db.transaction(async (tx) => {
        await tx.execute(sql`select id from users where id = ${cand.id} for update`);
        restoring = cli('keys:restore', '--file', newest);
        void restoring.then(() => (settled = true));
        await new Promise((r) => setTimeout(r, 500));
        expect(settled).toBe(false);
        await tx.execute(sql`update users set anonymized_at = now() where id = ${cand.id}`);
      });
      const restored = await restoring!;
      expect(restored.code).toBe(0);
      expect(restored.out).toMatch(/not restored: [1-9]\d* erased/);
      expect(await keyOf(cand.id)).toBeUndefined();
    },
  );

  it('a backup whose key count is a multiple of its batch size reads back whole', async () => {
    const keys = (await t.c.db.select().from(dataKeys)).length;
    for (const batchSize of [1, keys]) {
      const at = new Date(Date.now() - 1000 - batchSize);
      const { file } = await writeKeyBackup({ db: t.c.db, dir, now: () => at, batchSize });
      expect((await readKeyBackup(file)).keys).toHaveLength(keys);
      await rm(file);
    }
  });

  it('a file that was cut or changed is refused and restores nothing', async () => {
    const file = join(dir, (await backupFiles()).at(-1)!);
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    const cut = join(dir, 'cut.jsonl');
    await writeFile(cut, `${lines.slice(0, -1).join('\n')}\n`);
    const cutRun = await cli('keys:restore', '--file', cut);
    expect(cutRun.code).toBe(2);
    expect(cutRun.err).toContain('cut short');

    const changed = join(dir, 'changed.jsonl');
    const victim = JSON.parse(lines[1]!) as { wrapped_key: string };
    const flipped = victim.wrapped_key.endsWith('A') ? 'B' : 'A';
    lines[1] = JSON.stringify({ ...victim, wrapped_key: `${victim.wrapped_key.slice(0, -1)}${flipped}` });
    await writeFile(changed, `${lines.join('\n')}\n`);
    const before = (await t.c.db.select().from(dataKeys)).length;
    const changedRun = await cli('keys:restore', '--file', changed);
    expect(changedRun.code).toBe(2);
    expect(changedRun.err).toContain('was changed or cut');
    expect((await t.c.db.select().from(dataKeys)).length).toBe(before);

    const other = await cli('keys:restore', '--file', join(dir, 'nothing-here.jsonl'));
    expect(other.code).toBe(2);
    expect(other.err).toContain('no such file');
    await rm(cut);
    await rm(changed);
  });

  it('backups older than the retention are deleted (counted from the name), others and foreign files are kept', async () => {
    const day = 86_400_000;
    const old = await writeKeyBackup({ db: t.c.db, dir, now: () => new Date(Date.now() - 36 * day) });
    const recent = await writeKeyBackup({ db: t.c.db, dir, now: () => new Date(Date.now() - 34 * day) });
    // A crash left a half-written file two days ago; someone keeps their own notes in the folder.
    const partial = join(dir, 'data-keys-20200101T000000000Z.jsonl.partial');
    await writeFile(partial, '{');
    await utimes(partial, new Date(Date.now() - 2 * day), new Date(Date.now() - 2 * day));
    await writeFile(join(dir, 'README.txt'), 'operator notes');
    // touching the old file does not make it younger
    await utimes(old.file, new Date(), new Date());

    const status = await cli('keys:status');
    expect(status.code).toBe(1);
    expect(status.out).toContain('1 key backups are older than KEY_BACKUP_RETENTION_DAYS (35)');

    t.clock.advance(1);
    const run = await cli('keys:backup');
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/deleted 1 backups older than 35 days/);
    const names = await readdir(dir);
    expect(names).not.toContain(old.file.split('/').at(-1));
    expect(names).toContain(recent.file.split('/').at(-1));
    expect(names).toContain('README.txt');
    expect(names).not.toContain('data-keys-20200101T000000000Z.jsonl.partial');
    expect((await cli('keys:status')).code).toBe(0);
  });

  it('a backup that fails still deletes the expired ones, and never replaces another backup', async () => {
    const day = 86_400_000;
    t.clock.advance(1);
    const first = await cli('keys:backup');
    expect(first.code).toBe(0);
    const name = /to (\S+)$/m.exec(first.out)![1]!;
    const whole = await readFile(name, 'utf8');
    const expired = await writeKeyBackup({ db: t.c.db, dir, now: () => new Date(Date.now() - 40 * day) });
    // The same millisecond again (the clock has not moved): this backup cannot get its name.
    await expect(cli('keys:backup')).rejects.toThrow(/EEXIST/);
    expect(await readFile(name, 'utf8')).toBe(whole);
    expect(await readdir(dir)).not.toContain(expired.file.split('/').at(-1));
    expect((await readdir(dir)).filter((n) => n.endsWith('.partial'))).toEqual([]);
  });

  it('keys:backup without KEY_BACKUP_DIR says so and writes nothing', async () => {
    const command = keyCommands['keys:backup']!;
    let err = '';
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      err += String(chunk);
      return true;
    });
    try {
      const code = await command.run([], async () => ({
        ...t.c,
        config: { ...t.c.config, keyBackup: { dir: undefined, retentionDays: 35 } },
      }));
      expect(code).toBe(2);
    } finally {
      stderr.mockRestore();
    }
    expect(err).toContain('KEY_BACKUP_DIR is not set');
  });
});

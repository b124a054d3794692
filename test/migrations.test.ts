import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { coreCommands } from '../src/cli/core-commands.js';
import { createContainer } from '../src/container.js';
import { openDatabase, type Database } from '../src/db/client.js';
import { MIGRATIONS_DIR, runMigrations } from '../src/db/migrate.js';
import { freshDatabase } from './helpers/database.js';
import { testConfig } from './helpers/env.js';

/**
 * Applied migrations are immutable (issue 9 item 13): a stored migration whose file changed
 * afterwards stops the start and `db:migrate` with a message naming the file, before anything is
 * applied. Line endings alone (a CRLF checkout) are not a change.
 */
let database: Database;
let drop: () => Promise<void>;
let url: string | undefined;
const temps: string[] = [];

beforeAll(async () => {
  ({ database, drop, url } = await freshDatabase());
});
afterAll(async () => {
  await drop();
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/** A copy of the migrations folder, as another checkout of the same release would have it. */
function copyMigrations(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'pss-migrations-'));
  temps.push(dir);
  cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const rows = async <T>(text: string): Promise<T[]> =>
  ((await database.db.execute(sql.raw(text))) as { rows: T[] }).rows;
const storedHashes = async () =>
  rows<{ tag: string; hash: string }>('select tag, hash from schema_migrations order by tag');
const tableExists = async (name: string) =>
  (await rows<{ t: string | null }>(`select to_regclass('public.${name}') as t`))[0]?.t != null;

/** Adds a new migration (creating a table) to a copied folder's journal. */
function addMigration(dir: string, tag: string, table: string) {
  const journalFile = path.join(dir, 'meta/_journal.json');
  const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: { idx: number }[] };
  const idx = Math.max(...journal.entries.map((e) => e.idx)) + 1;
  journal.entries.push({ idx, version: '7', when: Date.now(), tag, breakpoints: true } as never);
  writeFileSync(journalFile, JSON.stringify(journal, null, 2));
  writeFileSync(path.join(dir, `${tag}.sql`), `CREATE TABLE "${table}" ("id" integer);`);
}

describe('migration drift (applied migrations are immutable)', () => {
  it('an unaltered copy of the folder is a no-op, and so is one checked out with CRLF line endings', async () => {
    const before = await storedHashes();
    expect(await runMigrations(database, copyMigrations())).toEqual([]);
    const crlf = copyMigrations();
    for (const file of readdirSync(crlf).filter((f) => f.endsWith('.sql'))) {
      const text = readFileSync(path.join(crlf, file), 'utf8');
      writeFileSync(path.join(crlf, file), text.replace(/\r?\n/g, '\r\n'));
    }
    expect(await runMigrations(database, crlf)).toEqual([]);
    expect(await storedHashes()).toEqual(before);
  });

  it('a changed applied migration stops the run naming the file, and nothing is applied', async () => {
    const before = await storedHashes();
    const dir = copyMigrations();
    const file = path.join(dir, '0002_security.sql');
    writeFileSync(file, `${readFileSync(file, 'utf8')}\n--> statement-breakpoint\nSELECT 1;`);
    addMigration(dir, '0099_probe', 'drift_probe');

    const run = runMigrations(database, dir);
    await expect(run).rejects.toThrow(/0002_security\.sql/);
    await expect(run).rejects.toThrow(/restore .*new migration/i);
    // Nothing applied: the pending migration after it did not run and no stored hash changed.
    expect(await tableExists('drift_probe')).toBe(false);
    expect(await storedHashes()).toEqual(before);
  });

  it('a pending migration is applied as before when nothing applied has changed', async () => {
    const dir = copyMigrations();
    addMigration(dir, '0099_pending', 'drift_ok');
    expect(await runMigrations(database, dir)).toEqual(['0099_pending']);
    expect(await tableExists('drift_ok')).toBe(true);
    expect(await runMigrations(database, dir)).toEqual([]);
    await rows('drop table drift_ok');
    await rows(`delete from schema_migrations where tag = '0099_pending'`);
  });

  it('hashes stored by earlier versions from a CRLF checkout are still accepted', async () => {
    // Earlier versions hashed the file's raw bytes: a CRLF checkout stored the CRLF hash.
    const text = readFileSync(path.join(MIGRATIONS_DIR, '0001_domain.sql'), 'utf8');
    const crlfHash = sha256(text.replace(/\r?\n/g, '\r\n'));
    const lfHash = sha256(text.replace(/\r\n/g, '\n'));
    expect(crlfHash).not.toBe(lfHash);
    await rows(`update schema_migrations set hash = '${crlfHash}' where tag = '0001_domain'`);
    try {
      expect(await runMigrations(database)).toEqual([]);
    } finally {
      await rows(`update schema_migrations set hash = '${lfHash}' where tag = '0001_domain'`);
    }
  });

  it('the start refuses a database whose applied migration differs from its file', async () => {
    const lfHash = (await storedHashes()).find((r) => r.tag === '0003_privacy')!.hash;
    // As if 0003_privacy.sql had been edited after this database applied it.
    await rows(`update schema_migrations set hash = '${'0'.repeat(64)}' where tag = '0003_privacy'`);
    try {
      await expect(createContainer(testConfig(), { database })).rejects.toThrow(/0003_privacy\.sql/);
    } finally {
      await rows(`update schema_migrations set hash = '${lfHash}' where tag = '0003_privacy'`);
    }
  });
});

describe('npm run db:migrate', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('refuses a changed applied migration with a message naming the file', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'pss-migrate-cli-'));
    temps.push(dataDir);
    vi.stubEnv('APP_ENV', 'development');
    vi.stubEnv('DATA_DIR', dataDir);
    vi.stubEnv('DATABASE_URL', url ?? '');
    vi.stubEnv('REDIS_URL', '');
    const migrate = coreCommands['db:migrate']!;
    const noContainer = async () => {
      throw new Error('db:migrate needs no container');
    };
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      // PostgreSQL: this file's database; PGlite: a new data folder that the command creates.
      expect(await migrate.run([], noContainer)).toBe(0);
      const target = url === undefined ? await openDatabase({ dataDir: `${dataDir}/pglite` }) : database;
      const stored = await target.db.execute(
        sql`select hash from schema_migrations where tag = '0004_audit_chain'`,
      );
      const { hash } = (stored as { rows: { hash: string }[] }).rows[0]!;
      await target.db.execute(
        sql`update schema_migrations set hash = ${'f'.repeat(64)} where tag = '0004_audit_chain'`,
      );
      if (url === undefined) await target.close();
      try {
        await expect(migrate.run([], noContainer)).rejects.toThrow(/0004_audit_chain\.sql.*restore/is);
      } finally {
        if (url !== undefined) {
          await target.db.execute(
            sql`update schema_migrations set hash = ${hash} where tag = '0004_audit_chain'`,
          );
        }
      }
    } finally {
      stdout.mockRestore();
    }
  });
});

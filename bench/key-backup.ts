/**
 * `npm run bench:key-backup`: how long the daily key backup, its check and a full restore take for a
 * programme of real size (docs/privacy.md#key-backups). Makes a migrated database with `--keys` users,
 * each with a data key, then times `writeKeyBackup`, `readKeyBackup` (parse + count + digest) and
 * `restoreKeyBackup` into an emptied `data_keys`. The database is dropped at the end.
 *
 *   npm run bench:key-backup -- [--keys 100000] [--server postgres://…/postgres]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { Db } from '../src/db/client.js';
import { readKeyBackup, restoreKeyBackup } from '../src/modules/keys/index.js';
import { writeKeyBackup } from '../src/modules/keys/backup.js';
import { ensurePostgres, recreateDatabase } from './infra.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const option = (name: string, fallback: string) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
};

async function timed<T>(label: string, run: () => Promise<T>, describe: (value: T) => string): Promise<T> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const value = await run();
  const used = process.cpuUsage(cpu);
  const ms = (n: number) => `${n.toFixed(0)} ms`;
  console.log(
    `${label}: ${describe(value)}; ${ms(performance.now() - started)} wall, ${ms((used.user + used.system) / 1000)} CPU`,
  );
  return value;
}

const keys = Number(option('keys', '100000'));
if (!Number.isInteger(keys) || keys < 1) throw new Error('--keys must be a positive whole number');
const server = option('server', 'postgres://postgres@127.0.0.1:5432/postgres');
await ensurePostgres(server);
const url = await recreateDatabase(server, 'pss_bench_key_backup');
execFileSync(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli.ts'), 'db:migrate'], {
  cwd: root,
  env: { ...process.env, DATABASE_URL: url, DATABASE_SSL: 'disable', LOG_LEVEL: 'warn', APP_ENV: 'test' },
  stdio: 'ignore',
});
const pool = new pg.Pool({ connectionString: url });
const db = drizzle(pool) as unknown as Db;
const dir = mkdtempSync(path.join(tmpdir(), 'pss-bench-key-backup-'));
try {
  await pool.query(
    `insert into users (email, password) select 'bench' || g || '@capaciti.org.za', 'x' from generate_series(1, $1) g`,
    [keys],
  );
  // The size of a real wrapped key (base64 of nonce, key and tag: 88 characters).
  await pool.query(
    `insert into data_keys (user_id, master_key_id, wrapped_key) select id, 'k1', encode(sha512(id::text::bytea), 'base64') from users`,
  );
  const written = await timed(
    'backup',
    () => writeKeyBackup({ db, dir, now: () => new Date() }),
    (w) => `${String(w.keys)} keys, ${(statSync(w.file).size / 1e6).toFixed(1)} MB`,
  );
  const backup = await timed(
    'read and check',
    () => readKeyBackup(written.file),
    (b) => `${String(b.keys.length)} keys, heap ${(process.memoryUsage().heapUsed / 1e6).toFixed(0)} MB`,
  );
  await pool.query('delete from data_keys');
  await timed(
    'restore into an empty data_keys',
    () => restoreKeyBackup({ db, configuredMasterKeys: new Set(['k1']) }, backup.keys, { dryRun: false }),
    (r) => `${String(r.restored)} restored`,
  );
} finally {
  await pool.end();
  rmSync(dir, { recursive: true, force: true });
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query('drop database if exists pss_bench_key_backup with (force)');
  await admin.end();
}

/**
 * `npm run bench:import`: how long `import:django` takes for a programme of real size.
 *
 * Builds a database of the original (the fixture's schema and rows, test/fixtures/django-original)
 * and adds `--candidates` candidates, each with a full intake (nine Fernet-encrypted fields, made
 * with the fixture's key as django-encrypted-model-fields makes them) and `--entries` journal
 * entries. Then runs the CLI (`src/cli.ts import:django`) into an empty, migrated database, once
 * (everything new) and a second time (everything unchanged), and prints wall time, CPU of the
 * importer and rows per second. Both databases are dropped at the end unless `--keep`.
 *
 *   npm run bench:import -- [--candidates 100000] [--entries 30] [--server postgres://…/postgres] [--keep]
 */
import { execFileSync, spawn } from 'node:child_process';
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { ENCRYPTED_PROFILE_COLUMNS } from '../src/modules/django-import/index.js';
import { ensurePostgres, recreateDatabase } from './infra.js';
import { newSecrets } from './service.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixture = path.join(root, 'test/fixtures/django-original');
const FIRST_ID = 100_000;
const BATCH = 2_000;
const MOODS = ['excellent', 'good', 'okay', 'difficult', 'very_difficult'];
const ENCRYPTED = ENCRYPTED_PROFILE_COLUMNS;

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] ? (process.argv[at + 1] ?? fallback) : fallback;
}

function positive(name: string, fallback: number): number {
  const value = Number(option(name, String(fallback)));
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive whole number`);
  return value;
}

/** A Fernet token of `plain` under `key` (URL-safe base64 of 32 bytes: signing half, then AES half). */
function fernet(key: Buffer, plain: string): string {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-128-cbc', key.subarray(16), iv);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  const head = Buffer.alloc(9);
  head[0] = 0x80;
  head.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000)), 1);
  const signed = Buffer.concat([head, iv, body]);
  const mac = createHmac('sha256', key.subarray(0, 16)).update(signed).digest();
  return Buffer.concat([signed, mac])
    .toString('base64url')
    .padEnd(Math.ceil((signed.length + 32) / 3) * 4, '=');
}

function fixtureKey(): { raw: string; key: Buffer } {
  const env = readFileSync(path.join(fixture, 'keys.txt'), 'utf8');
  const raw = /^FIELD_ENCRYPTION_KEY=(.+)$/m.exec(env)?.[1]?.trim();
  if (!raw) throw new Error('keys.txt has no FIELD_ENCRYPTION_KEY');
  return { raw, key: Buffer.from(raw, 'base64url') };
}

async function generate(url: string, candidates: number, entries: number, key: Buffer): Promise<void> {
  execFileSync('psql', ['-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-f', path.join(fixture, 'dump.sql')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    await db.query(
      `insert into users_user (id, password, is_superuser, email, first_name, last_name, role,
         has_completed_intake, is_active, is_staff, date_joined, created_at, updated_at,
         password_last_changed, totp_enabled)
       select $1::bigint + g, (select password from users_user where id = 2), false,
              'candidate' || g || '@example.org', 'Candidate', 'Number ' || g, 'candidate',
              true, true, false, now(), now(), now(), now(), false
         from generate_series(0, $2::int - 1) g`,
      [FIRST_ID, candidates],
    );
    for (let start = 0; start < candidates; start += BATCH) {
      const rows = [];
      for (let i = start; i < Math.min(start + BATCH, candidates); i += 1) {
        const row: Record<string, unknown> = {
          user_id: FIRST_ID + i,
          contact_number: '0210000000',
          accommodations: 'Extra time in assessments',
          learning_style: 'visual',
        };
        for (const column of ENCRYPTED) row[column] = fernet(key, `${column} of candidate ${String(i)}`);
        rows.push(row);
      }
      await db.query(
        `insert into users_userprofile (user_id, contact_number, accommodations, learning_style,
           ${ENCRYPTED.join(', ')}, created_at, updated_at)
         select r.user_id, r.contact_number, r.accommodations, r.learning_style,
                ${ENCRYPTED.map((c) => `r.${c}`).join(', ')}, now(), now()
           from json_to_recordset($1::json) as r(user_id bigint, contact_number text, accommodations text,
                learning_style text, ${ENCRYPTED.map((c) => `${c} text`).join(', ')})`,
        [JSON.stringify(rows)],
      );
    }
    await db.query(
      `insert into journal_journalentry (date, mood, energy_level, activities, challenges, achievements,
         notes, barriers_faced, barrier_count, created_at, updated_at, user_id)
       select current_date - d, ($3::text[])[1 + (g + d) % 5], 1 + (g + d) % 10,
              'Worked through the module', 'Long day', 'Finished the exercise', 'Felt fine',
              case when d % 3 = 0 then 'transport' else '' end, case when d % 3 = 0 then 1 else 0 end,
              now() - make_interval(days => d), now() - make_interval(days => d), $1::bigint + g
         from generate_series(0, $2::int - 1) g, generate_series(1, $4::int) d`,
      [FIRST_ID, candidates, MOODS, entries],
    );
    await db.query('analyze');
  } finally {
    await db.end();
  }
}

interface RunFigures {
  seconds: number;
  cpuSeconds: number;
  maxRssMb: number;
  output: string;
}

/** Runs a CLI command in a child under /usr/bin/time (wall, CPU and peak memory of the importer). */
function cli(args: string[], env: NodeJS.ProcessEnv): Promise<RunFigures> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(
      '/usr/bin/time',
      ['-f', 'TIME %U %S %M', process.execPath, '--import', 'tsx', path.join(root, 'src/cli.ts'), ...args],
      { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      const text = d.toString();
      err += text;
      const progress = text.split('\n').filter((l) => l && !l.startsWith('TIME '));
      if (progress.length > 0) process.stderr.write(`  ${progress.join('\n  ')}\n`);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const time = /TIME ([\d.]+) ([\d.]+) (\d+)/.exec(err);
      if (code !== 0 || !time) {
        reject(new Error(`${args[0] ?? 'cli'} exited with ${String(code)}\n${out}\n${err.slice(-2000)}`));
        return;
      }
      resolve({
        seconds,
        cpuSeconds: Number(time[1]) + Number(time[2]),
        maxRssMb: Math.round(Number(time[3]) / 1024),
        output: out,
      });
    });
  });
}

async function main(): Promise<void> {
  const candidates = positive('candidates', 100_000);
  const entries = positive('entries', 30);
  const server = option('server', 'postgres://postgres@127.0.0.1:5432/postgres');
  const keep = process.argv.includes('--keep');
  await ensurePostgres(server);
  const { raw, key } = fixtureKey();
  const sourceUrl = await recreateDatabase(server, 'pss_bench_django_source');
  const targetUrl = await recreateDatabase(server, 'pss_bench_django_target');
  console.log(
    `# generating the original's database: ${String(candidates)} candidates × ${String(entries)} entries`,
  );
  const generating = Date.now();
  await generate(sourceUrl, candidates, entries, key);
  console.log(`# generated in ${((Date.now() - generating) / 1000).toFixed(1)} s`);

  const secrets = newSecrets();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    APP_ENV: 'development',
    LOG_LEVEL: 'warn',
    DATA_DIR: mkdtempSync(path.join(tmpdir(), 'pss-bench-import-')),
    DATABASE_URL: targetUrl,
    REDIS_URL: '',
    SECRET_KEY: secrets.secretKey,
    FIELD_ENCRYPTION_KEYS: secrets.fieldKeys,
    FIELD_ENCRYPTION_ACTIVE_KEY: secrets.fieldKeyId,
    BLIND_INDEX_KEY: secrets.blindIndexKey,
    LEGACY_FIELD_ENCRYPTION_KEY: raw,
  };
  await cli(['db:migrate'], env);
  const sourceRows = candidates * (2 + entries);
  const runs: [string, RunFigures][] = [];
  for (const label of ['first run (all new)', 'second run (all unchanged)']) {
    console.log(`# import:django, ${label}`);
    const figures = await cli(['import:django', '--source-url', sourceUrl], env);
    runs.push([label, figures]);
  }
  console.log(runs[0]?.[1].output ?? '');
  console.log(`\n| run | wall | importer CPU | peak memory | source rows/s |`);
  console.log(`| --- | --- | --- | --- | --- |`);
  for (const [label, f] of runs) {
    console.log(
      `| ${label} | ${f.seconds.toFixed(1)} s | ${f.cpuSeconds.toFixed(1)} s | ${String(f.maxRssMb)} MB | ${Math.round(sourceRows / f.seconds).toLocaleString('en')} |`,
    );
  }
  if (!keep) {
    const admin = new pg.Client({ connectionString: server });
    await admin.connect();
    await admin.query('drop database if exists pss_bench_django_source with (force)');
    await admin.query('drop database if exists pss_bench_django_target with (force)');
    await admin.end();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});

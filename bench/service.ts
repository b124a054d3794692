/** Service instances for the bench: src/main.ts in child processes sharing one database and one Redis. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startChild, type Child } from './child.js';

export const SUPERUSER = { email: 'bench.root@capaciti.org.za', password: 'Bench#Root-2026-x9' };

/** Secrets of one bench run: every instance gets the same, and the bench seals data with them. */
export interface BenchSecrets {
  secretKey: string;
  /** FIELD_ENCRYPTION_KEYS value (`bench:<base64>`). */
  fieldKeys: string;
  fieldKeyId: string;
  blindIndexKey: string;
}

export function newSecrets(): BenchSecrets {
  return {
    secretKey: randomBytes(48).toString('base64url'),
    fieldKeys: `bench:${randomBytes(32).toString('base64')}`,
    fieldKeyId: 'bench',
    blindIndexKey: randomBytes(32).toString('base64'),
  };
}

export interface ServiceTarget {
  /** Empty for PGlite (then DATA_DIR holds the database). */
  databaseUrl: string;
  redisUrl: string;
  secrets: BenchSecrets;
}

function serviceEnv(target: ServiceTarget, port: number, dataDir: string): NodeJS.ProcessEnv {
  const off = Object.fromEntries(
    [
      'LOGIN',
      '2FA_VERIFY',
      'REGISTER',
      'RESET_REQUEST',
      'RESET_CONFIRM',
      'REFRESH',
      'SENSITIVE_USER',
      'ANON',
      'USER',
    ].map((scope) => [`RATE_LIMIT_${scope}`, 'off']),
  );
  return {
    ...process.env,
    ...off,
    APP_ENV: 'development',
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    DATABASE_URL: target.databaseUrl,
    REDIS_URL: target.redisUrl,
    SECRET_KEY: target.secrets.secretKey,
    FIELD_ENCRYPTION_KEYS: target.secrets.fieldKeys,
    FIELD_ENCRYPTION_ACTIVE_KEY: target.secrets.fieldKeyId,
    BLIND_INDEX_KEY: target.secrets.blindIndexKey,
    EMAIL_BACKEND: 'memory',
    // Every request comes from 127.0.0.1: the per-address lock-out would stop a login storm of
    // correct passwords at 5 in flight. The per-account one stays (one account per connection).
    LOCKOUT_IP_THRESHOLD: '1000',
    DJANGO_SUPERUSER_EMAIL: SUPERUSER.email,
    DJANGO_SUPERUSER_PASSWORD: SUPERUSER.password,
    METRICS_TOKEN: '',
  };
}

/** Where PGlite keeps its files: shared by the instances of one run (there is only one on PGlite). */
export const dataDir = mkdtempSync(path.join(tmpdir(), 'pss-bench-'));

export interface StartOptions {
  name: string;
  port: number;
  /** Set: statements are appended to this file as JSON lines (bench/sql-capture.ts). */
  sqlLog?: string;
}

export function startService(target: ServiceTarget, opts: StartOptions): Promise<Child> {
  const env = serviceEnv(target, opts.port, dataDir);
  const capture = opts.sqlLog ? ['--import', './bench/sql-capture.ts'] : [];
  if (opts.sqlLog) env.BENCH_SQL_LOG = opts.sqlLog;
  // BENCH_CPU_PROF_DIR: each service writes a V8 CPU profile there when it stops (open it in DevTools).
  const profile = process.env.BENCH_CPU_PROF_DIR
    ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF_DIR]
    : [];
  return startChild({
    name: opts.name,
    port: opts.port,
    args: [...profile, ...capture, 'src/main.ts'],
    env,
    readyPath: '/health/ready/',
  });
}

/**
 * PostgreSQL and Redis for the bench, started the way CI starts them (.ci/run) when they are not
 * running, and the bench's own database, dropped and recreated for every run.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import pg from 'pg';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function succeeds(file: string, args: string[]): boolean {
  try {
    execFileSync(file, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function hostPort(url: string): { host: string; port: string } {
  const u = new URL(url);
  return { host: u.hostname || '127.0.0.1', port: u.port || (u.protocol === 'redis:' ? '6379' : '5432') };
}

export async function ensureRedis(redisUrl: string): Promise<void> {
  const { host, port } = hostPort(redisUrl);
  if (succeeds('redis-cli', ['-h', host, '-p', port, 'ping'])) return;
  console.log(`# Redis is not answering at ${host}:${port}: starting it as CI does`);
  execFileSync('redis-server', [
    '--daemonize',
    'yes',
    '--bind',
    '127.0.0.1',
    '-::1',
    '--port',
    port,
    '--save',
    '',
    '--appendonly',
    'no',
  ]);
  for (let i = 0; i < 30; i += 1) {
    if (succeeds('redis-cli', ['-h', host, '-p', port, 'ping'])) return;
    await sleep(500);
  }
  throw new Error('Redis did not start');
}

export async function ensurePostgres(serverUrl: string): Promise<void> {
  const { host, port } = hostPort(serverUrl);
  if (succeeds('pg_isready', ['-h', host, '-p', port, '-q'])) return;
  console.log(`# PostgreSQL is not answering at ${host}:${port}: starting it as CI does`);
  const version = readdirSync('/etc/postgresql').sort()[0];
  if (!version) throw new Error('no PostgreSQL cluster in /etc/postgresql');
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], {
    stdio: 'inherit',
  });
  for (let i = 0; i < 30; i += 1) {
    if (succeeds('pg_isready', ['-h', host, '-p', port, '-q'])) return;
    await sleep(1000);
  }
  throw new Error('PostgreSQL did not start');
}

/** Drops and creates `name` on the server; returns its URL. */
export async function recreateDatabase(serverUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Server version and settings worth writing next to the figures. */
export async function describePostgres(databaseUrl: string): Promise<string> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ v: string; sb: string; mc: string }>(
      `select current_setting('server_version') as v, current_setting('shared_buffers') as sb,
              current_setting('max_connections') as mc`,
    );
    const row = rows[0];
    return row ? `PostgreSQL ${row.v} (shared_buffers ${row.sb})` : 'PostgreSQL';
  } finally {
    await client.end();
  }
}

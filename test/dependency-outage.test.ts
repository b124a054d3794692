import { randomBytes } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Writable } from 'node:stream';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { createContainer, type Container } from '../src/container.js';
import { openDatabase, type Database } from '../src/db/client.js';
import { freshDatabase } from './helpers/database.js';
import { testConfig } from './helpers/env.js';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js';

/**
 * A dependency that stops is an ordinary event (spec operations.md §8): the real PostgreSQL and Redis
 * are put behind TCP proxies this test controls, and cut while requests run in parallel. While the
 * database is gone every request that needs it answers 503 `service_unavailable` with Retry-After at
 * once; the process survives; within a second of the database's return it serves again; no write
 * answered 2xx is lost and none is half-done. While Redis is gone, sessions, limits and writes go on
 * from PostgreSQL, and what needs Redis answers 503.
 */
const adminUrl = process.env.TEST_DATABASE_URL;
/** The server itself, past a transaction pooler when TEST_DATABASE_URL goes through one (test/helpers/database.ts). */
const serverUrl = process.env.TEST_DIRECT_DATABASE_URL ?? adminUrl;
const redisUrl = process.env.TEST_REDIS_URL;

const PASSWORD = 'Tq9!Vb7#Lm4$Xz2k';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Outcome {
  kind: 'read' | 'write';
  status: number;
  code: string | undefined;
  retryAfter: string | undefined;
  ms: number;
  id?: number;
}

interface LogLine {
  level: number;
  msg?: string;
  error_id?: string;
}

/** A logger whose JSON lines land in `lines`. */
function capture(lines: LogLine[]) {
  return pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean))
          lines.push(JSON.parse(line) as LogLine);
        done();
      },
    }),
  );
}

/** Journal dates are unique per user: every write of the file takes the next day. */
let day = 0;

/** Clients that keep sending requests until stopped: half read, half write journal entries. */
function startLoad(app: FastifyInstance, tokens: string[], clients: number) {
  const outcomes: Outcome[] = [];
  let running = true;
  const loops = Array.from({ length: clients }, async (_, i) => {
    const token = tokens[i % tokens.length]!;
    const write = i % 2 === 1;
    while (running) {
      const started = performance.now();
      let res: LightMyRequestResponse;
      if (write) {
        day += 1;
        const date = new Date(Date.UTC(2000, 0, 1) + day * 86_400_000).toISOString().slice(0, 10);
        res = await app.inject({
          method: 'POST',
          url: '/api/journal/',
          headers: { authorization: `Bearer ${token}` },
          payload: {
            date,
            mood: 'good',
            energy_level: 5,
            activities: 'outage test',
            notes: 'written during an outage',
          },
        });
      } else {
        res = await app.inject({
          method: 'GET',
          url: i % 4 === 0 ? '/api/auth/me/' : '/api/journal/',
          headers: { authorization: `Bearer ${token}` },
        });
      }
      const body = String(res.headers['content-type'] ?? '').includes('json')
        ? res.json<{ code?: string; id?: number }>()
        : {};
      outcomes.push({
        kind: write ? 'write' : 'read',
        status: res.statusCode,
        code: body.code,
        retryAfter: res.headers['retry-after'],
        ms: performance.now() - started,
        ...(write && res.statusCode === 201 ? { id: body.id } : {}),
      });
      await sleep(15);
    }
  });
  return {
    outcomes,
    /** Outcomes recorded from now on. */
    mark: () => outcomes.length,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (await check()) return performance.now() - started;
    await sleep(20);
  }
  throw new Error(`not within ${timeoutMs} ms`);
}

/** Ends every server-side connection to this database, as a stopping server does (57P01). */
async function terminateBackends(name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(
    'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
    [name],
  );
  await admin.end();
}

async function register(app: FastifyInstance): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/auth/register/',
    payload: {
      email: `outage.${randomBytes(5).toString('hex')}@capaciti.org.za`,
      password: PASSWORD,
    },
  });
  expect(res.statusCode).toBe(201);
  return res.json<{ access: string }>().access;
}

describe.skipIf(!adminUrl)('PostgreSQL stops while requests run', () => {
  let proxy: TcpProxy;
  let direct: Awaited<ReturnType<typeof freshDatabase>>;
  let proxied: Database;
  let c: Container;
  let app: FastifyInstance;
  let dbName: string;
  let tokens: string[];
  const lines: LogLine[] = [];

  beforeAll(async () => {
    direct = await freshDatabase();
    const url = new URL(direct.url!);
    dbName = url.pathname.slice(1);
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    url.host = proxy.address;
    proxied = await openDatabase({ url: url.toString(), poolMax: 8 });
    const config = testConfig({ DATABASE_URL: url.toString() });
    c = await createContainer(config, { database: proxied, migrate: false, logger: capture(lines) });
    app = await buildApp(c, { logger: capture(lines) });
    await app.ready();
    tokens = [await register(app), await register(app), await register(app), await register(app)];
  });
  afterAll(async () => {
    await app.close();
    await proxied.close();
    await proxy.close();
    await direct.drop();
  });

  const ready = async () => (await app.inject({ method: 'GET', url: '/health/ready/' })).statusCode === 200;
  const meOk = async () =>
    (
      await app.inject({
        method: 'GET',
        url: '/api/auth/me/',
        headers: { authorization: `Bearer ${tokens[0]}` },
      })
    ).statusCode === 200;

  it('answers 503 with Retry-After at once during a full outage, recovers by itself, loses no write', async () => {
    const load = startLoad(app, tokens, 16);
    await sleep(800);
    const before = load.mark();
    await proxy.stop();
    await terminateBackends(dbName);
    await sleep(300);
    const during = load.mark();
    await sleep(1500);

    const health = await app.inject({ method: 'GET', url: '/health/' });
    expect(health.statusCode).toBe(200);
    const readiness = await app.inject({ method: 'GET', url: '/health/ready/' });
    expect(readiness.statusCode).toBe(503);
    expect(readiness.json().checks.database).toBe('error');
    // A browser can read the 503 (CORS headers), like any other answer.
    const fromBrowser = await app.inject({
      method: 'GET',
      url: '/api/auth/me/',
      headers: { authorization: `Bearer ${tokens[0]}`, origin: 'http://localhost:5173' },
    });
    expect(fromBrowser.statusCode).toBe(503);
    expect(fromBrowser.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    expect(fromBrowser.headers['x-content-type-options']).toBe('nosniff');
    const duringEnd = load.mark();

    await proxy.start();
    const recovery = await waitUntil(meOk, 5000);
    await sleep(500);
    await load.stop();

    // No 500 at any time; while down, every answer is the 503 envelope with Retry-After, and fast.
    expect(load.outcomes.filter((o) => o.status >= 500 && o.status !== 503)).toEqual([]);
    const down = load.outcomes.slice(during, duringEnd);
    expect(down.length).toBeGreaterThan(20);
    for (const o of down) {
      expect(o.status).toBe(503);
      expect(o.code).toBe('service_unavailable');
      expect(o.retryAfter).toBe('5');
    }
    expect(Math.max(...down.map((o) => o.ms))).toBeLessThan(1000);
    // Served before and after.
    expect(load.outcomes.slice(0, before).filter((o) => o.status < 300).length).toBeGreaterThan(10);
    // "Within a second" of the return: probes run every 250 ms; the bound leaves room for a busy CI machine.
    expect(recovery).toBeLessThan(3000);
    expect(await ready()).toBe(true);

    // The outage is logged once when it starts and once when it ends, and counted; each 503 logs its id.
    expect(lines.filter((l) => l.msg?.startsWith('database unreachable')).length).toBe(1);
    expect(lines.filter((l) => l.msg === 'database reachable again').length).toBe(1);
    // Requests refused while the outage is known are counted, not logged one by one.
    expect(lines.filter((l) => l.level >= 40).length).toBeLessThan(60);
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('dependency_outages_total{dependency="database"} 1');
    expect(metrics).toContain('dependency_up{dependency="database"} 1');
    expect(metrics).toMatch(/http_unavailable_total\{dependency="database"\} [1-9]/);

    // Every write answered 201 is there, with its audit row (record and audit commit together).
    const created = load.outcomes.filter((o) => o.kind === 'write' && o.status === 201).map((o) => o.id!);
    expect(created.length).toBeGreaterThan(5);
    const check = new pg.Client({ connectionString: direct.url });
    await check.connect();
    try {
      const rows = await check.query<{ id: number }>('select id from journal_entries where id = any($1)', [
        created,
      ]);
      expect(rows.rows.length).toBe(created.length);
      const orphans = await check.query(
        `select e.id from journal_entries e where not exists (
           select 1 from audit_log a where a.resource_type = 'journal_entry'
             and a.resource_id = e.id::text and a.action = 'create')`,
      );
      expect(orphans.rows).toEqual([]);
    } finally {
      await check.end();
    }
  }, 60_000);

  it('survives a fast restart (every connection cut, the server back at once)', async () => {
    const load = startLoad(app, tokens, 16);
    await sleep(500);
    proxy.cutConnections();
    await terminateBackends(dbName);
    await sleep(1000);
    const after = load.mark();
    await sleep(800);
    await load.stop();
    expect(load.outcomes.filter((o) => o.status >= 500 && o.status !== 503)).toEqual([]);
    const settled = load.outcomes.slice(after);
    expect(settled.length).toBeGreaterThan(10);
    expect(settled.every((o) => o.status < 300)).toBe(true);
  }, 30_000);
});

/** One service on a fresh database whose Redis sits behind a proxy the test controls. */
async function behindRedisProxy(env: Record<string, string> = {}, lines?: LogLine[]) {
  const database = await freshDatabase();
  const url = new URL(redisUrl!);
  const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 6379) });
  url.host = proxy.address;
  const config = testConfig({
    ...(database.url ? { DATABASE_URL: database.url } : {}),
    REDIS_URL: url.toString(),
    ...env,
  });
  const c = await createContainer(config, {
    database: database.database,
    migrate: false,
    ...(lines ? { logger: capture(lines) } : {}),
    redisPrefix: `pss-test:${randomBytes(6).toString('hex')}:`,
  });
  const app = await buildApp(c);
  await app.ready();
  return {
    app,
    proxy,
    close: async () => {
      await app.close();
      await proxy.close();
      await database.drop();
    },
  };
}

describe.skipIf(!redisUrl)('Redis stops while requests run', () => {
  let proxy: TcpProxy;
  let app: FastifyInstance;
  let close: () => Promise<void>;
  let tokens: string[];
  const lines: LogLine[] = [];

  beforeAll(async () => {
    ({ app, proxy, close } = await behindRedisProxy({ RATE_LIMIT_ANON: '1000/minute' }, lines));
    tokens = [await register(app), await register(app)];
  });
  afterAll(async () => {
    await close();
  });

  it('goes on from PostgreSQL while Redis is down, and recovers by itself', async () => {
    const load = startLoad(app, tokens, 8);
    await sleep(500);
    await proxy.stop();
    await sleep(300);
    const during = load.mark();
    await sleep(1200);
    const duringEnd = load.mark();

    // Sign-in and registration go on (limits fall back to PostgreSQL); sessions are checked in PostgreSQL.
    const fresh = await register(app);
    const me = await app.inject({
      method: 'GET',
      url: '/api/auth/me/',
      headers: { authorization: `Bearer ${fresh}` },
    });
    expect(me.statusCode).toBe(200);
    const readiness = await app.inject({ method: 'GET', url: '/health/ready/' });
    expect(readiness.statusCode).toBe(503);
    expect(readiness.json().checks.redis).toBe('error');

    // The pending 2FA step lives only in Redis: 503 with Retry-After, not 500.
    const code = await app.inject({
      method: 'POST',
      url: '/api/auth/2fa/verify-code/',
      payload: { email: 'someone@capaciti.org.za', code: '123456' },
    });
    expect(code.statusCode).toBe(503);
    expect(code.json().code).toBe('service_unavailable');
    expect(code.headers['retry-after']).toBe('5');
    for (let i = 0; i < 19; i += 1) {
      const again = await app.inject({
        method: 'POST',
        url: '/api/auth/2fa/verify-code/',
        payload: { email: `someone${i}@capaciti.org.za`, code: '123456' },
      });
      expect(again.statusCode).toBe(503);
    }

    await proxy.start();
    await waitUntil(
      async () => (await app.inject({ method: 'GET', url: '/health/ready/' })).statusCode === 200,
      5000,
    );
    await sleep(300);
    await load.stop();

    expect(load.outcomes.filter((o) => o.status >= 500)).toEqual([]);
    expect(lines.filter((l) => l.msg?.startsWith('redis unreachable')).length).toBe(1);
    expect(lines.filter((l) => l.msg === 'redis reachable again').length).toBe(1);
    // The 20 answers that needed Redis during the known outage were counted, not logged one by one.
    expect(lines.filter((l) => l.level >= 40).length).toBeLessThan(10);
    const down = load.outcomes.slice(during, duringEnd);
    expect(down.length).toBeGreaterThan(10);
    expect(down.every((o) => o.status < 300)).toBe(true);
    expect(Math.max(...down.map((o) => o.ms))).toBeLessThan(1000);
  }, 60_000);
});

describe.skipIf(!redisUrl)('Redis hangs (answers nothing) while requests run', () => {
  let proxy: TcpProxy;
  let app: FastifyInstance;
  let close: () => Promise<void>;

  beforeAll(async () => {
    // Every request goes through Redis-backed throttles.
    ({ app, proxy, close } = await behindRedisProxy({
      RATE_LIMIT_ANON: '1000/minute',
      RATE_LIMIT_USER: '100000/day',
      RATE_LIMIT_LOGIN: '1000/minute',
    }));
  });
  afterAll(async () => {
    await close();
  });

  it('once the hang is detected, requests stop waiting for Redis; it is used again when it answers', async () => {
    const token = await register(app);
    const email = `hang.${randomBytes(5).toString('hex')}@capaciti.org.za`;
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/api/auth/register/',
          payload: { email, password: PASSWORD },
        })
      ).statusCode,
    ).toBe(201);
    proxy.freeze();
    await waitUntil(
      async () => (await app.inject({ method: 'GET', url: '/health/ready/' })).statusCode === 503,
      10_000,
    );
    const timings: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const started = performance.now();
      const me = await app.inject({
        method: 'GET',
        url: '/api/auth/me/',
        headers: { authorization: `Bearer ${token}` },
      });
      const login = await app.inject({
        method: 'POST',
        url: '/api/auth/login/',
        payload: { email, password: PASSWORD },
      });
      timings.push(performance.now() - started);
      expect(me.statusCode).toBe(200);
      expect(login.statusCode).toBe(200);
    }
    // Each pair passes several Redis-backed steps; waiting for the 1 s command timeout would show.
    expect(Math.max(...timings)).toBeLessThan(900);
    await proxy.start();
    await waitUntil(
      async () => (await app.inject({ method: 'GET', url: '/health/ready/' })).statusCode === 200,
      10_000,
    );
  }, 60_000);
});

describe.skipIf(!adminUrl || !redisUrl)('a lock-out outlives a Redis outage', () => {
  let proxy: TcpProxy;
  let app: FastifyInstance;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ app, proxy, close } = await behindRedisProxy());
  });
  afterAll(async () => {
    await close();
  });

  const signUp = async () => {
    const email = `lock.${randomBytes(5).toString('hex')}@capaciti.org.za`;
    const res = await app.inject({
      method: 'POST',
      url: '/api/auth/register/',
      payload: { email, password: PASSWORD },
    });
    expect(res.statusCode).toBe(201);
    return email;
  };
  const login = async (email: string, password: string) =>
    (await app.inject({ method: 'POST', url: '/api/auth/login/', payload: { email, password } })).statusCode;
  const lock = async (email: string) => {
    for (let i = 0; i < 5; i += 1) expect(await login(email, `Wrong#Password-${i}`)).toBe(401);
    expect(await login(email, PASSWORD)).toBe(429);
  };
  const redisDown = async () => {
    await proxy.stop();
    await waitUntil(
      async () => (await app.inject({ method: 'GET', url: '/health/ready/' })).statusCode === 503,
      5000,
    );
  };
  const redisBack = async () => {
    await proxy.start();
    await waitUntil(
      async () => (await app.inject({ method: 'GET', url: '/health/ready/' })).statusCode === 200,
      5000,
    );
  };

  it('locked while Redis is up: still locked while it is down and after it returns', async () => {
    const email = await signUp();
    await lock(email);
    await redisDown();
    expect(await login(email, PASSWORD)).toBe(429);
    await redisBack();
    expect(await login(email, PASSWORD)).toBe(429);
  });

  it('locked while Redis is down: still locked after it returns', async () => {
    const email = await signUp();
    await redisDown();
    await lock(email);
    await redisBack();
    expect(await login(email, PASSWORD)).toBe(429);
  });
});

describe.skipIf(!adminUrl)('a database that is full is not down', () => {
  it('the readiness probe counts "too many connections" (53300) as a server that answers', async () => {
    const fresh = await freshDatabase();
    const role = `pss_full_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`create role ${role} login connection limit 1`);
    // A role's connection limit is the server's: a pooler would not know the new role.
    const url = new URL(fresh.directUrl!);
    url.username = role;
    const busy = new pg.Client({ connectionString: url.toString() });
    const database = await openDatabase({ url: url.toString(), poolMax: 1 });
    try {
      await busy.connect(); // the role's only connection
      const refused = new pg.Client({ connectionString: url.toString() });
      await expect(refused.connect()).rejects.toMatchObject({ code: '53300' });
      await expect(database.ping()).resolves.toBeUndefined();
    } finally {
      await busy.end();
      await database.close();
      await fresh.drop();
      await admin.query(`drop role ${role}`);
      await admin.end();
    }
  });
});

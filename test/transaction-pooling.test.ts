import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { ConfigError } from '../src/config.js';
import { createContainer, type Container } from '../src/container.js';
import { openDatabase, type Database } from '../src/db/client.js';
import { sealUntil } from './helpers/audit.js';
import { STRONG_PASSWORD, uniqueEmail } from './helpers/app.js';
import { freshDatabase } from './helpers/database.js';
import { testConfig } from './helpers/env.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';

/**
 * The service runs behind a transaction pooler (PgBouncer, pool_mode = transaction;
 * docs/operations.md#connection-pooling): between two transactions a server connection may go to
 * another client, so nothing the service relies on may outlive its transaction on the connection.
 * CI runs the whole suite through PgBouncer 1.18; this file checks, on the server directly, that a
 * connection the service used holds nothing a pooler would hand to the next client, and that
 * migrations take DIRECT_DATABASE_URL.
 */
const onPostgres = Boolean(process.env.TEST_DATABASE_URL);
/** Through a pooler, the connection inspected afterwards is not the one that served: checked directly only. */
const pooled =
  process.env.TEST_DIRECT_DATABASE_URL !== undefined &&
  process.env.TEST_DIRECT_DATABASE_URL !== process.env.TEST_DATABASE_URL;

describe('DIRECT_DATABASE_URL', () => {
  it('defaults to DATABASE_URL, and is refused without it', () => {
    const url = 'postgres://pss@db.internal:5432/pss';
    expect(testConfig({ DATABASE_URL: url }).directDatabaseUrl).toBe(url);
    const direct = 'postgres://pss@db.internal:5432/pss?sslmode=require';
    expect(testConfig({ DATABASE_URL: url, DIRECT_DATABASE_URL: direct }).directDatabaseUrl).toBe(direct);
    expect(() => testConfig({ DIRECT_DATABASE_URL: direct })).toThrow(ConfigError);
  });

  it.skipIf(!onPostgres)('is where the service applies migrations at start', async () => {
    const fresh = await freshDatabase({ migrate: false });
    const target = new URL(fresh.directUrl!);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    target.host = proxy.address;
    const config = testConfig({ DATABASE_URL: fresh.url, DIRECT_DATABASE_URL: target.toString() });
    try {
      // DATABASE_URL answers; the direct address does not: the start fails before anything is applied.
      await proxy.stop();
      await expect(createContainer(config)).rejects.toThrow();
      const none = await fresh.database.db.execute(sql`select to_regclass('public.users') as t`);
      expect((none as { rows: { t: string | null }[] }).rows[0]?.t).toBeNull();

      await proxy.start();
      const c = await createContainer(config);
      await c.close();
      const some = await fresh.database.db.execute(sql`select to_regclass('public.users') as t`);
      expect((some as { rows: { t: string | null }[] }).rows[0]?.t).toBe('users');
    } finally {
      await proxy.close();
      await fresh.drop();
    }
  });
});

describe.skipIf(!onPostgres || pooled)('a connection the service used, as a pooler would pass it on', () => {
  let fresh: Awaited<ReturnType<typeof freshDatabase>>;
  let single: Database;
  let c: Container;
  let app: FastifyInstance;

  beforeAll(async () => {
    fresh = await freshDatabase();
    // One connection: every statement below runs on the server session inspected afterwards.
    single = await openDatabase({ url: fresh.url, poolMax: 1 });
    c = await createContainer(testConfig({ DATABASE_URL: fresh.url }), { database: single, migrate: false });
    app = await buildApp(c);
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await single.close();
    await fresh.drop();
  });

  const session = async <T>(text: string) => ((await single.db.execute(sql.raw(text))) as { rows: T[] }).rows;

  it('holds no prepared statement, setting, advisory lock, listener, temporary table or cursor', async () => {
    const [{ pid: before } = { pid: 0 }] = await session<{ pid: number }>('select pg_backend_pid() as pid');
    const email = uniqueEmail('pooling');
    const registered = await app.inject({
      method: 'POST',
      url: '/api/auth/register/',
      payload: { email, password: STRONG_PASSWORD },
    });
    expect(registered.statusCode).toBe(201);
    const access = registered.json<{ access: string }>().access;
    // A refused sign-in counts in the lock-out store (the `rate_limits` table, named statements in the library).
    const wrong = await app.inject({
      method: 'POST',
      url: '/api/auth/login/',
      payload: { email, password: `${STRONG_PASSWORD}x` },
    });
    expect(wrong.statusCode).toBe(401);
    const written = await app.inject({
      method: 'POST',
      url: '/api/journal/',
      headers: { authorization: `Bearer ${access}` },
      payload: { date: '2024-03-01', mood: 'good', energy_level: 5, activities: 'pooling' },
    });
    expect(written.statusCode).toBe(201);
    const listed = await app.inject({
      method: 'GET',
      url: '/api/journal/',
      headers: { authorization: `Bearer ${access}` },
    });
    expect(listed.statusCode).toBe(200);
    // The sealer takes its advisory lock and its trigger flag for its transaction.
    await sealUntil(c);

    const [{ pid: after } = { pid: -1 }] = await session<{ pid: number }>('select pg_backend_pid() as pid');
    expect(after).toBe(before);
    expect(await session('select name from pg_prepared_statements')).toEqual([]);
    expect(await session(`select name from pg_settings where source = 'session'`)).toEqual([]);
    expect(
      await session(`select objid from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()`),
    ).toEqual([]);
    expect(await session('select pg_listening_channels() as channel')).toEqual([]);
    expect(await session('select relname from pg_class where relnamespace = pg_my_temp_schema()')).toEqual(
      [],
    );
    expect(await session('select name from pg_cursors')).toEqual([]);
  });
});

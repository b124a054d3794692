import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { createContainer } from '../src/container.js';
import { deploymentId, renewDeploymentId } from '../src/db/deployment.js';
import { freshDatabase } from './helpers/database.js';
import { testConfig } from './helpers/env.js';
import { STRONG_PASSWORD, uniqueEmail } from './helpers/app.js';

/**
 * State cached in Redis is tied to the database it describes (issue 9 item 12): session states and
 * counters are keyed by row ids that restart at 1 in a new database, so every key carries the
 * database's deployment id after the configurable REDIS_KEY_PREFIX. A new database on the same Redis
 * never meets the old entries.
 */
const redisUrl = process.env.TEST_REDIS_URL;

describe.skipIf(!redisUrl)('shared-store keys carry the database they describe', () => {
  const prefix = `pss-ns-${randomBytes(4).toString('hex')}:`;
  const closers: (() => Promise<void>)[] = [];
  let first: FastifyInstance;
  let second: FastifyInstance;

  /** One service on a database of its own, with the real REDIS_KEY_PREFIX handling (no test prefix). */
  async function service(): Promise<FastifyInstance> {
    const { database, drop } = await freshDatabase();
    const config = testConfig({
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: prefix,
      RATE_LIMIT_REGISTER: '1/hour',
    });
    const c = await createContainer(config, { database, migrate: false });
    const app = await buildApp(c);
    await app.ready();
    closers.push(async () => {
      await app.close();
      await drop();
    });
    return app;
  }

  beforeAll(async () => {
    first = await service();
    second = await service();
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    const redis = new Redis(redisUrl!);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  /** Registers from an address of its own (throttles count per address; loopback proxies are trusted). */
  const register = (app: FastifyInstance, ip: string) =>
    app.inject({
      method: 'POST',
      url: '/api/auth/register/',
      headers: { 'x-forwarded-for': ip },
      payload: { email: uniqueEmail('ns'), password: STRONG_PASSWORD },
    });
  const registered = async (app: FastifyInstance, ip: string) => {
    const res = await register(app, ip);
    expect(res.statusCode).toBe(201);
    return res.json<{ user: { id: number }; access: string }>();
  };
  const me = (app: FastifyInstance, token: string) =>
    app.inject({ method: 'GET', url: '/api/auth/me/', headers: { authorization: `Bearer ${token}` } });

  it('a new database on the same Redis does not meet the sessions cached for the old one', async () => {
    const old = await registered(first, '203.0.113.1');
    expect((await me(first, old.access)).statusCode).toBe(200);
    const logout = await first.inject({
      method: 'POST',
      url: '/api/auth/logout/',
      headers: { authorization: `Bearer ${old.access}` },
      payload: {},
    });
    expect(logout.statusCode).toBe(200); // session 1 of the first database is cached as ended

    const fresh = await registered(second, '203.0.113.1');
    expect(fresh.user.id).toBe(old.user.id); // ids restart: the same session id again
    expect((await me(second, fresh.access)).statusCode).toBe(200);
  });

  it('a new database does not inherit the counters of the old one', async () => {
    await registered(first, '203.0.113.2');
    expect((await register(first, '203.0.113.2')).statusCode).toBe(429);
    await registered(second, '203.0.113.2');
  });

  it('every key starts with REDIS_KEY_PREFIX and the deployment id', async () => {
    const redis = new Redis(redisUrl!);
    try {
      const keys = await redis.keys(`${prefix}*`);
      expect(keys.length).toBeGreaterThan(0);
      for (const key of keys) expect(key).toMatch(new RegExp(`^${prefix}[0-9a-f-]{36}:`));
      expect(new Set(keys.map((k) => k.slice(prefix.length, prefix.length + 36))).size).toBeGreaterThan(1);
    } finally {
      await redis.quit();
    }
  });
});

describe('the deployment id', () => {
  it('is made by the first migration, and deployment:new-id replaces it (after restoring a backup)', async () => {
    const { database, drop } = await freshDatabase();
    try {
      const first = await deploymentId(database.db);
      expect(first).toMatch(/^[0-9a-f-]{36}$/);
      const renewed = await renewDeploymentId(database.db);
      expect(renewed).not.toBe(first);
      expect(await deploymentId(database.db)).toBe(renewed);
    } finally {
      await drop();
    }
  });
});

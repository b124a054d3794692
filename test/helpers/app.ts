import { randomBytes } from 'node:crypto';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app.js';
import { createContainer, type Container } from '../../src/container.js';
import type { Role } from '../../src/lib/actor.js';
import { freshDatabase } from './database.js';
import { testConfig } from './env.js';

export const STRONG_PASSWORD = 'Tq9!Vb7#Lm4$Xz2k';

/** A controllable clock: starts at the real time, moves only when told. */
export function testClock(start = new Date()) {
  let t = start.getTime();
  return {
    now: () => new Date(t),
    advance(seconds: number) {
      t += seconds * 1000;
    },
  };
}

export interface TestApp {
  app: FastifyInstance;
  c: Container;
  clock: ReturnType<typeof testClock>;
  request(opts: InjectOptions & { token?: string }): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/** Builds the real app on a fresh real database (PGlite, or PostgreSQL with TEST_DATABASE_URL). */
export async function createTestApp(env: Record<string, string | undefined> = {}): Promise<TestApp> {
  const [first] = await createTestCluster(1, env);
  return first!;
}

/**
 * Several app instances on ONE database (and, with `REDIS_URL` in env, one Redis under a prefix of
 * this cluster's own), as behind a load balancer. Each has its own container: its own caches, limiter
 * objects and connections. Closing any instance closes its own; the last one drops the database.
 */
export async function createTestCluster(
  size: number,
  env: Record<string, string | undefined> = {},
): Promise<TestApp[]> {
  const { database, drop } = await freshDatabase();
  const clock = testClock();
  const config = testConfig(env);
  const redisPrefix = `pss-test:${randomBytes(6).toString('hex')}:`;
  let open = size;
  const instances: TestApp[] = [];
  for (let i = 0; i < size; i += 1) {
    const c = await createContainer(config, { database, clock, migrate: false, redisPrefix });
    const app = await buildApp(c);
    await app.ready();
    instances.push({
      app,
      c,
      clock,
      request: ({ token, headers, ...opts }) =>
        app.inject({
          ...opts,
          headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
        }),
      close: async () => {
        await app.close();
        open -= 1;
        if (open === 0) await drop();
      },
    });
  }
  return instances;
}

let seq = 0;
export const uniqueEmail = (tag = 'user') => `${tag}.${Date.now().toString(36)}${(seq += 1)}@capaciti.org.za`;

export interface TestUser {
  id: number;
  email: string;
  password: string;
  role: Role;
  access: string;
  refresh: string;
}

/** Registers a candidate through the API. */
export async function registerCandidate(t: TestApp, body: Record<string, unknown> = {}): Promise<TestUser> {
  const email = (body.email as string | undefined) ?? uniqueEmail('cand');
  const password = (body.password as string | undefined) ?? STRONG_PASSWORD;
  const res = await t.request({
    method: 'POST',
    url: '/api/auth/register/',
    payload: { email, password, first_name: 'Test', last_name: 'Candidate', ...body },
  });
  if (res.statusCode !== 201) throw new Error(`register failed: ${res.statusCode} ${res.body}`);
  const json = res.json<{ user: { id: number }; access: string; refresh: string }>();
  return { id: json.user.id, email, password, role: 'candidate', access: json.access, refresh: json.refresh };
}

/**
 * Creates a user of any role directly and opens a session for it. Staff accounts must pass 2FA
 * to log in through the API; tests of other features start from an open session instead.
 */
export async function createUserWithSession(
  t: TestApp,
  role: Role,
  email = uniqueEmail(role),
): Promise<TestUser> {
  const { c } = t;
  const meta = { ip: '127.0.0.1', userAgent: 'vitest', requestId: 'test' };
  const { user, tokens } = await c.db.transaction(async (tx) => {
    const user = await c.auth.createAccount(tx, {
      email,
      password: STRONG_PASSWORD,
      firstName: role,
      lastName: 'Tester',
      role,
    });
    const opened = await c.sessions.open(tx, user.id, meta);
    return { user, tokens: opened.tokens };
  });
  return { id: user.id, email, password: STRONG_PASSWORD, role, ...tokens };
}

/** A new session (token pair) for an existing user, without going through login. */
export async function openSession(t: TestApp, userId: number): Promise<{ access: string; refresh: string }> {
  const meta = { ip: '127.0.0.1', userAgent: 'vitest', requestId: 'test' };
  return t.c.db.transaction(async (tx) => (await t.c.sessions.open(tx, userId, meta)).tokens);
}

import type { Redis } from 'ioredis';
import pino, { type Logger } from 'pino';
import { createCaches } from './caches.js';
import { createIdPool } from './db/ids.js';
import type { Config } from './config.js';
import { databaseOptions, openDatabase, type Database } from './db/client.js';
import { runMigrations } from './db/migrate.js';
import { createFieldCipher } from './lib/crypto/field-cipher.js';
import { deploymentId } from './db/deployment.js';
import {
  createDependencyMonitor,
  type DependencyMonitor,
  type OutageEvents,
} from './lib/dependency-monitor.js';
import {
  createMemoryStore,
  createRedisClient,
  createRedisStore,
  redisReady,
  type KeyValueStore,
} from './lib/kv.js';
import { noErrorReporting, type ErrorReporter } from './lib/error-reporting.js';
import { loggableError } from './lib/loggable-error.js';
import { createPasswordHasher } from './lib/password-hasher.js';
import { createArgon2Threads } from './lib/password/argon2-threads.js';
import { createHashGate } from './lib/password/gate.js';
import { createTimestampFormatter } from './lib/time.js';
import { createMetrics, type Metrics } from './plugins/metrics.js';
import { createLimiterFactory } from './lib/limiter.js';
import { createCaptcha, createLockout, createPendingTwoFactor } from './modules/auth/index.js';
import {
  createJobRunner,
  createSlotLease,
  type JobHandler,
  type ScheduledJob,
} from './modules/jobs/index.js';
import { createMailer, MAIL_JOB } from './modules/mail/index.js';
import {
  createSessionRepo,
  createSessionService,
  createSessionStateCache,
  createTokenService,
} from './modules/sessions/index.js';
import { createDataKeyStore } from './modules/keys/index.js';
import { createAccountCreator, createUserReader } from './modules/users/index.js';

export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

export interface ContainerOptions {
  /** Replace the clock (tests). */
  clock?: Clock;
  /** Use this database instead of opening one from the config (tests share one per file). */
  database?: Database;
  /** Apply migrations on open (default true). */
  migrate?: boolean;
  /** Where services log (e-mail failures, lock-outs); silent when omitted. */
  logger?: Logger;
  /** CAPTCHA provider calls go through this (tests point it at a fake verifier). */
  fetch?: typeof fetch;
  /**
   * At start, wait this long for an unreachable database instead of failing at once (a service and
   * its database often start together). Default 0.
   */
  waitForDatabaseMs?: number;
  /** Replaces REDIS_KEY_PREFIX (lets test runs share one Redis without meeting). */
  redisPrefix?: string;
  /**
   * With JOB_RUNNER=worker: `worker` runs the queue's jobs in this process (npm run worker);
   * default `producer` (web, CLI): only hands work to the queue.
   */
  jobRole?: 'worker' | 'producer';
  /** Where failures of background jobs are reported (Sentry when configured). */
  errorReporter?: ErrorReporter;
}

/**
 * Everything services are built from: database, shared store, outage monitors, cipher and data keys,
 * hasher, tokens and session state, mail, limiters, clock and logger (part of the composition root).
 */
export async function createInfrastructure(config: Config, opts: ContainerOptions) {
  const clock = opts.clock ?? systemClock;
  const now = () => clock.now();
  const logger = opts.logger ?? pino({ level: 'silent' });
  // Metrics need the pool, the pool's error handler needs the outage events: filled in below.
  const late: { metrics?: Metrics } = {};
  // Outages are logged and counted once each, when they start and when they end (docs/operations.md#dependency-outages).
  const outageEvents: OutageEvents = {
    onDown: (name) => {
      late.metrics?.dependency(name, false);
      logger.error(
        { dependency: name },
        `${name} unreachable: requests that need it answer 503 until it returns`,
      );
    },
    onUp: (name, downForMs) => {
      late.metrics?.dependency(name, true);
      logger.warn({ dependency: name, down_ms: downForMs }, `${name} reachable again`);
    },
  };
  let database: Database | undefined = opts.database;
  const databaseMonitor = createDependencyMonitor({
    name: 'database',
    probe: () => (database ? database.ping() : Promise.reject(new Error('not open'))),
    events: outageEvents,
  });
  database ??= await openDatabase({
    ...databaseOptions(config),
    onConnectionError: (err) => {
      logger.warn({ err: loggableError(err) }, 'a database connection failed');
      databaseMonitor.suspect();
    },
  });
  await waitForDatabase(database, opts.waitForDatabaseMs ?? 0, logger);
  if (opts.migrate !== false) {
    // Past a transaction pooler when DIRECT_DATABASE_URL says so (docs/operations.md#connection-pooling).
    if (!opts.database && config.directDatabaseUrl !== config.databaseUrl) await migrateDirect(config);
    else await runMigrations(database);
  }
  const opened = database;
  const { db } = opened;
  const metrics = createMetrics({
    pool: opened.pool,
    statements: () => opened.statementCount(),
    hashing: () => hashGate.state(),
  });
  late.metrics = metrics;
  metrics.dependency('database', true);
  const namespace = `${opts.redisPrefix ?? config.redisKeyPrefix}${await deploymentId(db)}:`;

  let redis: Redis | undefined;
  let redisMonitor: DependencyMonitor | undefined;
  let kv: KeyValueStore;
  if (config.redisUrl) {
    const client = createRedisClient(config.redisUrl);
    redis = client;
    const monitor = createDependencyMonitor({
      name: 'redis',
      probe: async () => {
        await client.ping();
      },
      events: {
        ...outageEvents,
        onDown: (name) => {
          outageEvents.onDown(name);
          // A Redis that hangs keeps the connection "ready" while every command waits for its timeout:
          // dropping it makes every user of the client (limiters included) fall back at once, and
          // ioredis reconnects by itself when Redis answers again.
          client.disconnect(true);
        },
      },
    });
    redisMonitor = monitor;
    kv = createRedisStore(client, {
      prefix: namespace,
      onFailure: () => {
        monitor.suspect();
      },
      isDown: () => monitor.isDown(),
    });
    if (await redisReady(client)) metrics.dependency('redis', true);
    else monitor.suspect();
  } else {
    kv = createMemoryStore(() => now().getTime());
  }

  const cipher = createFieldCipher({
    keys: config.encryption.keys,
    activeKeyId: config.encryption.activeKeyId,
    blindIndexKey: config.encryption.blindIndexKey,
  });
  const fmt = createTimestampFormatter(config.timeZone);
  const dataKeys = createDataKeyStore(cipher, kv, () => now().getTime());
  // One gate per process for every password hash (docs/operations.md#password-hashing).
  const hashGate = createHashGate(config.passwordHashing, {
    onRefused: metrics.hashRefused,
    onSaturated: () => {
      logger.warn(
        config.passwordHashing,
        'password hashing at capacity: sign-ins beyond the queue are answered 503 until it catches up',
      );
    },
    onIdle: (refused) => {
      logger.warn({ refused }, 'password hashing caught up');
    },
  });
  const hashThreads = createArgon2Threads(config.passwordHashing.concurrency);
  const hasher = createPasswordHasher(hashGate, hashThreads);
  const tokens = createTokenService(config.jwt, now);
  const sessionState = createSessionStateCache({ db, kv });
  const sessions = createSessionService({ db, config: config.jwt, tokens, sessionState, now });
  // Failures of the shared store are signalled by the store itself (outage monitor, metrics).
  const caches = createCaches({ kv, now: () => now().getTime() });
  const users = createUserReader({ cipher, dataKeys, fmt, cache: caches.users });
  const createAccount = createAccountCreator({ hasher, cipher, dataKeys, now });
  const mailer = createMailer(config, logger, metrics.email);
  // Filled by the composition root once services exist (container.ts), before any job runs.
  const jobHandlers: Record<string, JobHandler> = { [MAIL_JOB]: (data) => mailer.deliver(data) };
  const scheduledJobs: ScheduledJob[] = [];
  const jobs = createJobRunner({
    db,
    cipher,
    blindIndexKey: config.encryption.blindIndexKey,
    handlers: jobHandlers,
    scheduled: scheduledJobs,
    timeZone: config.timeZone,
    logger,
    onOutcome: metrics.job,
    claim: (key, ttlSeconds) => kv.setIfAbsent(key, String(process.pid), ttlSeconds),
    lease: createSlotLease(kv, {
      onLost: (key) => {
        logger.warn(
          { lease: key },
          'a scheduled job lost its slot lease while running (the shared store was unreachable)',
        );
      },
    }),
    attempts: config.email.maxRetries + 1,
    backoffMs: config.email.retryDelaySeconds * 1000,
    queue:
      config.jobs.runner === 'worker' && config.redisUrl
        ? {
            redisUrl: config.redisUrl,
            prefix: `${namespace}bull`,
            role: opts.jobRole ?? 'producer',
            concurrency: config.jobs.concurrency,
            lockMs: config.jobs.lockMs,
          }
        : undefined,
  });
  mailer.useQueue(
    (job, data, tx) => jobs.enqueue(job, data, tx),
    () => {
      jobs.kick();
    },
  );
  metrics.queueDepth(() => jobs.depth());
  const makeLimiter = createLimiterFactory({ redis, pool: database.pool, prefix: namespace });
  const lockout = createLockout(config, makeLimiter, {
    onLocked: (kind, target) => {
      metrics.lockouts.inc();
      logger.warn({ kind }, 'sign-in locked after repeated failures');
      mailer.notifyAdmin('lockout_alert', {
        kind,
        target,
        minutes: Math.round(config.lockout.duration / 60),
      });
    },
  });
  const captcha = createCaptcha(config.captcha, lockout, opts.fetch);
  const pending2fa = createPendingTwoFactor(kv);
  return {
    config,
    clock,
    now,
    database,
    db,
    redis,
    kv,
    /** Reachability of the database and Redis (gate, readiness, error handler). */
    monitors: { database: databaseMonitor, redis: redisMonitor },
    cipher,
    fmt,
    dataKeys,
    hasher,
    /** The password-hashing gate (tests and metrics look at its state). */
    hashGate,
    tokens,
    sessionState,
    sessions,
    users,
    caches,
    journalIds: createIdPool(db, 'journal_entries'),
    /** After a commit, before the answer: what changed (docs/operations.md#caches). */
    changed: caches.changed,
    createAccount,
    metrics,
    mailer,
    /** Background jobs: enqueue (outbox), run, list failures (docs/operations.md#background-jobs). */
    jobs,
    jobHandlers,
    scheduledJobs,
    errorReporter: opts.errorReporter ?? noErrorReporting,
    lockout,
    makeLimiter,
    captcha,
    pending2fa,
    logger,
    touchSession: (sessionId: number, at: Date) => createSessionRepo(db).touch(sessionId, at),
    async close(graceMs = config.shutdownGraceMs) {
      await jobs.stop(graceMs);
      databaseMonitor.close();
      redisMonitor?.close();
      mailer.close();
      await kv.close();
      await hashThreads.close();
      if (!opts.database) await database.close();
    },
  };
}
export type Infrastructure = Awaited<ReturnType<typeof createInfrastructure>>;

/** Applies pending migrations on a connection of their own to DIRECT_DATABASE_URL. */
async function migrateDirect(config: Config): Promise<void> {
  const direct = await openDatabase(databaseOptions(config, 1, { direct: true }));
  try {
    await runMigrations(direct);
  } finally {
    await direct.close();
  }
}

async function waitForDatabase(database: Database, waitMs: number, logger: Logger): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (let attempt = 0; ; attempt += 1) {
    try {
      await database.ping();
      if (attempt > 0) logger.info('database reachable: starting');
      return;
    } catch (err) {
      if (Date.now() >= deadline) throw err;
      if (attempt === 0)
        logger.warn({ err: loggableError(err) }, 'database unreachable: waiting for it to start');
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

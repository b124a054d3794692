import type { Redis } from 'ioredis';
import pino, { type Logger } from 'pino';
import type { Config } from './config.js';
import { databaseOptions, openDatabase, type Database } from './db/client.js';
import { runMigrations } from './db/migrate.js';
import { createFieldCipher } from './lib/crypto/field-cipher.js';
import { createMemoryStore, createRedisClient, createRedisStore, type KeyValueStore } from './lib/kv.js';
import { createPasswordHasher } from './lib/password-hasher.js';
import { createTimestampFormatter } from './lib/time.js';
import { createMetrics } from './plugins/metrics.js';
import { createLimiterFactory } from './lib/limiter.js';
import { createCaptcha } from './modules/auth/captcha.js';
import { createLockout } from './modules/auth/lockout.js';
import { createLoginCompletion } from './modules/auth/login-completion.js';
import { createPendingTwoFactor } from './modules/auth/pending-2fa.js';
import { createAuthService } from './modules/auth/service.js';
import { createPasswordService } from './modules/auth/password-service.js';
import { createSessionsService } from './modules/auth/sessions-service.js';
import { createTwoFactorService } from './modules/auth/two-factor.js';
import { createMailer } from './modules/mail/mailer.js';
import { createSessionRepo } from './modules/auth/session-repo.js';
import { createSessionService } from './modules/auth/session-service.js';
import { createSessionStateCache } from './modules/auth/session-state.js';
import { createTokenService } from './modules/auth/tokens.js';
import { createDataKeyStore } from './modules/keys/data-keys.js';
import { createUserReader } from './modules/users/reader.js';

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
  /** Prefix of every Redis key (lets test runs share one Redis without meeting). */
  redisPrefix?: string;
}

/** The one place that wires infrastructure and services together. */
export async function createContainer(config: Config, opts: ContainerOptions = {}) {
  const clock = opts.clock ?? systemClock;
  const now = () => clock.now();
  const database = opts.database ?? (await openDatabase(databaseOptions(config)));
  if (opts.migrate !== false) await runMigrations(database);
  const { db } = database;
  const metrics = createMetrics({ pool: database.pool });

  let redis: Redis | undefined;
  let kv: KeyValueStore;
  if (config.redisUrl) {
    redis = createRedisClient(config.redisUrl);
    kv = createRedisStore(redis, opts.redisPrefix);
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
  const hasher = createPasswordHasher();
  const tokens = createTokenService(config.jwt, now);
  const sessionState = createSessionStateCache({ db, kv });
  const sessions = createSessionService({ db, config: config.jwt, tokens, sessionState, now });
  const users = createUserReader({ cipher, dataKeys, fmt });
  const logger = opts.logger ?? pino({ level: 'silent' });
  const mailer = createMailer(config, logger, metrics.email);
  const makeLimiter = createLimiterFactory({ redis, pool: database.pool, prefix: opts.redisPrefix });
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
  const completeLogin = createLoginCompletion({ db, sessions, users, lockout, mailer, fmt, now });
  const auth = createAuthService({
    db,
    config,
    hasher,
    sessions,
    tokens,
    dataKeys,
    users,
    lockout,
    captcha,
    pending2fa,
    completeLogin,
    mailer,
    now,
    onLoginOutcome: metrics.login,
  });
  const twoFactor = createTwoFactorService({
    db,
    kv,
    cipher,
    dataKeys,
    hasher,
    lockout,
    pending2fa,
    completeLogin,
    mailer,
    allowedEmailDomains: config.allowedEmailDomains,
    now,
  });
  const passwords = createPasswordService({
    db,
    config,
    hasher,
    sessions,
    lockout,
    captcha,
    mailer,
    makeLimiter,
    fmt,
    now,
  });
  const sessionAdmin = createSessionsService({ db, sessions, fmt, now });

  return {
    config,
    clock,
    now,
    database,
    db,
    redis,
    kv,
    cipher,
    fmt,
    dataKeys,
    hasher,
    tokens,
    sessionState,
    sessions,
    users,
    auth,
    metrics,
    twoFactor,
    passwords,
    sessionAdmin,
    mailer,
    lockout,
    makeLimiter,
    logger,
    touchSession: (sessionId: number, at: Date) => createSessionRepo(db).touch(sessionId, at),
    async close() {
      await mailer.idle();
      mailer.close();
      await kv.close();
      if (!opts.database) await database.close();
    },
  };
}
export type Container = Awaited<ReturnType<typeof createContainer>>;

import type { Redis } from 'ioredis';
import type pg from 'pg';
import {
  RateLimiterMemory,
  RateLimiterPostgres,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';

/**
 * Counters shared by every instance (docs/operations.md#run-modes): Redis when configured, else the PostgreSQL
 * table `rate_limits`; per-process memory only for the embedded single-instance database.
 */
export interface LimiterOptions {
  /** Counter family, part of every key. */
  name: string;
  points: number;
  durationSeconds: number;
  /** Once exhausted, refuse for this long (lock-outs). */
  blockSeconds?: number;
  /**
   * Counters that must survive a Redis outage or restart (lock-outs): kept in PostgreSQL whenever it is
   * the database, even with Redis configured. A lock must not be forgotten when Redis goes down or comes
   * back (two stores would each hand out a fresh budget of guesses); the few writes of sign-ins can go
   * to PostgreSQL.
   */
  durable?: boolean;
}

export type LimiterFactory = (opts: LimiterOptions) => RateLimiterAbstract;

export function createLimiterFactory(store: {
  redis?: Redis | undefined;
  pool?: pg.Pool | undefined;
  /** Key prefix of every counter (the deployment's namespace, as the kv store's). */
  prefix?: string;
}): LimiterFactory {
  return ({ name, points, durationSeconds, blockSeconds, durable }) => {
    const common = {
      keyPrefix: `${store.prefix ?? 'pss:'}rl:${name}`,
      points,
      duration: durationSeconds,
      blockDuration: blockSeconds ?? 0,
    };
    const postgres = () =>
      store.pool
        ? new RateLimiterPostgres({
            ...common,
            storeClient: store.pool,
            storeType: 'pool',
            tableName: 'rate_limits',
            tableCreated: true,
            clearExpiredByTimeout: false,
          })
        : null;
    if (store.redis && !(durable && store.pool)) {
      // While Redis is down the counters go on in PostgreSQL (docs/operations.md#dependency-outages), or in memory
      // with the embedded database; a limit never silently stops counting.
      return new RateLimiterRedis({
        ...common,
        storeClient: store.redis,
        rejectIfRedisNotReady: true,
        insuranceLimiter: postgres() ?? new RateLimiterMemory(common),
      });
    }
    return postgres() ?? new RateLimiterMemory(common);
  };
}

/** A refusal from rate-limiter-flexible carries how long to wait; anything else is a store failure. */
export function refusal(err: unknown): RateLimiterRes | null {
  return err instanceof RateLimiterRes ? err : null;
}

/** Whole seconds until the counter frees up (never 0 for a refusal). */
export const retryAfterSeconds = (res: RateLimiterRes) => Math.max(1, Math.ceil(res.msBeforeNext / 1000));

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
 * Counters shared by every instance (spec README §6): Redis when configured, else the PostgreSQL
 * table `rate_limits`; per-process memory only for the embedded single-instance database.
 */
export interface LimiterOptions {
  /** Counter family, part of every key. */
  name: string;
  points: number;
  durationSeconds: number;
  /** Once exhausted, refuse for this long (lock-outs). */
  blockSeconds?: number;
}

export type LimiterFactory = (opts: LimiterOptions) => RateLimiterAbstract;

export function createLimiterFactory(store: {
  redis?: Redis | undefined;
  pool?: pg.Pool | undefined;
  /** Key prefix (Redis), as the kv store's. */
  prefix?: string | undefined;
}): LimiterFactory {
  return ({ name, points, durationSeconds, blockSeconds }) => {
    const common = {
      keyPrefix: `${store.prefix ?? 'pss:'}rl:${name}`,
      points,
      duration: durationSeconds,
      blockDuration: blockSeconds ?? 0,
    };
    if (store.redis) return new RateLimiterRedis({ ...common, storeClient: store.redis });
    if (store.pool) {
      return new RateLimiterPostgres({
        ...common,
        storeClient: store.pool,
        storeType: 'pool',
        tableName: 'rate_limits',
        tableCreated: true,
        clearExpiredByTimeout: false,
      });
    }
    return new RateLimiterMemory(common);
  };
}

/** A refusal from rate-limiter-flexible carries how long to wait; anything else is a store failure. */
export function refusal(err: unknown): RateLimiterRes | null {
  return err instanceof RateLimiterRes ? err : null;
}

/** Whole seconds until the counter frees up (never 0 for a refusal). */
export const retryAfterSeconds = (res: RateLimiterRes) => Math.max(1, Math.ceil(res.msBeforeNext / 1000));

import { Redis } from 'ioredis';
import { DependencyUnavailableError } from './unavailable.js';

/**
 * Small shared key-value store for state every instance must see (session state, pending 2FA,
 * setup secrets, used codes). Redis when REDIS_URL is set; an in-process map otherwise, which is
 * only correct for a single instance (docs/operations.md#run-modes).
 */
export interface KeyValueStore {
  readonly kind: 'redis' | 'memory';
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Sets only when absent; true when this call set it (used for one-time markers). */
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  del(...keys: string[]): Promise<void>;
  /** Sets only while the key still holds `expected` (compare-and-set); true when this call set it. */
  replace(key: string, expected: string, value: string, ttlSeconds: number): Promise<boolean>;
  /** Atomically adds 1 and returns the new count; the key expires ttlSeconds after its creation. */
  incr(key: string, ttlSeconds: number): Promise<number>;
  /** Atomically takes a value (get + delete). */
  take(key: string): Promise<string | null>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function createMemoryStore(now: () => number = Date.now): KeyValueStore {
  const map = new Map<string, { value: string; expiresAt: number }>();
  const live = (key: string) => {
    const hit = map.get(key);
    if (!hit) return null;
    if (hit.expiresAt <= now()) {
      map.delete(key);
      return null;
    }
    return hit;
  };
  // Expired entries are dropped lazily on read and by a periodic sweep (unref'd: never keeps the process alive).
  const sweep = setInterval(() => {
    const t = now();
    for (const [k, v] of map) if (v.expiresAt <= t) map.delete(k);
  }, 60_000);
  sweep.unref();
  return {
    kind: 'memory',
    get: async (key) => live(key)?.value ?? null,
    set: async (key, value, ttl) => {
      map.set(key, { value, expiresAt: now() + ttl * 1000 });
    },
    setIfAbsent: async (key, value, ttl) => {
      if (live(key)) return false;
      map.set(key, { value, expiresAt: now() + ttl * 1000 });
      return true;
    },
    del: async (...keys) => {
      for (const k of keys) map.delete(k);
    },
    replace: async (key, expected, value, ttl) => {
      if (live(key)?.value !== expected) return false;
      map.set(key, { value, expiresAt: now() + ttl * 1000 });
      return true;
    },
    incr: async (key, ttl) => {
      const hit = live(key);
      const n = (hit ? Number(hit.value) : 0) + 1;
      map.set(key, { value: String(n), expiresAt: hit?.expiresAt ?? now() + ttl * 1000 });
      return n;
    },
    take: async (key) => {
      const hit = live(key);
      map.delete(key);
      return hit?.value ?? null;
    },
    ping: async () => undefined,
    close: async () => {
      clearInterval(sweep);
      map.clear();
    },
  };
}

export function createRedisClient(url: string): Redis {
  const redis = new Redis(url, {
    // While Redis is down a command fails at once (the caller falls back or answers 503) instead of
    // waiting in a queue; a command on a connection that went silent gives up after a second.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 1000,
    connectTimeout: 2000,
    // Reconnect quickly, so the service uses Redis again within about half a second of its return.
    retryStrategy: (attempt) => Math.min(attempt * 50, 500),
    lazyConnect: false,
  });
  // Connection errors are reported through the outage monitor; an 'error' event nobody hears is noise.
  redis.on('error', () => undefined);
  return redis;
}

/** Resolves once the client is connected, or after `timeoutMs` (a start while Redis is down goes on degraded). */
export function redisReady(redis: Redis, timeoutMs = 5000): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ok);
    };
    const onReady = () => {
      done(true);
    };
    const timer = setTimeout(() => {
      done(false);
    }, timeoutMs);
    redis.once('ready', onReady);
  });
}

/** Compare-and-set in one step on the server: SET only while GET still returns the expected value. */
const REPLACE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0`;

export interface RedisStoreOptions {
  /** Prepended to every key (the deployment's own namespace). */
  prefix: string;
  /** Told when a command fails: Redis may be down. */
  onFailure?: () => void;
  /** True while Redis is known to be down: commands fail at once instead of waiting for a timeout. */
  isDown?: () => boolean;
}

export function createRedisStore(redis: Redis, opts: RedisStoreOptions): KeyValueStore {
  const { prefix } = opts;
  const k = (key: string) => prefix + key;
  // Every failure reaches callers as "Redis unavailable": they fall back to PostgreSQL or answer 503.
  // `always`: try even while Redis is known to be down (a clean-up whose loss would leave wrong state).
  const guard = async <T>(op: () => Promise<T>, always = false): Promise<T> => {
    if (!always && opts.isDown?.()) throw new DependencyUnavailableError('redis', undefined, true);
    try {
      return await op();
    } catch (err) {
      opts.onFailure?.();
      throw new DependencyUnavailableError('redis', err);
    }
  };
  return {
    kind: 'redis',
    get: (key) => guard(() => redis.get(k(key))),
    set: (key, value, ttl) =>
      guard(async () => {
        await redis.set(k(key), value, 'EX', Math.max(1, Math.ceil(ttl)));
      }),
    setIfAbsent: (key, value, ttl) =>
      guard(async () => (await redis.set(k(key), value, 'EX', Math.max(1, Math.ceil(ttl)), 'NX')) === 'OK'),
    del: (...keys) =>
      guard(async () => {
        if (keys.length) await redis.del(...keys.map(k));
      }, true),
    replace: (key, expected, value, ttl) =>
      guard(
        async () =>
          (await redis.eval(REPLACE_SCRIPT, 1, k(key), expected, value, Math.max(1, Math.ceil(ttl)))) === 1,
      ),
    incr: (key, ttl) =>
      guard(async () => {
        const [[, n]] = (await redis
          .multi()
          .incr(k(key))
          .expire(k(key), Math.max(1, Math.ceil(ttl)), 'NX')
          .exec()) as [[Error | null, number], unknown];
        return n;
      }),
    take: (key) => guard(() => redis.getdel(k(key))),
    ping: () =>
      guard(async () => {
        await redis.ping();
      }),
    close: async () => {
      await redis.quit().catch(() => {
        redis.disconnect();
      });
    },
  };
}

import { Redis } from 'ioredis';

/**
 * Small shared key-value store for state every instance must see (session state, pending 2FA,
 * setup secrets, used codes). Redis when REDIS_URL is set; an in-process map otherwise, which is
 * only correct for a single instance (spec README §6).
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
  return new Redis(url, {
    // Fail requests fast while Redis is down instead of queueing them forever.
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    connectTimeout: 5000,
    lazyConnect: false,
  });
}

/** Compare-and-set in one step on the server: SET only while GET still returns the expected value. */
const REPLACE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0`;

export function createRedisStore(redis: Redis, prefix = 'pss:'): KeyValueStore {
  const k = (key: string) => prefix + key;
  return {
    kind: 'redis',
    get: (key) => redis.get(k(key)),
    set: async (key, value, ttl) => {
      await redis.set(k(key), value, 'EX', Math.max(1, Math.ceil(ttl)));
    },
    setIfAbsent: async (key, value, ttl) =>
      (await redis.set(k(key), value, 'EX', Math.max(1, Math.ceil(ttl)), 'NX')) === 'OK',
    del: async (...keys) => {
      if (keys.length) await redis.del(...keys.map(k));
    },
    replace: async (key, expected, value, ttl) =>
      (await redis.eval(REPLACE_SCRIPT, 1, k(key), expected, value, Math.max(1, Math.ceil(ttl)))) === 1,
    incr: async (key, ttl) => {
      const [[, n]] = (await redis
        .multi()
        .incr(k(key))
        .expire(k(key), Math.max(1, Math.ceil(ttl)), 'NX')
        .exec()) as [[Error | null, number], unknown];
      return n;
    },
    take: (key) => redis.getdel(k(key)),
    ping: async () => {
      await redis.ping();
    },
    close: async () => {
      await redis.quit();
    },
  };
}

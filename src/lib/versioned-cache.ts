import { randomBytes } from 'node:crypto';
import type { KeyValueStore } from './kv.js';

/**
 * An in-process cache whose entries are checked against a version kept in the shared store
 * (docs/operations.md#caches). A write changes the version before it answers, so every instance
 * sees the change at its next read: a cached value is never served after the write that changed it
 * has been acknowledged. Values stay in this process (decrypted data never goes to Redis).
 *
 *  - A read fetches the key's version (one shared-store round trip) and serves the entry cached
 *    under that exact version; otherwise it loads and caches under the version it read BEFORE
 *    loading, so a load that raced a write is replaced at the next read.
 *  - Versions are random, never counters: a version key that vanished (Redis restarted, key expired)
 *    gets a new random version, so no entry cached before can match it again. Entries live at most
 *    `ttlMs`, far below the version keys' lifetime.
 *  - When the shared store cannot answer, reads load directly (caches are bypassed) and the local
 *    entries are dropped, so nothing cached before an outage outlives it.
 */
export interface VersionedCache<V> {
  get(key: string, load: () => Promise<V | null>): Promise<V | null>;
  /** After a committed write: new versions for these keys (every instance reloads them). */
  invalidate(keys: readonly string[]): Promise<void>;
  readonly size: number;
}

export interface VersionedCacheOptions {
  kv: KeyValueStore;
  /** Prefix of the version keys in the shared store. */
  name: string;
  ttlMs: number;
  maxEntries: number;
  now?: () => number;
  /** Told when the shared store failed (the caller counts it; nothing is logged per request). */
  onStoreError?: (err: unknown) => void;
}

/** Version keys outlive every cached entry by far (see above). */
const VERSION_TTL_SECONDS = 86_400;

const newVersion = () => randomBytes(9).toString('base64url');

export function createVersionedCache<V>(opts: VersionedCacheOptions): VersionedCache<V> {
  const { kv, name, ttlMs, maxEntries } = opts;
  const now = opts.now ?? Date.now;
  const entries = new Map<string, { version: string; value: V; until: number }>();
  const versionKey = (key: string) => `cv:${name}:${key}`;

  async function currentVersion(key: string): Promise<string | null> {
    const vk = versionKey(key);
    const version = await kv.get(vk);
    if (version !== null) return version;
    const fresh = newVersion();
    return (await kv.setIfAbsent(vk, fresh, VERSION_TTL_SECONDS)) ? fresh : kv.get(vk);
  }

  function storeError(err: unknown): void {
    entries.clear();
    opts.onStoreError?.(err);
  }

  return {
    get size() {
      return entries.size;
    },
    async get(key, load) {
      let version: string | null;
      try {
        version = await currentVersion(key);
      } catch (err) {
        storeError(err);
        return load();
      }
      const hit = entries.get(key);
      if (hit && hit.version === version && hit.until > now()) {
        // Most recently used last: the oldest insertion is evicted first.
        entries.delete(key);
        entries.set(key, hit);
        return hit.value;
      }
      const value = await load();
      if (value === null || version === null) {
        entries.delete(key);
        return value;
      }
      if (entries.size >= maxEntries && !entries.has(key)) {
        const oldest = entries.keys().next();
        if (!oldest.done) entries.delete(oldest.value);
      }
      entries.set(key, { version, value, until: now() + ttlMs });
      return value;
    },
    async invalidate(keys) {
      for (const key of keys) entries.delete(key);
      try {
        await Promise.all(keys.map((key) => kv.set(versionKey(key), newVersion(), VERSION_TTL_SECONDS)));
      } catch (err) {
        storeError(err);
      }
    },
  };
}

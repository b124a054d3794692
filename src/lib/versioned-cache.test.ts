import { describe, expect, it } from 'vitest';
import { createMemoryStore, type KeyValueStore } from './kv.js';
import { createVersionedCache } from './versioned-cache.js';

const setup = (kv: KeyValueStore = createMemoryStore()) => {
  let loads = 0;
  let value = 'v1';
  const cache = createVersionedCache<string>({ kv, name: 't', ttlMs: 60_000, maxEntries: 10 });
  const read = () =>
    cache.get('k', async () => {
      loads += 1;
      return value;
    });
  return {
    kv,
    cache,
    read,
    set: (v: string) => (value = v),
    loads: () => loads,
  };
};

describe('versioned cache', () => {
  it('serves a value once loaded, and reloads after an invalidation', async () => {
    const t = setup();
    expect(await t.read()).toBe('v1');
    expect(await t.read()).toBe('v1');
    expect(t.loads()).toBe(1);
    t.set('v2');
    await t.cache.invalidate(['k']);
    expect(await t.read()).toBe('v2');
    expect(t.loads()).toBe(2);
  });

  it('a load that raced a write is replaced at the next read', async () => {
    const t = setup();
    let release: () => void = () => undefined;
    const slow = t.cache.get('k', async () => {
      await new Promise<void>((r) => (release = r));
      return 'old';
    });
    await new Promise((r) => setTimeout(r, 5));
    t.set('new');
    await t.cache.invalidate(['k']); // the write commits while the load is in flight
    release();
    expect(await slow).toBe('old');
    expect(await t.read()).toBe('new');
  });

  it('a vanished version key (Redis restarted) never matches an entry cached before', async () => {
    const t = setup();
    await t.read();
    t.set('v2');
    await t.kv.del('cv:t:k');
    expect(await t.read()).toBe('v2');
  });

  it('when the store fails, reads load directly and the old entries are dropped', async () => {
    const kv = createMemoryStore();
    const t = setup(kv);
    await t.read();
    const get = kv.get.bind(kv);
    kv.get = () => Promise.reject(new Error('down'));
    t.set('v2');
    expect(await t.read()).toBe('v2');
    expect(t.cache.size).toBe(0);
    kv.get = get;
    t.set('v3');
    expect(await t.read()).toBe('v3');
  });
});

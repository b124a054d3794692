import type { DataChange } from './lib/changes.js';
import type { KeyValueStore } from './lib/kv.js';
import { createVersionedCache } from './lib/versioned-cache.js';
import type { AdminStats, CandidateStatsResult } from './modules/dashboard/index.js';
import type { UserResponse } from './modules/users/index.js';

/**
 * The caches the original planned (docs/operations.md#caches): the user object with its decrypted
 * profile, and the dashboards. In-process values, versions in the shared store; part of the
 * composition root, which also decides which change touches which entry.
 */
export function createCaches(opts: { kv: KeyValueStore; now: () => number }) {
  const common = { kv: opts.kv, now: opts.now };
  const users = createVersionedCache<UserResponse>({
    ...common,
    name: 'user',
    ttlMs: 60_000,
    maxEntries: 20_000,
  });
  const adminStats = createVersionedCache<AdminStats>({
    ...common,
    name: 'dash',
    // The week is rolling (now − 7 days): a cached answer may lag the clock by this much, never a write.
    ttlMs: 30_000,
    maxEntries: 1,
  });
  const candidateStats = createVersionedCache<CandidateStatsResult>({
    ...common,
    name: 'cstats',
    ttlMs: 30_000,
    maxEntries: 20_000,
  });

  /** Every committed change invalidates what shows it, on every instance, before the write answers. */
  async function changed(changes: readonly DataChange[]): Promise<void> {
    const userKeys = new Set<string>();
    const candidateKeys = new Set<string>();
    for (const change of changes) {
      if (change.kind === 'account' || change.kind === 'intake') userKeys.add(String(change.userId));
      candidateKeys.add(String(change.userId));
    }
    await Promise.all([
      users.invalidate([...userKeys]),
      candidateStats.invalidate([...candidateKeys]),
      adminStats.invalidate(['admin']),
    ]);
  }

  return { users, adminStats, candidateStats, changed };
}
export type Caches = ReturnType<typeof createCaches>;

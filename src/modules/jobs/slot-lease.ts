import { randomUUID } from 'node:crypto';

/**
 * One run per slot of a clock job, cluster-wide (docs/operations.md#background-jobs). Two runs for the
 * same slot can otherwise meet: a catch-up queued at start beside the scheduler's own overdue job, or
 * instances running in-process side by side. The run holds a lease on `job:<name>:<slot>` in the shared
 * store, renewed while it runs and given up when it ends; a second run for that slot waits for the
 * first and then finds the slot done (skipped), or takes over when the first failed or its process died
 * (the lease runs out `leaseSeconds`, 30 by default, after its last renewal).
 */
export interface LeaseStore {
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  replace(key: string, expected: string, value: string, ttlSeconds: number): Promise<boolean>;
}

export interface SlotLeaseOptions {
  /** Called when a renewal finds the lease taken (it ran out while the store was unreachable). */
  onLost?: (key: string) => void;
  /** How long a lease lasts after its last renewal (renewed every third of it). */
  leaseSeconds?: number;
  pollMs?: number;
  /** A run waiting for another run of its slot gives up after this (the queue retries it later). */
  maxWaitMs?: number;
}

export interface SlotLease {
  /**
   * Runs `run` holding the slot's lease. When another run holds it, waits until `done()` says the slot
   * is done (then `skipped`) or the lease is free (then takes it). Throws after waiting too long.
   */
  hold<T>(
    key: string,
    done: () => Promise<boolean>,
    run: () => Promise<T>,
  ): Promise<{ skipped: true } | { result: T }>;
}

export function createSlotLease(store: LeaseStore, opts: SlotLeaseOptions = {}): SlotLease {
  const { onLost = () => undefined, leaseSeconds = 30, pollMs = 1000, maxWaitMs = 15 * 60_000 } = opts;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  return {
    async hold(key, done, run) {
      const token = randomUUID();
      const deadline = Date.now() + maxWaitMs;
      while (!(await store.setIfAbsent(key, token, leaseSeconds))) {
        if (await done()) return { skipped: true };
        if (Date.now() > deadline) throw new Error(`another run of ${key} has held it for too long`);
        await sleep(pollMs);
      }
      // Taken after another run finished: it may have completed the slot just before.
      if (await done()) {
        await store.replace(key, token, '', 1);
        return { skipped: true };
      }
      const renewal = setInterval(
        () => {
          store.replace(key, token, token, leaseSeconds).then(
            (still) => {
              if (!still) onLost(key);
            },
            () => undefined,
          );
        },
        (leaseSeconds * 1000) / 3,
      );
      renewal.unref();
      try {
        return { result: await run() };
      } finally {
        clearInterval(renewal);
        // Given up at once (1 s), so a waiting run or a retry goes ahead; failures to release just wait out the lease.
        await store.replace(key, token, '', 1).catch(() => undefined);
      }
    },
  };
}

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStore, createRedisClient, createRedisStore, type KeyValueStore } from '../src/lib/kv.js';
import { createOutboxRepo } from '../src/modules/jobs/outbox-repo.js';
import { runScheduled, slotAtOrBefore, type ScheduledRunDeps } from '../src/modules/jobs/schedule.js';
import { createSlotLease } from '../src/modules/jobs/slot-lease.js';
import type { ScheduledJob } from '../src/modules/jobs/types.js';
import { createTestApp, type TestApp } from './helpers/app.js';

/**
 * One run per slot of a clock job, cluster-wide (docs/operations.md#background-jobs): runs of the same
 * slot from different queue jobs or processes (a catch-up beside the scheduler's overdue job, two
 * instances in-process) meet at a lease in the shared store. Each case runs on the in-process store and,
 * with TEST_REDIS_URL, with two processes' stores on one Redis.
 */
let t: TestApp;
const redis = process.env.TEST_REDIS_URL ? createRedisClient(process.env.TEST_REDIS_URL) : undefined;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
  await redis?.quit();
});

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A daily job that counts its runs; `run` may be replaced per case. */
function countingJob(behaviour: (n: number) => Promise<void> = () => sleep(300)) {
  let runs = 0;
  const job: ScheduledJob = {
    name: `test.lease-${randomBytes(4).toString('hex')}`,
    schedule: { cron: '0 2 * * *' },
    run: async () => {
      runs += 1;
      await behaviour(runs);
      return { n: runs };
    },
  };
  return { job, runs: () => runs };
}

const stores: [string, () => [KeyValueStore, KeyValueStore]][] = [
  [
    'one process',
    () => {
      const one = createMemoryStore();
      return [one, one];
    },
  ],
];
if (redis) {
  const prefix = `pss-test:${randomBytes(6).toString('hex')}:`;
  stores.push([
    'two processes on one Redis',
    () => [createRedisStore(redis, { prefix }), createRedisStore(redis, { prefix })],
  ]);
}

describe.each(stores)('slot leases (%s)', (_name, makeStores) => {
  const deps = (store: KeyValueStore, outcomes: string[], leaseSeconds = 2): ScheduledRunDeps => ({
    repo: () => createOutboxRepo(t.c.db),
    timeZone: t.c.config.timeZone,
    logger: silent,
    onOutcome: (_job, outcome) => outcomes.push(outcome),
    lease: createSlotLease(store, { pollMs: 20, leaseSeconds }),
  });

  it('two runs of one slot at once: the job runs once, the other finds the slot done', async () => {
    const [a, b] = makeStores();
    const { job, runs } = countingJob();
    const outcomes: string[] = [];
    const [first, second] = await Promise.all([
      runScheduled(job, deps(a, outcomes)),
      runScheduled(job, deps(b, outcomes)),
    ]);
    expect(runs()).toBe(1);
    expect(outcomes.sort()).toEqual(['skipped', 'success']);
    expect([first, second]).toContainEqual({ skipped: 'slot done by another run' });
    const last = await createOutboxRepo(t.c.db).lastSlot(job.name);
    expect(last?.getTime()).toBe(slotAtOrBefore('0 2 * * *', t.c.config.timeZone, new Date()).getTime());
  });

  it('a run that fails gives the slot up at once: the waiting run does it', async () => {
    const [a, b] = makeStores();
    const { job, runs } = countingJob(async (n) => {
      await sleep(200);
      if (n === 1) throw new Error('mail server down');
    });
    const outcomes: string[] = [];
    const started = Date.now();
    const results = await Promise.allSettled([
      runScheduled(job, deps(a, outcomes, 6)),
      sleep(50).then(() => runScheduled(job, deps(b, outcomes, 6))),
    ]);
    expect(runs()).toBe(2);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
    expect(outcomes).toEqual(['failure', 'success']);
    // Taken when given up (within a second), not when the 6 s lease would have run out.
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('a run whose process died holds the slot only until its lease runs out; then another run does it', async () => {
    const [a, b] = makeStores();
    const { job, runs } = countingJob(() => Promise.resolve());
    const slot = slotAtOrBefore('0 2 * * *', t.c.config.timeZone, new Date());
    // The dead run's lease, never renewed again.
    expect(await a.setIfAbsent(`job:${job.name}:${String(slot.getTime())}`, 'dead-process', 1)).toBe(true);
    const outcomes: string[] = [];
    const started = Date.now();
    await runScheduled(job, deps(b, outcomes));
    expect(runs()).toBe(1);
    expect(outcomes).toEqual(['success']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
  });

  it('a long run keeps its lease by renewing it', async () => {
    const [a, b] = makeStores();
    // Longer than the 2 s lease: without renewal the second run would take the slot mid-way.
    const { job, runs } = countingJob(() => sleep(3000));
    const outcomes: string[] = [];
    await Promise.all([
      runScheduled(job, deps(a, outcomes)),
      sleep(100).then(() => runScheduled(job, deps(b, outcomes))),
    ]);
    expect(runs()).toBe(1);
    expect(outcomes).toEqual(['success', 'skipped']);
  });
});

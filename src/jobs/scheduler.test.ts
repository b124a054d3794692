import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../lib/kv.js';
import { createScheduler } from './scheduler.js';

const silent = { info: () => undefined, error: () => undefined };

describe('scheduler', () => {
  it('runs a job on one instance per interval when several share the store', async () => {
    let now = 0;
    const kv = createMemoryStore(() => now);
    let runs = 0;
    const job = { name: 'count', everyMs: 60_000, run: async () => ({ runs: (runs += 1) }) };
    const a = createScheduler(kv, [job], silent);
    const b = createScheduler(kv, [job], silent);
    expect(await a.runOnce(job)).toBe('ran');
    expect(await b.runOnce(job)).toBe('skipped');
    expect(runs).toBe(1);
    now += 60_000;
    expect(await b.runOnce(job)).toBe('ran');
    expect(runs).toBe(2);
  });

  it('a failing job is logged and does not stop the scheduler', async () => {
    const errors: string[] = [];
    const kv = createMemoryStore();
    const job = { name: 'boom', everyMs: 1000, run: () => Promise.reject(new Error('broken')) };
    const s = createScheduler(kv, [job], { info: () => undefined, error: (_o, msg) => errors.push(msg) });
    expect(await s.runOnce(job)).toBe('ran');
    expect(errors).toEqual(['job failed']);
  });
});

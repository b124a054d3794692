import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createArgon2Threads } from './argon2-threads.js';

const OPTIONS = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 };

/** Niceness of each thread of this process (Linux). */
function niceThreads(): number[] {
  return readdirSync('/proc/self/task').flatMap((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const nice = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    return nice > 0 ? [nice] : [];
  });
}

describe('argon2 on low-priority threads', () => {
  it('hashes and verifies, on threads running at the lowest priority', async () => {
    const before = niceThreads().length;
    const threads = createArgon2Threads(2);
    try {
      const [a, b] = await Promise.all([
        threads.hash('correct horse', OPTIONS),
        threads.hash('battery', OPTIONS),
      ]);
      expect(a).toMatch(/^\$argon2id\$/);
      expect(await threads.verify(a, 'correct horse')).toBe(true);
      expect(await threads.verify(b, 'correct horse')).toBe(false);
      if (process.platform === 'linux') {
        const now = niceThreads();
        expect(now.length - before).toBe(2);
        expect(now.slice(-2)).toEqual([19, 19]);
      }
    } finally {
      await threads.close();
    }
  });

  it('a malformed stored hash is an error of that job only', async () => {
    const threads = createArgon2Threads(1);
    try {
      await expect(threads.verify('not-a-hash', 'x')).rejects.toThrow();
      expect(await threads.verify(await threads.hash('ok', OPTIONS), 'ok')).toBe(true);
    } finally {
      await threads.close();
    }
  });
});

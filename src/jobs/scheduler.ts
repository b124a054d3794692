import { sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';

/**
 * Runs periodic jobs (spec operations.md §4) so that each run happens on ONE instance of the
 * cluster: a run first takes a PostgreSQL advisory lock named after the job and skips if another
 * instance holds it; a job must itself be idempotent (it selects what is due, then acts).
 */
export interface ScheduledJob {
  name: string;
  /** How often to try, in milliseconds. */
  everyMs: number;
  run: () => Promise<Record<string, number> | undefined>;
}

interface Logger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const lockId = (name: string) => {
  let h = 0;
  for (const ch of name) h = (Math.imul(h, 31) + ch.charCodeAt(0)) | 0;
  return 727_100_000 + (Math.abs(h) % 100_000);
};

export function createScheduler(database: Database, jobs: ScheduledJob[], logger: Logger) {
  const timers: NodeJS.Timeout[] = [];
  const running = new Set<Promise<void>>();

  async function runOnce(job: ScheduledJob): Promise<'ran' | 'skipped'> {
    return database.db.transaction(async (tx) => {
      const got = await tx.execute(sql`select pg_try_advisory_xact_lock(${lockId(job.name)}) as ok`);
      const ok = (got as { rows: { ok: boolean }[] }).rows[0]?.ok === true;
      if (!ok) return 'skipped' as const;
      const started = Date.now();
      try {
        const result = await job.run();
        logger.info({ job: job.name, ms: Date.now() - started, ...(result ?? {}) }, 'job finished');
      } catch (err) {
        logger.error({ job: job.name, err: (err as Error).message }, 'job failed');
      }
      return 'ran' as const;
    });
  }

  return {
    runOnce,
    start() {
      for (const job of jobs) {
        const timer = setInterval(() => {
          const p = runOnce(job).then(
            () => undefined,
            () => undefined,
          );
          running.add(p);
          void p.finally(() => running.delete(p));
        }, job.everyMs);
        timer.unref();
        timers.push(timer);
      }
    },
    async stop() {
      for (const t of timers) clearInterval(t);
      await Promise.allSettled([...running]);
    },
  };
}
export type Scheduler = ReturnType<typeof createScheduler>;

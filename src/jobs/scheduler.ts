import type { KeyValueStore } from '../lib/kv.js';

/**
 * Runs periodic jobs (docs/operations.md#scheduled-jobs) so that each run happens on ONE instance of the
 * cluster: a run first claims the job's slot for its interval in the shared store (Redis when
 * configured) and skips when another instance has it. No transaction is held while the job runs
 * (the embedded database allows one at a time). Jobs are idempotent: they select what is due.
 */
export interface ScheduledJob {
  name: string;
  /** How often to try, in milliseconds. */
  everyMs: number;
  /** What the run did, logged with its "job finished" line (numbers, or short non-sensitive text). */
  run: () => Promise<Record<string, number | string> | undefined>;
}

interface Logger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export function createScheduler(
  kv: KeyValueStore,
  jobs: ScheduledJob[],
  logger: Logger,
  /** Called once per attempt (metrics `jobs_total`); `skipped`: another instance holds the slot. */
  onOutcome: (job: string, outcome: 'success' | 'failure' | 'skipped') => void = () => undefined,
) {
  const timers: NodeJS.Timeout[] = [];
  const running = new Set<Promise<void>>();

  async function runOnce(job: ScheduledJob): Promise<'ran' | 'skipped'> {
    const slotSeconds = Math.max(1, Math.floor(job.everyMs / 1000) - 1);
    if (!(await kv.setIfAbsent(`job:${job.name}`, String(process.pid), slotSeconds))) {
      onOutcome(job.name, 'skipped');
      return 'skipped';
    }
    const started = Date.now();
    try {
      const result = await job.run();
      logger.info({ job: job.name, ms: Date.now() - started, ...(result ?? {}) }, 'job finished');
      onOutcome(job.name, 'success');
    } catch (err) {
      logger.error({ job: job.name, err: (err as Error).message }, 'job failed');
      onOutcome(job.name, 'failure');
    }
    return 'ran';
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

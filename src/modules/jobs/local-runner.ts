import { unavailableDependency } from '../../lib/unavailable.js';
import { createOutboxRepo } from './outbox-repo.js';
import { addToOutbox, runOutboxRow, type OutboxDeps } from './outbox.js';
import { missedSlots, runScheduled, slotAfter, type ScheduledRunDeps } from './schedule.js';
import type { DbOrTx } from '../../db/client.js';
import type { JobRunner, ScheduledJob } from './types.js';
import { maskedReason } from './types.js';

export interface RunnerOptions {
  outbox: OutboxDeps;
  scheduled: readonly ScheduledJob[];
  scheduling: ScheduledRunDeps;
  /** Attempts of an on-demand job, and the first retry's delay (doubled each time). */
  attempts: number;
  backoffMs: number;
  /** How often waiting work is looked for when nobody kicked. */
  pollMs?: number;
}

const BATCH = 10;
/** A claimed row is due again after this, should the process die while running it. */
const LEASE_SECONDS = 120;
/** A job interrupted by an outage of PostgreSQL or Redis waits this long, without spending an attempt. */
const OUTAGE_WAIT_MS = 5_000;
/** Longest wait a timer can express; a later slot is waited for in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Runs jobs inside this process, for a deployment without Redis (the embedded default): the outbox
 * is the queue (claimed rows, attempts and back-off in the table; a row given up stays as failed),
 * schedules are timers on the clock, and missed slots run at start.
 */
export function createLocalRunner(opts: RunnerOptions): JobRunner {
  const { outbox, scheduling } = opts;
  const repo = () => createOutboxRepo(outbox.db);
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<unknown>>();
  const enqueuing = new Set<Promise<unknown>>();
  let pumping: Promise<void> | undefined;
  let again = false;
  let stopped = false;

  const track = <T>(set: Set<Promise<unknown>>, p: Promise<T>): Promise<T> => {
    set.add(p);
    void p.then(
      () => set.delete(p),
      () => set.delete(p),
    );
    return p;
  };

  async function runRow(id: number, job: string, attemptsBefore: number): Promise<void> {
    try {
      const done = await runOutboxRow(outbox, id);
      scheduling.logger.info({ job, outbox_id: id, ...(done.result ?? {}) }, 'job finished');
      scheduling.onOutcome(job, 'success');
    } catch (err) {
      const reason = maskedReason(err);
      const attempts = attemptsBefore + 1;
      // An outage of PostgreSQL or Redis is not the job's failure: it waits without spending an attempt
      // (if even that cannot be written, the claim's lease makes the row due again).
      const outage = unavailableDependency(err);
      try {
        if (outage) {
          await repo().retryLater(id, OUTAGE_WAIT_MS, reason, false);
          scheduling.logger.warn(
            { job, outbox_id: id, dependency: outage },
            'job interrupted by an outage; it runs again',
          );
          scheduling.onOutcome(job, 'retry');
        } else if (attempts >= opts.attempts) {
          await repo().giveUp(id, reason);
          scheduling.logger.error(
            { job, outbox_id: id, attempts, err: reason },
            'job failed and was given up',
          );
          scheduling.onOutcome(job, 'failure');
        } else {
          await repo().retryLater(id, opts.backoffMs * 2 ** (attempts - 1), reason, true);
          scheduling.logger.warn(
            { job, outbox_id: id, attempts, err: reason },
            'job failed; it will be retried',
          );
          scheduling.onOutcome(job, 'retry');
        }
      } catch {
        scheduling.logger.warn(
          { job, outbox_id: id },
          'job failure could not be recorded; it runs again after its lease',
        );
      }
    }
  }

  async function pumpOnce(): Promise<number> {
    const claimed = await repo().claimDue(BATCH, LEASE_SECONDS);
    await Promise.all(claimed.map((row) => track(running, runRow(row.id, row.job, row.attempts))));
    return claimed.length;
  }

  function pump(): Promise<void> {
    if (pumping) {
      again = true;
      return pumping;
    }
    pumping = (async () => {
      try {
        do {
          again = false;
          while (!stopped && (await pumpOnce()) > 0);
        } while (again && !stopped);
      } catch (err) {
        scheduling.logger.warn({ err: maskedReason(err) }, 'background jobs could not be read; retrying');
      } finally {
        pumping = undefined;
      }
    })();
    return pumping;
  }

  function schedule(job: ScheduledJob): void {
    const runNow = () => {
      if (stopped) return;
      void track(
        running,
        runScheduled(job, scheduling).catch(() => undefined),
      );
    };
    if ('everyMs' in job.schedule) {
      const timer = setInterval(runNow, job.schedule.everyMs);
      timer.unref();
      timers.add(timer);
      return;
    }
    const { cron } = job.schedule;
    const arm = () => {
      const wait = slotAfter(cron, scheduling.timeZone, new Date()).getTime() - Date.now();
      const timer = setTimeout(
        () => {
          timers.delete(timer);
          if (wait <= MAX_TIMER_MS) runNow();
          if (!stopped) arm();
        },
        Math.min(Math.max(wait, 0), MAX_TIMER_MS),
      );
      timer.unref();
      timers.add(timer);
    };
    arm();
  }

  return {
    mode: 'local',
    async enqueue(job: string, data: unknown, tx?: DbOrTx) {
      await track(enqueuing, addToOutbox(outbox, job, data, tx));
      if (!tx) this.kick();
    },
    kick() {
      if (!stopped) void pump();
    },
    async start() {
      const poll = setInterval(() => void pump(), opts.pollMs ?? 1000);
      poll.unref();
      timers.add(poll);
      for (const job of opts.scheduled) schedule(job);
      const missed = await missedSlots(opts.scheduled, scheduling);
      for (const { job } of missed) {
        scheduling.logger.info({ job: job.name }, 'running a scheduled job whose slot was missed');
        void track(
          running,
          runScheduled(job, scheduling).catch(() => undefined),
        );
      }
      void pump();
    },
    async stop(graceMs: number) {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await Promise.race([
        Promise.allSettled([...running, ...enqueuing, pumping]),
        new Promise((resolve) => setTimeout(resolve, graceMs).unref()),
      ]);
    },
    async idle() {
      for (;;) {
        await Promise.allSettled([...enqueuing]);
        await pump();
        await Promise.allSettled([...running]);
        if (enqueuing.size === 0 && running.size === 0 && !pumping) return;
      }
    },
    flush() {
      return this.idle();
    },
    async failed(limit: number) {
      const rows = await repo().failed(limit);
      return rows.map((r) => ({
        id: String(r.id),
        job: r.job,
        attempts: r.attempts,
        reason: r.lastError ?? '',
        failedAt: r.failedAt,
      }));
    },
    async retry(id: string) {
      if (!/^\d{1,18}$/.test(id)) return false;
      const revived = await repo().revive(Number(id));
      if (revived) this.kick();
      return revived;
    },
    async depth() {
      const { pending, failed } = await repo().depth();
      return { outbox: pending, failed };
    },
  };
}

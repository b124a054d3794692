import { DelayedError, Queue, Worker, type Job, type JobsOptions } from 'bullmq';
import { sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import type { DbOrTx } from '../../db/client.js';
import { namedDependency, unavailableDependency, type Dependency } from '../../lib/unavailable.js';
import { KEEP_FAILED_DAYS } from './housekeeping.js';
import { createOutboxRepo } from './outbox-repo.js';
import { addToOutbox, runOutboxRow } from './outbox.js';
import type { RunnerOptions } from './local-runner.js';
import { missedSlots, runScheduled } from './schedule.js';
import type { JobRunner } from './types.js';
import { maskedReason } from './types.js';

export interface QueueRunnerOptions extends RunnerOptions {
  redisUrl: string;
  /** Start of every queue key in Redis (REDIS_KEY_PREFIX and the deployment id). */
  prefix: string;
  /** `worker`: runs jobs and schedules here; `producer`: only hands work to the queue (web with a worker). */
  role: 'worker' | 'producer';
  concurrency: number;
  /** A job whose worker stops renewing its lock this long is taken as stalled and run again. */
  lockMs: number;
}

const QUEUE = 'jobs';
const DISPATCH_BATCH = 100;
/** A row handed over this long ago and still present is handed over again (idempotent by job id). */
const REDISPATCH_AFTER_SECONDS = 600;
const KEEP_DONE = { age: 3600, count: 1000 };
const KEEP_FAILED = { age: KEEP_FAILED_DAYS * 86_400 };
const SCHEDULED_ATTEMPTS = 3;
const SCHEDULED_BACKOFF_MS = 60_000;
/** A job that failed because PostgreSQL or Redis was unreachable runs again after 1 s, 2 s, … ≤ 30 s. */
const OUTAGE_FIRST_WAIT_MS = 1000;
const OUTAGE_MAX_WAIT_MS = 30_000;

/** How long closing the producer's queue may wait for Redis at shutdown before its connection is dropped. */
const CLOSE_QUEUE_MS = 2000;

/** Waits for `work` at most `ms`: true when it settled in time. */
const within = (work: Promise<unknown>, ms: number): Promise<boolean> =>
  Promise.race([
    work.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => {
      setTimeout(() => {
        resolve(false);
      }, ms).unref();
    }),
  ]);

const connect = (url: string, forWorker: boolean) => {
  const redis = new Redis(url, {
    // BullMQ's blocking commands need this; a producer fails fast instead of queueing while Redis is down.
    maxRetriesPerRequest: forWorker ? null : 1,
    enableOfflineQueue: forWorker,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
  });
  redis.on('error', () => undefined);
  return redis;
};

/**
 * Runs jobs through BullMQ on Redis (docs/operations.md#background-jobs). The outbox is handed to the
 * queue in a transaction that locks its rows (one dispatcher per row; the queue's job id is the row
 * id, so a hand-over repeated after a crash adds nothing). Workers retry with exponential back-off; a
 * job whose worker died is found stalled and run again. Clock schedules are BullMQ job schedulers in
 * TIME_ZONE (one job per slot cluster-wide); missed slots are queued at start with one job id per slot.
 */
export function createQueueRunner(opts: QueueRunnerOptions): JobRunner {
  const { outbox, scheduling } = opts;
  const repo = () => createOutboxRepo(outbox.db);
  const producerConnection = connect(opts.redisUrl, false);
  const queue = new Queue(QUEUE, { connection: producerConnection, prefix: opts.prefix });
  queue.on('error', () => undefined);
  let worker: Worker | undefined;
  let workerConnection: Redis | undefined;
  let sweep: NodeJS.Timeout | undefined;
  const enqueuing = new Set<Promise<unknown>>();
  let dispatching: Promise<void> | undefined;
  let again = false;
  let stopped = false;

  const outboxJobOptions = (id: number): JobsOptions => ({
    jobId: `outbox-${String(id)}`,
    attempts: opts.attempts,
    backoff: { type: 'exponential', delay: opts.backoffMs },
    removeOnComplete: KEEP_DONE,
    removeOnFail: KEEP_FAILED,
  });

  async function dispatchBatch(): Promise<number> {
    return outbox.db.transaction(async (tx) => {
      const rows = await createOutboxRepo(tx).takeForDispatch(DISPATCH_BATCH, REDISPATCH_AFTER_SECONDS);
      if (rows.length) {
        await queue.addBulk(
          rows.map((r) => ({ name: r.job, data: { outboxId: r.id }, opts: outboxJobOptions(r.id) })),
        );
      }
      return rows.length;
    });
  }

  /** Hands waiting outbox rows to the queue; on failure they stay and the next sweep tries again. */
  function dispatch(): Promise<void> {
    if (dispatching) {
      again = true;
      return dispatching;
    }
    dispatching = (async () => {
      try {
        do {
          again = false;
          while ((await dispatchBatch()) === DISPATCH_BATCH);
        } while (again);
      } catch (err) {
        scheduling.logger.warn({ err: maskedReason(err) }, 'jobs could not be handed to the queue; retrying');
      } finally {
        dispatching = undefined;
      }
    })();
    return dispatching;
  }

  /**
   * The dependency whose outage made this attempt fail, or null for any other failure. A bare socket
   * error may be the mail server's: it counts as a database outage only if the database does not answer.
   */
  async function outageOf(err: unknown): Promise<Dependency | null> {
    // Met on a database or Redis connection (tagged there, or a server's own error): an outage, even
    // if it is over by now (the probe below could already succeed: a job that failed as the server
    // came back must still wait, not spend an attempt).
    const named = namedDependency(err);
    if (named) return named;
    const dependency = unavailableDependency(err);
    if (dependency !== 'database') return dependency;
    try {
      await outbox.db.execute(sql`select 1`);
      return null;
    } catch {
      return 'database';
    }
  }

  /**
   * An attempt that failed because PostgreSQL or Redis went away spends none of the job's attempts
   * (its retries are for failures of its own, and a long outage would use them all up): the job waits
   * in the queue, 1 s the first time, doubling up to 30 s, and runs again (docs/operations.md#faults).
   */
  async function waitForDependency(
    job: Job,
    token: string | undefined,
    dependency: Dependency,
  ): Promise<never> {
    // Starts minus attempts spent: how often it has already waited (a stall counts too; close enough).
    const waited = Math.max(0, job.attemptsStarted - job.attemptsMade - 1);
    const waitMs = Math.min(OUTAGE_FIRST_WAIT_MS * 2 ** waited, OUTAGE_MAX_WAIT_MS);
    scheduling.logger.warn(
      { job: job.name, dependency, wait_ms: waitMs },
      `job interrupted: ${dependency} unreachable; it runs again when it returns`,
    );
    scheduling.onOutcome(job.name, 'retry');
    await job.moveToDelayed(Date.now() + waitMs, token);
    throw new DelayedError();
  }

  async function runJob(job: Job, token?: string): Promise<unknown> {
    const data = job.data as { outboxId?: number };
    if (typeof data.outboxId === 'number') {
      try {
        const done = await runOutboxRow(outbox, data.outboxId);
        scheduling.logger.info(
          { job: job.name, outbox_id: data.outboxId, ...(done.result ?? {}) },
          'job finished',
        );
        scheduling.onOutcome(job.name, 'success');
        return done.result ?? null;
      } catch (err) {
        const outage = await outageOf(err);
        if (outage) return waitForDependency(job, token, outage);
        const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        const reason = maskedReason(err);
        scheduling.logger[last ? 'error' : 'warn'](
          { job: job.name, outbox_id: data.outboxId, attempt: job.attemptsMade + 1, err: reason },
          last ? 'job failed and was given up' : 'job failed; it will be retried',
        );
        scheduling.onOutcome(job.name, last ? 'failure' : 'retry');
        throw new Error(reason);
      }
    }
    const scheduled = opts.scheduled.find((s) => s.name === job.name);
    if (!scheduled) throw new Error(`no scheduled job "${job.name}"`);
    try {
      return (await runScheduled(scheduled, scheduling)) ?? null;
    } catch (err) {
      const outage = await outageOf(err);
      // A clock job's slot is not recorded until it completes: it waits and runs again. An interval
      // job's next run comes soon anyway.
      if (outage && 'cron' in scheduled.schedule) return waitForDependency(job, token, outage);
      if (outage) return { skipped: `${outage} unreachable` };
      throw new Error(maskedReason(err));
    }
  }

  async function installSchedules(): Promise<void> {
    const wanted = new Set(opts.scheduled.map((s) => s.name));
    for (const existing of await queue.getJobSchedulers()) {
      if (existing.key && !wanted.has(existing.key)) await queue.removeJobScheduler(existing.key);
    }
    for (const job of opts.scheduled) {
      const repeat =
        'cron' in job.schedule
          ? { pattern: job.schedule.cron, tz: scheduling.timeZone }
          : { every: job.schedule.everyMs };
      await queue.upsertJobScheduler(job.name, repeat, {
        name: job.name,
        data: {},
        opts:
          'cron' in job.schedule
            ? {
                attempts: SCHEDULED_ATTEMPTS,
                backoff: { type: 'exponential', delay: SCHEDULED_BACKOFF_MS },
                removeOnComplete: KEEP_DONE,
                removeOnFail: KEEP_FAILED,
              }
            : { removeOnComplete: true, removeOnFail: KEEP_FAILED },
      });
    }
    for (const { job, slot } of await missedSlots(opts.scheduled, scheduling)) {
      scheduling.logger.info(
        { job: job.name, slot: slot.toISOString() },
        'queueing a scheduled job whose slot was missed',
      );
      // One job id per slot: workers starting together queue it once. A finished one of that id (the
      // slot failed, or was reset by hand) is removed first, or the queue would ignore the new one.
      const jobId = `catchup-${job.name}-${String(slot.getTime())}`;
      const previous = await queue.getJob(jobId);
      if (previous && ['completed', 'failed'].includes(await previous.getState())) await previous.remove();
      await queue.add(
        job.name,
        {},
        {
          jobId,
          attempts: SCHEDULED_ATTEMPTS,
          backoff: { type: 'exponential', delay: SCHEDULED_BACKOFF_MS },
          removeOnComplete: KEEP_DONE,
          removeOnFail: KEEP_FAILED,
        },
      );
    }
  }

  async function settled(): Promise<boolean> {
    const counts = await queue.getJobCounts('waiting', 'active', 'prioritized');
    if ((counts.waiting ?? 0) + (counts.active ?? 0) + (counts.prioritized ?? 0) > 0) return false;
    // Rows still present are done only when their queue job failed or waits for a retry.
    const present = await repo().pendingIds(50);
    for (const id of present) {
      const state = await queue.getJobState(`outbox-${String(id)}`);
      if (state !== 'failed' && state !== 'delayed') return false;
    }
    return true;
  }

  return {
    mode: 'queue',
    async enqueue(job: string, data: unknown, tx?: DbOrTx) {
      const p = addToOutbox(outbox, job, data, tx);
      enqueuing.add(p);
      try {
        await p;
      } finally {
        enqueuing.delete(p);
      }
      if (!tx) this.kick();
    },
    kick() {
      if (!stopped) void dispatch();
    },
    async start() {
      sweep = setInterval(() => void dispatch(), opts.pollMs ?? 1000);
      sweep.unref();
      if (opts.role === 'producer') return;
      workerConnection = connect(opts.redisUrl, true);
      worker = new Worker(QUEUE, runJob, {
        connection: workerConnection,
        prefix: opts.prefix,
        concurrency: opts.concurrency,
        lockDuration: opts.lockMs,
        stalledInterval: opts.lockMs,
        maxStalledCount: 3,
      });
      worker.on('error', (err) => {
        scheduling.logger.warn({ err: maskedReason(err) }, 'job worker: queue connection problem');
      });
      // Redis may not answer yet (it and the worker often start together): schedules are installed
      // as soon as it does; the worker itself waits for Redis on its own.
      void (async () => {
        for (let attempt = 0; !stopped; attempt += 1) {
          try {
            await installSchedules();
            return;
          } catch (err) {
            if (attempt === 0) {
              scheduling.logger.warn(
                { err: maskedReason(err) },
                'job schedules not installed yet: Redis unreachable; retrying',
              );
            }
            await new Promise((resolve) => setTimeout(resolve, 2000));
          }
        }
      })();
      void dispatch();
    },
    async stop(graceMs: number) {
      stopped = true;
      if (sweep) clearInterval(sweep);
      // Running jobs finish within the bound. One still running then, or a close that cannot reach
      // Redis, is abandoned: its connections are dropped below and the job, whose lock is no longer
      // renewed, is run again by another worker. (BullMQ's `close(true)` after `close()` returns the
      // same pending promise: it cannot cut a close short, so the bound is ours.)
      if (worker) await within(worker.close(), graceMs);
      await Promise.allSettled([...enqueuing, dispatching]);
      await within(queue.close(), CLOSE_QUEUE_MS);
      producerConnection.disconnect();
      workerConnection?.disconnect();
    },
    async idle() {
      const deadline = Date.now() + 30_000;
      for (;;) {
        await Promise.allSettled([...enqueuing]);
        await dispatch();
        if ((await repo().undispatched()) === 0 && (await settled())) return;
        if (Date.now() > deadline) throw new Error('background jobs did not settle within 30 s');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async flush() {
      await Promise.allSettled([...enqueuing]);
      await dispatch();
    },
    async failed(limit: number) {
      const jobs = await queue.getFailed(0, Math.max(0, limit - 1));
      return jobs.map((j) => ({
        id: String(j.id),
        job: j.name,
        attempts: j.attemptsMade,
        reason: j.failedReason,
        failedAt: new Date(j.finishedOn ?? j.timestamp),
      }));
    },
    async retry(id: string) {
      const job = await queue.getJob(id);
      if (!job || (await job.getState()) !== 'failed') return false;
      await job.retry('failed');
      return true;
    },
    async depth() {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
      return { ...counts, outbox: (await repo().depth()).pending };
    },
  };
}

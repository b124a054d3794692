import { CronExpressionParser } from 'cron-parser';
import type { OutboxRepo } from './outbox-repo.js';
import type { SlotLease } from './slot-lease.js';
import type { JobLogger, JobOutcomeSink, JobResult, ScheduledJob } from './types.js';
import { maskedReason } from './types.js';

/** A run that starts up to this early still counts for the coming slot (clocks of machines differ). */
const EARLY_MS = 5_000;

/** The latest slot of a cron pattern at or before `at` (in `timeZone`). */
export function slotAtOrBefore(pattern: string, timeZone: string, at: Date): Date {
  const expr = CronExpressionParser.parse(pattern, { tz: timeZone, currentDate: new Date(at.getTime() + 1) });
  return expr.prev().toDate();
}

/** The next slot of a cron pattern after `at`. */
export function slotAfter(pattern: string, timeZone: string, at: Date): Date {
  return CronExpressionParser.parse(pattern, { tz: timeZone, currentDate: at }).next().toDate();
}

export interface ScheduledRunDeps {
  repo: () => OutboxRepo;
  timeZone: string;
  logger: JobLogger;
  onOutcome: JobOutcomeSink;
  /**
   * Interval jobs only, in-process: claims a run cluster-wide (the shared store's set-if-absent) for one
   * interval, so several instances running jobs in-process run it once per interval.
   */
  claim?: (key: string, ttlSeconds: number) => Promise<boolean>;
  /** Clock jobs: one run per slot cluster-wide, whoever queued it (slot-lease.ts). */
  lease?: SlotLease;
}

/**
 * Runs a periodic job once. A clock-scheduled job runs for the latest slot that has not completed
 * (`job_schedule_runs`): a second run for a slot already done is skipped, and a slot missed while
 * nothing ran is done by the next run, e.g. the catch-up at start. Failures are logged and rethrown
 * (the queue retries them).
 */
export async function runScheduled(job: ScheduledJob, deps: ScheduledRunDeps): Promise<JobResult> {
  const slot =
    'cron' in job.schedule
      ? slotAtOrBefore(job.schedule.cron, deps.timeZone, new Date(Date.now() + EARLY_MS))
      : undefined;
  const slotDone = async () => {
    const last = slot ? await deps.repo().lastSlot(job.name) : null;
    return Boolean(slot && last && last.getTime() >= slot.getTime());
  };
  const skipped = (why: string): JobResult => {
    deps.onOutcome(job.name, 'skipped');
    return { skipped: why };
  };
  if (await slotDone()) return skipped('slot already done');
  if (slot && deps.lease) {
    const held = await deps.lease.hold(`job:${job.name}:${String(slot.getTime())}`, slotDone, () =>
      runOnce(job, slot, deps),
    );
    return 'skipped' in held ? skipped('slot done by another run') : held.result;
  }
  if (!slot && deps.claim) {
    const ttl = Math.max(1, Math.floor(('everyMs' in job.schedule ? job.schedule.everyMs : 0) / 1000) - 1);
    if (!(await deps.claim(`job:${job.name}`, ttl))) return skipped('another instance runs it');
  }
  return runOnce(job, slot, deps);
}

async function runOnce(
  job: ScheduledJob,
  slot: Date | undefined,
  deps: ScheduledRunDeps,
): Promise<JobResult> {
  const started = Date.now();
  try {
    const result = await job.run();
    if (slot) await deps.repo().recordSlot(job.name, slot);
    deps.logger.info(
      {
        job: job.name,
        ms: Date.now() - started,
        ...(slot ? { slot: slot.toISOString() } : {}),
        ...(result ?? {}),
      },
      'job finished',
    );
    deps.onOutcome(job.name, 'success');
    return result;
  } catch (err) {
    deps.logger.error({ job: job.name, err: maskedReason(err) }, 'job failed');
    deps.onOutcome(job.name, 'failure');
    throw err;
  }
}

/** Clock-scheduled jobs whose latest slot has not completed (run at start: missed while down). */
export async function missedSlots(
  jobs: readonly ScheduledJob[],
  deps: Pick<ScheduledRunDeps, 'repo' | 'timeZone'>,
  now = new Date(),
): Promise<{ job: ScheduledJob; slot: Date }[]> {
  const missed: { job: ScheduledJob; slot: Date }[] = [];
  for (const job of jobs) {
    if (!('cron' in job.schedule)) continue;
    const slot = slotAtOrBefore(job.schedule.cron, deps.timeZone, now);
    const last = await deps.repo().lastSlot(job.name);
    if (!last || last.getTime() < slot.getTime()) missed.push({ job, slot });
  }
  return missed;
}

import type { Config } from '../../../config.js';
import type { Db, DbOrTx } from '../../../db/client.js';
import type { Log } from '../../../lib/log.js';
import { type AuditContext, recordAudit } from '../../audit/index.js';
import { eraseUser, type ErasureDeps } from '../deletion/erasure.js';
import { createRetentionRepo } from './repo.js';

/**
 * The inactive-account process (docs/privacy.md#inactive-accounts): schedule, warn, erase; and the
 * sign-in that calls a schedule off.
 */
const DAY_MS = 86_400_000;
export const SCHEDULE_RESOURCE = 'account_deletion_schedule';
export const SYSTEM: AuditContext = { actor: null, meta: null };
/** A first warning goes out at most this many days before the deletion date (and more than FINAL). */
export const FIRST_WARNING_DAYS = 30;
export const FINAL_WARNING_DAYS = 7;

/** Whole days left (Python's `timedelta.days`), never below 0. */
export const daysUntil = (date: Date, now: Date) =>
  Math.max(0, Math.floor((date.getTime() - now.getTime()) / DAY_MS));

export interface InactiveAccountsDeps extends ErasureDeps {
  db: Db;
  logger: Log;
  config: ErasureDeps['config'] & { retention: Pick<Config['retention'], 'inactiveExcludeRoles'> };
}

export interface InactiveRunOptions {
  inactiveYears: number;
  graceDays: number;
  /** Count only: nothing is created, sent or erased. */
  dryRun: boolean;
  sendWarnings: boolean;
  /** Erase past-due schedules (CLI `--execute`; job only with INACTIVE_ACCOUNT_CLEANUP_EXECUTE). */
  execute: boolean;
}

export interface InactiveRunResult {
  /** Inactive users found by step 1. */
  found: number;
  /** Schedules created by step 1 (or that would be, in a dry run). */
  scheduled: number;
  /** Warnings sent by step 2 (first and final). */
  warned: number;
  /** Accounts erased by step 3. */
  erased: number;
  /** Past-due, non-exempt schedules found by step 3. */
  overdue: number;
  /** Schedules dropped because their user became active again without a login (session use). */
  cancelled: number;
}

/**
 * The inactive-account process (daily job `retention.inactive`, CLI `retention:inactive-accounts`):
 *  1. users inactive for `inactiveYears` × 365 days get a schedule (now + `graceDays`) if none;
 *  2. non-exempt future schedules: first warning at ≤ 30 and > 7 days left, final at ≤ 7, once each;
 *  3. past-due non-exempt schedules are erased, only with `execute`.
 */
export async function runInactiveAccounts(
  deps: InactiveAccountsDeps,
  opts: InactiveRunOptions,
): Promise<InactiveRunResult> {
  const { db, fmt, mailer, logger, config } = deps;
  const now = deps.now();
  const excluded = config.retention.inactiveExcludeRoles;
  const repo = createRetentionRepo(db);
  const result: InactiveRunResult = {
    found: 0,
    scheduled: 0,
    warned: 0,
    erased: 0,
    overdue: 0,
    cancelled: 0,
  };

  // A user who used a session since being scheduled is not inactive any more (a login cancels
  // the schedule at once; this catches activity through a long-lived session).
  const stale = await repo.staleSchedules();
  result.cancelled = stale.length;
  if (!opts.dryRun && stale.length) {
    await db.transaction(async (tx) => {
      await createRetentionRepo(tx).deleteSchedules(stale.map((s) => s.id));
      for (const s of stale) {
        await recordAudit(tx, SYSTEM, {
          action: 'delete',
          resourceType: SCHEDULE_RESOURCE,
          resourceId: s.id,
          subjectUserId: s.userId,
          reason: 'user active again',
        });
      }
    });
  }

  // Step 1.
  const threshold = new Date(now.getTime() - opts.inactiveYears * 365 * DAY_MS);
  const inactive = await repo.inactiveUsers(threshold, excluded);
  result.found = inactive.length;
  const toSchedule = inactive.filter((u) => !u.hasSchedule).map((u) => u.id);
  if (opts.dryRun) {
    result.scheduled = toSchedule.length;
  } else if (toSchedule.length) {
    const deletionDate = new Date(now.getTime() + opts.graceDays * DAY_MS);
    result.scheduled = await db.transaction(async (tx) => {
      const created = await createRetentionRepo(tx).createSchedules(toSchedule, deletionDate, now);
      for (const s of created) {
        await recordAudit(tx, SYSTEM, {
          action: 'create',
          resourceType: SCHEDULE_RESOURCE,
          resourceId: s.id,
          subjectUserId: s.userId,
          changes: { scheduled_deletion_date: [null, s.scheduledDeletionDate.toISOString()] },
          reason: `inactive for ${opts.inactiveYears} years`,
        });
      }
      return created.length;
    });
  }

  // Step 2.
  if (opts.sendWarnings) {
    for (const { schedule, email, firstName } of await repo.schedules(now, false, excluded)) {
      const left = daysUntil(schedule.scheduledDeletionDate, now);
      const which =
        left <= FINAL_WARNING_DAYS && !schedule.secondWarningSent
          ? 'final'
          : left <= FIRST_WARNING_DAYS && left > FINAL_WARNING_DAYS && !schedule.firstWarningSent
            ? 'first'
            : null;
      if (!which) continue;
      result.warned += 1;
      if (opts.dryRun) continue;
      // Recorded and queued in one transaction: the warning goes out once even if two runs overlap,
      // and is never marked sent without being queued.
      const date = fmt(schedule.scheduledDeletionDate).slice(0, 10);
      const loginUrl = `${config.frontendUrl}/login`;
      await db.transaction(async (tx) => {
        await createRetentionRepo(tx).markWarned(schedule.id, which, now);
        const field = which === 'first' ? 'first_warning_sent' : 'second_warning_sent';
        await recordAudit(tx, SYSTEM, {
          action: 'update',
          resourceType: SCHEDULE_RESOURCE,
          resourceId: schedule.id,
          subjectUserId: schedule.userId,
          fields: [field],
          changes: { [field]: [null, now.toISOString()] },
        });
        if (which === 'first') {
          await mailer.queue(tx, 'inactive_first_warning', email, {
            name: firstName,
            years: opts.inactiveYears,
            date,
            loginUrl,
          });
        } else {
          await mailer.queue(tx, 'inactive_final_warning', email, {
            name: firstName,
            date,
            daysLeft: left,
            loginUrl,
          });
        }
      });
      mailer.kick();
    }
  }

  // Step 3.
  const overdue = await repo.schedules(now, true, excluded);
  result.overdue = overdue.length;
  if (opts.execute && !opts.dryRun) {
    for (const { schedule } of overdue) {
      try {
        const erased = await eraseUser(deps, schedule.userId, {
          audit: SYSTEM,
          trigger: 'inactivity',
          inactiveYears: opts.inactiveYears,
        });
        if (erased) result.erased += 1;
      } catch (err) {
        logger.error(
          { schedule_id: schedule.id, err: err instanceof Error ? err.message : String(err) },
          'erasure of an inactive account failed',
        );
      }
    }
  }
  return result;
}

/**
 * A successful login ends the user's (non-exempt) inactivity schedule
 * (docs/privacy.md#inactive-accounts): privacy's reaction to "a user signed in", wired to the
 * sign-in by the composition root. Call inside the login transaction; returns whether a schedule
 * was removed.
 */
export async function cancelInactivitySchedule(
  db: DbOrTx,
  userId: number,
  ctx: AuditContext = SYSTEM,
): Promise<boolean> {
  const row = await createRetentionRepo(db).deleteLiveSchedule(userId);
  if (!row) return false;
  await recordAudit(db, ctx, {
    action: 'delete',
    resourceType: SCHEDULE_RESOURCE,
    resourceId: row.id,
    subjectUserId: userId,
    reason: 'login',
  });
  return true;
}

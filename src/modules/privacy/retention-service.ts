import type { FastifyRequest } from 'fastify';
import { and, eq } from 'drizzle-orm';
import type { Container } from '../../container.js';
import type { DbOrTx } from '../../db/client.js';
import { accountDeletionSchedules } from '../../db/schema.js';
import type { Actor, RequestMeta } from '../../lib/actor.js';
import { notFound } from '../../lib/errors.js';
import { type Page, paginate } from '../../lib/paging.js';
import { type AuditContext, recordAudit } from '../audit/recorder.js';
import { createUserRepo } from '../users/repo.js';
import { eraseUser } from './erasure-service.js';
import { createRetentionRepo, type ScheduleView } from './retention-repo.js';
import type { ScheduleResponse } from './retention-schemas.js';

/**
 * Retention (spec privacy.md §5): the inactive-account process (schedule, warn, erase), the
 * exemptions staff grant, and the clean-up of ended sessions and used reset tokens.
 */
const DAY_MS = 86_400_000;
const RESOURCE = 'account_deletion_schedule';
const SYSTEM: AuditContext = { actor: null, meta: null };
/** A first warning goes out at most this many days before the deletion date (and more than FINAL). */
export const FIRST_WARNING_DAYS = 30;
export const FINAL_WARNING_DAYS = 7;

/** Whole days left (Python's `timedelta.days`), never below 0. */
export const daysUntil = (date: Date, now: Date) =>
  Math.max(0, Math.floor((date.getTime() - now.getTime()) / DAY_MS));

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
  c: Container,
  opts: InactiveRunOptions,
): Promise<InactiveRunResult> {
  const now = c.now();
  const excluded = c.config.retention.inactiveExcludeRoles;
  const repo = createRetentionRepo(c.db);
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
    await c.db.transaction(async (tx) => {
      await createRetentionRepo(tx).deleteSchedules(stale.map((s) => s.id));
      for (const s of stale) {
        await recordAudit(tx, SYSTEM, {
          action: 'delete',
          resourceType: RESOURCE,
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
    result.scheduled = await c.db.transaction(async (tx) => {
      const created = await createRetentionRepo(tx).createSchedules(toSchedule, deletionDate, now);
      for (const s of created) {
        await recordAudit(tx, SYSTEM, {
          action: 'create',
          resourceType: RESOURCE,
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
      // Recorded before sending, so a warning goes out once even if two runs overlap.
      await c.db.transaction(async (tx) => {
        await createRetentionRepo(tx).markWarned(schedule.id, which, now);
        const field = which === 'first' ? 'first_warning_sent' : 'second_warning_sent';
        await recordAudit(tx, SYSTEM, {
          action: 'update',
          resourceType: RESOURCE,
          resourceId: schedule.id,
          subjectUserId: schedule.userId,
          fields: [field],
          changes: { [field]: [null, now.toISOString()] },
        });
      });
      const date = c.fmt(schedule.scheduledDeletionDate).slice(0, 10);
      const loginUrl = `${c.config.frontendUrl}/login`;
      if (which === 'first') {
        c.mailer.send('inactive_first_warning', email, {
          name: firstName,
          years: opts.inactiveYears,
          date,
          loginUrl,
        });
      } else {
        c.mailer.send('inactive_final_warning', email, { name: firstName, date, daysLeft: left, loginUrl });
      }
    }
  }

  // Step 3.
  const overdue = await repo.schedules(now, true, excluded);
  result.overdue = overdue.length;
  if (opts.execute && !opts.dryRun) {
    for (const { schedule } of overdue) {
      try {
        const erased = await eraseUser(c, schedule.userId, {
          audit: SYSTEM,
          trigger: 'inactivity',
          inactiveYears: opts.inactiveYears,
        });
        if (erased) result.erased += 1;
      } catch (err) {
        c.logger.error(
          { schedule_id: schedule.id, err: err instanceof Error ? err.message : String(err) },
          'erasure of an inactive account failed',
        );
      }
    }
  }
  return result;
}

/**
 * A successful login ends the user's (non-exempt) inactivity schedule (spec privacy.md §5).
 * Call inside the login transaction; returns whether a schedule was removed.
 */
export async function cancelInactivitySchedule(
  db: DbOrTx,
  userId: number,
  ctx: AuditContext = SYSTEM,
): Promise<boolean> {
  const removed = await db
    .delete(accountDeletionSchedules)
    .where(and(eq(accountDeletionSchedules.userId, userId), eq(accountDeletionSchedules.exempted, false)))
    .returning({ id: accountDeletionSchedules.id });
  const row = removed[0];
  if (!row) return false;
  await recordAudit(db, ctx, {
    action: 'delete',
    resourceType: RESOURCE,
    resourceId: row.id,
    subjectUserId: userId,
    reason: 'login',
  });
  return true;
}

/** Deletes sessions that ended, and reset tokens used or expired, more than `days` ago. */
export async function cleanupSessions(
  c: Container,
  opts: { days: number; dryRun: boolean },
): Promise<{ sessions: number; reset_tokens: number }> {
  const cutoff = new Date(c.now().getTime() - opts.days * DAY_MS);
  return c.db.transaction(async (tx) => {
    const repo = createRetentionRepo(tx);
    const sessions = await repo.deleteOldSessions(cutoff, opts.dryRun);
    const resetTokens = await repo.deleteOldResetTokens(cutoff, opts.dryRun);
    if (!opts.dryRun && sessions + resetTokens > 0) {
      await recordAudit(tx, SYSTEM, {
        action: 'delete',
        resourceType: 'session',
        metadata: { sessions, reset_tokens: resetTokens, older_than_days: opts.days },
        reason: 'retention',
      });
    }
    return { sessions, reset_tokens: resetTokens };
  });
}

export type ExemptOutcome = 'exempted' | 'created' | 'unexempted' | 'no_user' | 'no_schedule';

/** Staff routes `retention/schedules/*` and the CLI exemptions. */
export function createRetentionService(c: Container) {
  const { db, fmt, now } = c;

  function present(row: ScheduleView): ScheduleResponse {
    const ts = (d: Date | null) => (d ? fmt(d) : null);
    return {
      id: row.id,
      user: row.userId,
      user_email: row.userEmail,
      scheduled_deletion_date: fmt(row.scheduledDeletionDate),
      first_warning_sent: ts(row.firstWarningSent),
      second_warning_sent: ts(row.secondWarningSent),
      exempted: row.exempted,
      exemption_reason: row.exemptionReason,
      days_until_deletion: row.exempted ? null : daysUntil(row.scheduledDeletionDate, now()),
      created_at: fmt(row.createdAt),
      updated_at: fmt(row.updatedAt),
    };
  }

  async function setExempt(ctx: AuditContext, id: number, exempt: boolean, reason: string) {
    await db.transaction(async (tx) => {
      const repo = createRetentionRepo(tx);
      const before = await repo.lock({ id });
      if (!before) throw notFound('Deletion schedule not found');
      await repo.update(id, { exempted: exempt, exemptionReason: exempt ? reason : '', updatedAt: now() });
      await recordAudit(tx, ctx, {
        action: exempt ? 'retention_exempted' : 'update',
        resourceType: RESOURCE,
        resourceId: id,
        subjectUserId: before.userId,
        fields: ['exempted', 'exemption_reason'],
        changes: { exempted: [before.exempted, exempt] },
      });
    });
    const row = await createRetentionRepo(db).view(id);
    if (!row) throw notFound('Deletion schedule not found');
    return present(row);
  }

  return {
    present,
    async list(request: FastifyRequest, query: unknown): Promise<Page<ScheduleResponse>> {
      const repo = createRetentionRepo(db);
      return paginate(
        request,
        query,
        (limit, offset) => repo.page(limit, offset),
        () => repo.count(),
        (rows) => rows.map(present),
      );
    },
    exempt: (actor: Actor, meta: RequestMeta, id: number, reason: string) =>
      setExempt({ actor, meta }, id, true, reason),
    unexempt: (actor: Actor, meta: RequestMeta, id: number) => setExempt({ actor, meta }, id, false, ''),

    /**
     * CLI `retention:exempt --email --reason`: exempts the user's schedule, or creates an exempt one
     * so the user never enters the process.
     */
    async exemptByEmail(email: string, reason: string): Promise<ExemptOutcome> {
      return db.transaction(async (tx) => {
        const user = await createUserRepo(tx).findByEmail(email);
        if (!user || user.anonymizedAt) return 'no_user';
        const repo = createRetentionRepo(tx);
        const at = now();
        const before = await repo.lock({ userId: user.id });
        let id: number;
        if (before) {
          await repo.update(before.id, { exempted: true, exemptionReason: reason, updatedAt: at });
          id = before.id;
        } else {
          const created = await repo.insert({
            userId: user.id,
            scheduledDeletionDate: new Date(at.getTime() + c.config.retention.inactiveGraceDays * DAY_MS),
            exempted: true,
            exemptionReason: reason,
            createdAt: at,
            updatedAt: at,
          });
          id = created.id;
        }
        await recordAudit(tx, SYSTEM, {
          action: 'retention_exempted',
          resourceType: RESOURCE,
          resourceId: id,
          subjectUserId: user.id,
          fields: ['exempted', 'exemption_reason'],
          changes: { exempted: [before?.exempted ?? null, true] },
        });
        return before ? 'exempted' : 'created';
      });
    },

    /** CLI `retention:unexempt --email`. */
    async unexemptByEmail(email: string): Promise<ExemptOutcome> {
      return db.transaction(async (tx) => {
        const user = await createUserRepo(tx).findByEmail(email);
        if (!user || user.anonymizedAt) return 'no_user';
        const repo = createRetentionRepo(tx);
        const before = await repo.lock({ userId: user.id });
        if (!before) return 'no_schedule';
        await repo.update(before.id, { exempted: false, exemptionReason: '', updatedAt: now() });
        await recordAudit(tx, SYSTEM, {
          action: 'update',
          resourceType: RESOURCE,
          resourceId: before.id,
          subjectUserId: user.id,
          fields: ['exempted', 'exemption_reason'],
          changes: { exempted: [before.exempted, false] },
        });
        return 'unexempted';
      });
    },
  };
}
export type RetentionService = ReturnType<typeof createRetentionService>;

import type { Config } from '../../../config.js';
import type { Actor, RequestMeta } from '../../../lib/actor.js';
import { notFound } from '../../../lib/errors.js';
import { type Page, paginate, type PageLink } from '../../../lib/paging.js';
import { type AuditContext, recordAudit } from '../../audit/index.js';
import {
  daysUntil,
  type InactiveAccountsDeps,
  type InactiveRunOptions,
  runInactiveAccounts,
  SCHEDULE_RESOURCE as RESOURCE,
  SYSTEM,
} from './inactive-accounts.js';
import { createRetentionRepo, type ScheduleView } from './repo.js';
import { cleanupSessions } from './session-cleanup.js';
import type { ScheduleResponse } from './types.js';

const DAY_MS = 86_400_000;

export type ExemptOutcome = 'exempted' | 'created' | 'unexempted' | 'no_user' | 'no_schedule';

export interface RetentionDeps extends InactiveAccountsDeps {
  config: InactiveAccountsDeps['config'] & {
    retention: Pick<
      Config['retention'],
      'inactiveYears' | 'inactiveGraceDays' | 'inactiveCleanupExecute' | 'sessionCleanupDays'
    >;
  };
}

/** How a run of the inactive-account process is asked for: the periods default to the configuration. */
export type InactiveRunRequest = Omit<InactiveRunOptions, 'inactiveYears' | 'graceDays'> &
  Partial<Pick<InactiveRunOptions, 'inactiveYears' | 'graceDays'>>;

/**
 * Retention (docs/privacy.md#retention): the staff routes `retention/schedules/*`, the CLI
 * exemptions, and the runs of the inactive-account process and the session clean-up that the
 * jobs and the CLI start.
 */
export function createRetentionService(deps: RetentionDeps) {
  const { db, fmt, now, config } = deps;

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

    /** CLI `retention:inactive-accounts` (periods from the flags, else the configuration). */
    runInactiveAccounts: (opts: InactiveRunRequest) =>
      runInactiveAccounts(deps, {
        ...opts,
        inactiveYears: opts.inactiveYears ?? config.retention.inactiveYears,
        graceDays: opts.graceDays ?? config.retention.inactiveGraceDays,
      }),
    /** Job `retention.inactive`: erases only with INACTIVE_ACCOUNT_CLEANUP_EXECUTE. */
    runScheduledInactive: () =>
      runInactiveAccounts(deps, {
        inactiveYears: config.retention.inactiveYears,
        graceDays: config.retention.inactiveGraceDays,
        dryRun: false,
        sendWarnings: true,
        execute: config.retention.inactiveCleanupExecute,
      }),
    /** Job `sessions.cleanup` and CLI `sessions:cleanup` (SESSION_CLEANUP_DAYS unless given). */
    cleanupSessions: (opts: { days?: number; dryRun: boolean; only?: 'sessions' | 'reset_tokens' }) =>
      cleanupSessions(deps, {
        days: opts.days ?? config.retention.sessionCleanupDays,
        dryRun: opts.dryRun,
        ...(opts.only ? { only: opts.only } : {}),
      }),

    async list(link: PageLink, query: unknown): Promise<Page<ScheduleResponse>> {
      const repo = createRetentionRepo(db);
      return paginate(
        link,
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
        const user = await createRetentionRepo(tx).userByEmail(email);
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
            scheduledDeletionDate: new Date(at.getTime() + config.retention.inactiveGraceDays * DAY_MS),
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
        const user = await createRetentionRepo(tx).userByEmail(email);
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

import { and, asc, eq, gt, inArray, isNull, lte, notInArray, or, sql, type SQL } from 'drizzle-orm';
import { onlyRow } from '../../../db/errors.js';
import type { DbOrTx } from '../../../db/client.js';
import { accountDeletionSchedules, passwordResetTokens, sessions, users } from '../../../db/schema.js';
import { ROLES } from '../../../lib/actor.js';

export type ScheduleRow = typeof accountDeletionSchedules.$inferSelect;
export type ScheduleView = ScheduleRow & { userEmail: string };
export interface ScheduledUser {
  schedule: ScheduleRow;
  email: string;
  firstName: string;
}

/**
 * Last activity (docs/privacy.md#inactive-accounts): the latest of `last_login` and any session's
 * `last_activity`, else `date_joined` (greatest() skips nulls).
 */
const lastActivity = sql<Date>`coalesce(greatest(${users.lastLogin}, (select max(s.last_activity) from ${sessions} s where s.user_id = ${users.id})), ${users.dateJoined})`;

/** Users of these roles never enter the inactivity process. */
export function roleFilter(excluded: readonly string[]): SQL | undefined {
  const roles = ROLES.filter((r) => excluded.includes(r));
  return roles.length ? notInArray(users.role, roles) : undefined;
}

/** Queries of the retention process and the schedules routes (docs/privacy.md#retention). */
export function createRetentionRepo(db: DbOrTx) {
  return {
    /** The account with this e-mail (case-insensitive), for the CLI exemptions. */
    async userByEmail(email: string): Promise<{ id: number; anonymizedAt: Date | null } | undefined> {
      const rows = await db
        .select({ id: users.id, anonymizedAt: users.anonymizedAt })
        .from(users)
        .where(sql`lower(${users.email}) = ${email.toLowerCase()}`)
        .limit(1);
      return rows[0];
    },
    /** Removes the user's schedule unless it is exempt; returns the removed one's id. */
    async deleteLiveSchedule(userId: number): Promise<{ id: number } | undefined> {
      const removed = await db
        .delete(accountDeletionSchedules)
        .where(and(eq(accountDeletionSchedules.userId, userId), eq(accountDeletionSchedules.exempted, false)))
        .returning({ id: accountDeletionSchedules.id });
      return removed[0];
    },
    /** Step 1: active, not anonymised, eligible users inactive since before `threshold`. */
    async inactiveUsers(threshold: Date, excludedRoles: readonly string[]) {
      return db
        .select({
          id: users.id,
          hasSchedule: sql<boolean>`exists (select 1 from ${accountDeletionSchedules} a where a.user_id = ${users.id})`,
        })
        .from(users)
        .where(
          and(
            eq(users.isActive, true),
            isNull(users.anonymizedAt),
            roleFilter(excludedRoles),
            sql`${lastActivity} < ${threshold.toISOString()}::timestamptz`,
          ),
        )
        .orderBy(asc(users.id));
    },
    async createSchedules(userIds: number[], date: Date, at: Date): Promise<ScheduleRow[]> {
      if (userIds.length === 0) return [];
      return db
        .insert(accountDeletionSchedules)
        .values(
          userIds.map((userId) => ({ userId, scheduledDeletionDate: date, createdAt: at, updatedAt: at })),
        )
        .onConflictDoNothing()
        .returning();
    },
    /**
     * Non-exempt schedules of eligible, not anonymised users: future ones (`due` false, for the
     * warnings) or past-due ones (`due` true, for erasure).
     */
    async schedules(now: Date, due: boolean, excludedRoles: readonly string[]): Promise<ScheduledUser[]> {
      const rows = await db
        .select({ schedule: accountDeletionSchedules, email: users.email, firstName: users.firstName })
        .from(accountDeletionSchedules)
        .innerJoin(users, eq(users.id, accountDeletionSchedules.userId))
        .where(
          and(
            eq(accountDeletionSchedules.exempted, false),
            isNull(users.anonymizedAt),
            roleFilter(excludedRoles),
            due
              ? lte(accountDeletionSchedules.scheduledDeletionDate, now)
              : gt(accountDeletionSchedules.scheduledDeletionDate, now),
          ),
        )
        .orderBy(asc(accountDeletionSchedules.scheduledDeletionDate), asc(accountDeletionSchedules.id));
      return rows;
    },
    /**
     * Non-exempt schedules whose user has been active since the schedule was made (signed in, or
     * used a session): they are no longer inactive.
     */
    async staleSchedules(): Promise<ScheduleRow[]> {
      const rows = await db
        .select({ schedule: accountDeletionSchedules })
        .from(accountDeletionSchedules)
        .innerJoin(users, eq(users.id, accountDeletionSchedules.userId))
        .where(
          and(
            eq(accountDeletionSchedules.exempted, false),
            sql`${lastActivity} > ${accountDeletionSchedules.createdAt}`,
          ),
        );
      return rows.map((r) => r.schedule);
    },
    async deleteSchedules(ids: number[]): Promise<void> {
      if (ids.length === 0) return;
      await db.delete(accountDeletionSchedules).where(inArray(accountDeletionSchedules.id, ids));
    },
    async markWarned(id: number, which: 'first' | 'final', at: Date): Promise<void> {
      await db
        .update(accountDeletionSchedules)
        .set(
          which === 'first'
            ? { firstWarningSent: at, updatedAt: at }
            : { secondWarningSent: at, updatedAt: at },
        )
        .where(eq(accountDeletionSchedules.id, id));
    },
    async page(limit: number, offset: number): Promise<ScheduleView[]> {
      const rows = await db
        .select({ schedule: accountDeletionSchedules, userEmail: users.email })
        .from(accountDeletionSchedules)
        .innerJoin(users, eq(users.id, accountDeletionSchedules.userId))
        .orderBy(asc(accountDeletionSchedules.scheduledDeletionDate), asc(accountDeletionSchedules.id))
        .limit(limit)
        .offset(offset);
      return rows.map((r) => ({ ...r.schedule, userEmail: r.userEmail }));
    },
    async count(): Promise<number> {
      const rows = await db.select({ n: sql<number>`count(*)::int` }).from(accountDeletionSchedules);
      return rows[0]?.n ?? 0;
    },
    async view(id: number): Promise<ScheduleView | undefined> {
      const rows = await db
        .select({ schedule: accountDeletionSchedules, userEmail: users.email })
        .from(accountDeletionSchedules)
        .innerJoin(users, eq(users.id, accountDeletionSchedules.userId))
        .where(eq(accountDeletionSchedules.id, id))
        .limit(1);
      const r = rows[0];
      return r ? { ...r.schedule, userEmail: r.userEmail } : undefined;
    },
    async lock(filter: { id: number } | { userId: number }): Promise<ScheduleRow | undefined> {
      const rows = await db
        .select()
        .from(accountDeletionSchedules)
        .where(
          'id' in filter
            ? eq(accountDeletionSchedules.id, filter.id)
            : eq(accountDeletionSchedules.userId, filter.userId),
        )
        .for('update')
        .limit(1);
      return rows[0];
    },
    async insert(values: typeof accountDeletionSchedules.$inferInsert): Promise<ScheduleRow> {
      const rows = await db.insert(accountDeletionSchedules).values(values).returning();
      const row = onlyRow(rows, 'insert');
      return row;
    },
    async update(id: number, values: Partial<typeof accountDeletionSchedules.$inferInsert>): Promise<void> {
      await db.update(accountDeletionSchedules).set(values).where(eq(accountDeletionSchedules.id, id));
    },
    /** Sessions that ended (expired or terminated) before `cutoff`. */
    async deleteOldSessions(cutoff: Date, dryRun: boolean): Promise<number> {
      const where = or(lte(sessions.expiresAt, cutoff), lte(sessions.terminatedAt, cutoff));
      if (dryRun) {
        const rows = await db
          .select({ n: sql<number>`count(*)::int` })
          .from(sessions)
          .where(where);
        return rows[0]?.n ?? 0;
      }
      return (await db.delete(sessions).where(where).returning({ id: sessions.id })).length;
    },
    /** Reset tokens used, or expired, before `cutoff`. */
    async deleteOldResetTokens(cutoff: Date, dryRun: boolean): Promise<number> {
      const where = or(
        and(
          eq(passwordResetTokens.used, true),
          sql`coalesce(${passwordResetTokens.usedAt}, ${passwordResetTokens.createdAt}) <= ${cutoff.toISOString()}::timestamptz`,
        ),
        lte(passwordResetTokens.expiresAt, cutoff),
      );
      if (dryRun) {
        const rows = await db
          .select({ n: sql<number>`count(*)::int` })
          .from(passwordResetTokens)
          .where(where);
        return rows[0]?.n ?? 0;
      }
      return (await db.delete(passwordResetTokens).where(where).returning({ id: passwordResetTokens.id }))
        .length;
    },
  };
}

import { and, asc, count, desc, eq, gt, inArray, isNull, type SQL } from 'drizzle-orm';
import { onlyRow } from '../../db/errors.js';
import type { DbOrTx } from '../../db/client.js';
import { intakeSubmissions, userProfiles, users } from '../../db/schema.js';
import type { IntakeStatus } from './types.js';

export type SubmissionRow = typeof intakeSubmissions.$inferSelect;
export type ProfileRow = typeof userProfiles.$inferSelect;

export interface SubmissionFilter {
  /** Owner scoping (candidates): only this user's submissions. */
  ownerId?: number;
  user?: number;
  status?: IntakeStatus;
}

function where(f: SubmissionFilter): SQL | undefined {
  const conditions: SQL[] = [];
  if (f.ownerId !== undefined) conditions.push(eq(intakeSubmissions.userId, f.ownerId));
  if (f.user !== undefined) conditions.push(eq(intakeSubmissions.userId, f.user));
  if (f.status !== undefined) conditions.push(eq(intakeSubmissions.status, f.status));
  return conditions.length ? and(...conditions) : undefined;
}

/** Queries on intake submissions and the intake flag. Returns rows, never response objects. */
export function createIntakeRepo(db: DbOrTx) {
  return {
    async findProfile(userId: number): Promise<ProfileRow | undefined> {
      const rows = await db.select().from(userProfiles).where(eq(userProfiles.userId, userId)).limit(1);
      return rows[0];
    },
    /** Sets `has_completed_intake` (never unset via the API); returns the value it had before. */
    async markIntakeCompleted(userId: number, at: Date): Promise<boolean> {
      const before = await db
        .select({ done: users.hasCompletedIntake })
        .from(users)
        .where(eq(users.id, userId))
        .for('update')
        .limit(1);
      await db.update(users).set({ hasCompletedIntake: true, updatedAt: at }).where(eq(users.id, userId));
      return before[0]?.done ?? false;
    },
    async insertSubmission(values: typeof intakeSubmissions.$inferInsert): Promise<SubmissionRow> {
      const rows = await db.insert(intakeSubmissions).values(values).returning();
      const row = onlyRow(rows, 'insert');
      return row;
    },
    async countSubmissions(filter: SubmissionFilter): Promise<number> {
      const rows = await db.select({ n: count() }).from(intakeSubmissions).where(where(filter));
      return rows[0]?.n ?? 0;
    },
    /** Newest first (submitted_at desc, id desc). */
    async listSubmissions(filter: SubmissionFilter, limit: number, offset: number): Promise<SubmissionRow[]> {
      return db
        .select()
        .from(intakeSubmissions)
        .where(where(filter))
        .orderBy(desc(intakeSubmissions.submittedAt), desc(intakeSubmissions.id))
        .limit(limit)
        .offset(offset);
    },
    /** One submission; with `ownerId`, only if it is that user's (scoping in SQL). */
    async findSubmission(
      id: number,
      ownerId?: number,
      forUpdate = false,
    ): Promise<SubmissionRow | undefined> {
      const query = db
        .select()
        .from(intakeSubmissions)
        .where(
          and(
            eq(intakeSubmissions.id, id),
            ownerId === undefined ? undefined : eq(intakeSubmissions.userId, ownerId),
          ),
        )
        .limit(1);
      const rows = forUpdate ? await query.for('update') : await query;
      return rows[0];
    },
    /** Submissions still in the per-field format (keys:reencrypt, docs/privacy.md#one-envelope-per-row). */
    async countUnsealed(): Promise<number> {
      const rows = await db
        .select({ n: count() })
        .from(intakeSubmissions)
        .where(isNull(intakeSubmissions.sealed));
      return rows[0]?.n ?? 0;
    },
    async unsealedAfter(afterId: number, limit: number): Promise<{ id: number; ownerId: number }[]> {
      return db
        .select({ id: intakeSubmissions.id, ownerId: intakeSubmissions.userId })
        .from(intakeSubmissions)
        .where(and(isNull(intakeSubmissions.sealed), gt(intakeSubmissions.id, afterId)))
        .orderBy(asc(intakeSubmissions.id))
        .limit(limit);
    },
    /** Those of `ids` still unsealed, locked; rows a writer holds are skipped. */
    async lockUnsealed(ids: number[]): Promise<SubmissionRow[]> {
      return db
        .select()
        .from(intakeSubmissions)
        .where(and(inArray(intakeSubmissions.id, ids), isNull(intakeSubmissions.sealed)))
        .orderBy(asc(intakeSubmissions.id))
        .for('update', { skipLocked: true });
    },
    async updateSubmission(
      id: number,
      values: Partial<
        Pick<SubmissionRow, 'status' | 'reviewedBy' | 'reviewedAt' | 'sealed' | 'responses' | 'reviewNotes'>
      >,
    ): Promise<SubmissionRow> {
      const rows = await db
        .update(intakeSubmissions)
        .set(values)
        .where(eq(intakeSubmissions.id, id))
        .returning();
      const row = onlyRow(rows, 'update');
      return row;
    },
  };
}
export type IntakeRepo = ReturnType<typeof createIntakeRepo>;

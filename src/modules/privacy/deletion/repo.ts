import { and, desc, eq, inArray, lte, sql } from 'drizzle-orm';
import { onlyRow } from '../../../db/errors.js';
import { alias } from 'drizzle-orm/pg-core';
import type { DbOrTx } from '../../../db/client.js';
import { dataDeletionRequests, users } from '../../../db/schema.js';

export type DeletionRow = typeof dataDeletionRequests.$inferSelect;
/** A request with its reviewer's e-mail (one join, no per-row query). */
export type DeletionView = DeletionRow & { reviewedByEmail: string | null };

const reviewer = alias(users, 'reviewer');
const viewColumns = {
  row: dataDeletionRequests,
  reviewedByEmail: reviewer.email,
};

/**
 * Queries on data_deletion_requests (docs/privacy.md#deletion-requests), and the requester's user
 * row they lock or notify. Owner scoping is part of the WHERE clause.
 */
export function createDeletionRepo(db: DbOrTx) {
  const scope = (ownerId: number | undefined) =>
    ownerId === undefined ? undefined : eq(dataDeletionRequests.userId, ownerId);

  return {
    /**
     * Locks the requester's user row (serialises concurrent requests of one person, so only one
     * can be open) and returns their role.
     */
    async lockRequester(userId: number): Promise<{ id: number; role: string } | undefined> {
      const [me] = await db
        .select({ id: users.id, role: users.role })
        .from(users)
        .where(eq(users.id, userId))
        .for('update');
      return me;
    },
    /** Where the person's notices go; none once they are erased. */
    async recipient(userId: number): Promise<{ email: string; name: string } | undefined> {
      const [u] = await db
        .select({ email: users.email, name: users.firstName, anonymizedAt: users.anonymizedAt })
        .from(users)
        .where(eq(users.id, userId))
        .limit(1);
      return u && !u.anonymizedAt ? u : undefined;
    },
    /** The page of requests, newest first (`ownerId` undefined = all, for staff). */
    async page(ownerId: number | undefined, limit: number, offset: number): Promise<DeletionView[]> {
      const rows = await db
        .select(viewColumns)
        .from(dataDeletionRequests)
        .leftJoin(reviewer, eq(reviewer.id, dataDeletionRequests.reviewedBy))
        .where(scope(ownerId))
        .orderBy(desc(dataDeletionRequests.requestedAt), desc(dataDeletionRequests.id))
        .limit(limit)
        .offset(offset);
      return rows.map((r) => ({ ...r.row, reviewedByEmail: r.reviewedByEmail }));
    },
    async count(ownerId: number | undefined): Promise<number> {
      const rows = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(dataDeletionRequests)
        .where(scope(ownerId));
      return rows[0]?.n ?? 0;
    },
    async view(id: number): Promise<DeletionView | undefined> {
      const rows = await db
        .select(viewColumns)
        .from(dataDeletionRequests)
        .leftJoin(reviewer, eq(reviewer.id, dataDeletionRequests.reviewedBy))
        .where(eq(dataDeletionRequests.id, id))
        .limit(1);
      const r = rows[0];
      return r ? { ...r.row, reviewedByEmail: r.reviewedByEmail } : undefined;
    },
    /** Locks the request (and checks the owner when given) for a state change. */
    async lock(id: number, ownerId?: number): Promise<DeletionRow | undefined> {
      const rows = await db
        .select()
        .from(dataDeletionRequests)
        .where(and(eq(dataDeletionRequests.id, id), scope(ownerId)))
        .for('update')
        .limit(1);
      return rows[0];
    },
    /** A pending, or approved and not yet executed, request of the user. */
    async open(userId: number): Promise<DeletionRow | undefined> {
      const rows = await db
        .select()
        .from(dataDeletionRequests)
        .where(
          and(
            eq(dataDeletionRequests.userId, userId),
            inArray(dataDeletionRequests.status, ['pending', 'approved']),
          ),
        )
        .orderBy(desc(dataDeletionRequests.requestedAt))
        .limit(1);
      return rows[0];
    },
    async insert(values: typeof dataDeletionRequests.$inferInsert): Promise<DeletionRow> {
      const rows = await db.insert(dataDeletionRequests).values(values).returning();
      const row = onlyRow(rows, 'insert');
      return row;
    },
    async update(
      id: number,
      values: Partial<typeof dataDeletionRequests.$inferInsert>,
    ): Promise<DeletionRow> {
      const rows = await db
        .update(dataDeletionRequests)
        .set(values)
        .where(eq(dataDeletionRequests.id, id))
        .returning();
      const row = rows[0];
      if (!row) throw new Error(`deletion request ${id} vanished`);
      return row;
    },
    /** Approved requests whose grace period has passed, oldest first. */
    async due(now: Date, limit: number): Promise<DeletionRow[]> {
      return db
        .select()
        .from(dataDeletionRequests)
        .where(and(eq(dataDeletionRequests.status, 'approved'), lte(dataDeletionRequests.scheduledFor, now)))
        .orderBy(dataDeletionRequests.scheduledFor, dataDeletionRequests.id)
        .limit(limit);
    },
    /** Completed requests past their retention date (docs/privacy.md#retention). */
    async purgeExpired(now: Date): Promise<number> {
      const rows = await db
        .delete(dataDeletionRequests)
        .where(
          and(eq(dataDeletionRequests.status, 'completed'), lte(dataDeletionRequests.retentionUntil, now)),
        )
        .returning({ id: dataDeletionRequests.id });
      return rows.length;
    },
  };
}

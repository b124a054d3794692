import { and, count, desc, eq, gt, inArray, isNotNull, lte, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../../db/client.js';
import { dataExportRequests, users } from '../../../db/schema.js';

export type ExportRow = typeof dataExportRequests.$inferSelect;
export type ExportInsert = typeof dataExportRequests.$inferInsert;

/** What a download serves: whose document it is, the ciphertext, and when it was built. */
export interface ServedExport {
  userId: number;
  document: string | null;
  completedAt: Date | null;
}

const served = {
  userId: dataExportRequests.userId,
  document: dataExportRequests.document,
  completedAt: dataExportRequests.completedAt,
};

/** Completed, with a document, not expired at `now`. */
const servable = (id: number, now: Date) =>
  and(
    eq(dataExportRequests.id, id),
    eq(dataExportRequests.status, 'completed'),
    isNotNull(dataExportRequests.document),
    gt(dataExportRequests.expiresAt, now),
  );
const bump = sql`${dataExportRequests.downloadCount} + 1`;

/** Queries on data_export_requests (docs/privacy.md#data-export). Owner scoping is in the WHERE clause. */
export function createExportRepo(db: DbOrTx) {
  const own = (userId: number) => eq(dataExportRequests.userId, userId);
  return {
    async insertReturningId(values: ExportInsert): Promise<{ id: number } | undefined> {
      const [row] = await db
        .insert(dataExportRequests)
        .values(values)
        .returning({ id: dataExportRequests.id });
      return row;
    },
    async insertReturningRow(values: ExportInsert): Promise<ExportRow | undefined> {
      const [row] = await db.insert(dataExportRequests).values(values).returning();
      return row;
    },
    async update(id: number, values: Partial<ExportInsert>): Promise<void> {
      await db.update(dataExportRequests).set(values).where(eq(dataExportRequests.id, id));
    },
    /**
     * Locks the requester's user row: serialises concurrent requests of one person, so the
     * one-in-progress rule holds.
     */
    async lockRequester(userId: number): Promise<void> {
      await db.select({ id: users.id }).from(users).where(eq(users.id, userId)).for('update');
    },
    /** The person's pending or processing export, if any. */
    async inProgress(userId: number): Promise<{ id: number } | undefined> {
      const [busy] = await db
        .select({ id: dataExportRequests.id })
        .from(dataExportRequests)
        .where(and(own(userId), inArray(dataExportRequests.status, ['pending', 'processing'])))
        .orderBy(desc(dataExportRequests.requestedAt))
        .limit(1);
      return busy;
    },
    /** The person's requests, newest first. */
    async page(userId: number, limit: number, offset: number): Promise<ExportRow[]> {
      return db
        .select()
        .from(dataExportRequests)
        .where(own(userId))
        .orderBy(desc(dataExportRequests.requestedAt), desc(dataExportRequests.id))
        .limit(limit)
        .offset(offset);
    },
    async count(userId: number): Promise<number> {
      return (await db.select({ n: count() }).from(dataExportRequests).where(own(userId)))[0]?.n ?? 0;
    },
    async findOwn(id: number, userId: number): Promise<ExportRow | undefined> {
      const [row] = await db
        .select()
        .from(dataExportRequests)
        .where(and(eq(dataExportRequests.id, id), own(userId)))
        .limit(1);
      return row;
    },
    /** Serves the owner's servable document (download count + 1); none when not theirs or not servable. */
    async serveToOwner(id: number, userId: number, now: Date): Promise<ServedExport[]> {
      return db
        .update(dataExportRequests)
        .set({ downloadCount: bump })
        .where(and(servable(id, now), own(userId)))
        .returning(served);
    },
    /**
     * Serves a servable document to the holder of its download token, ONCE: the token's hash is
     * cleared in the same statement.
     */
    async serveWithToken(id: number, tokenHash: string, now: Date): Promise<ServedExport[]> {
      return db
        .update(dataExportRequests)
        .set({ downloadCount: bump, downloadTokenHash: null })
        .where(and(servable(id, now), eq(dataExportRequests.downloadTokenHash, tokenHash)))
        .returning(served);
    },
    /**
     * Claims the oldest pending job for the caller's transaction (`FOR UPDATE SKIP LOCKED`).
     * PRIVACY: the person's row is locked too (as by every writer about them), skipping anyone
     * being erased: the job never waits on nor deadlocks with an erasure, which deletes the job.
     */
    async claimNextPending(): Promise<{ id: number; userId: number } | undefined> {
      const claim = await db.execute(sql`
        select r.id, r.user_id from data_export_requests r join users u on u.id = r.user_id
        where r.status = 'pending' order by r.requested_at, r.id limit 1
        for update of r skip locked for key share of u skip locked`);
      const first = (claim as { rows: { id: number | string; user_id: number | string }[] }).rows[0];
      return first ? { id: Number(first.id), userId: Number(first.user_id) } : undefined;
    },
    /** Marks a job failed unless another run has moved it on. */
    async failIfPending(id: number, errorMessage: string): Promise<void> {
      await db
        .update(dataExportRequests)
        .set({ status: 'failed', errorMessage })
        .where(and(eq(dataExportRequests.id, id), eq(dataExportRequests.status, 'pending')));
    },
    /** Removes documents (and their download tokens) expired at `now`; the rows stay. */
    async clearExpiredDocuments(now: Date): Promise<{ id: number; userId: number }[]> {
      return db
        .update(dataExportRequests)
        .set({ document: null, downloadTokenHash: null })
        .where(and(isNotNull(dataExportRequests.document), lte(dataExportRequests.expiresAt, now)))
        .returning({ id: dataExportRequests.id, userId: dataExportRequests.userId });
    },
  };
}

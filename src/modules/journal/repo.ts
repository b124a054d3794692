import { and, asc, count, desc, eq, gt, gte, inArray, isNull, lte, ne, sql, type SQL } from 'drizzle-orm';
import { onlyRow } from '../../db/errors.js';
import type { DbOrTx, Tx } from '../../db/client.js';
import { insertForLiveSubject } from '../../db/live-insert.js';
import { builtOnce, UNNAMED } from '../../db/prepared.js';
import { journalEntries } from '../../db/schema.js';
import type { Mood } from './types.js';

export type EntryRow = typeof journalEntries.$inferSelect;
export type EntryInsert = typeof journalEntries.$inferInsert;

/** Which entries a query may see and the list filters. `ownerId` undefined = every owner (staff). */
export interface EntryScope {
  ownerId?: number | undefined;
  dateFrom?: string | undefined;
  dateTo?: string | undefined;
  mood?: Mood | undefined;
}

export interface EntryStatsRow {
  total: number;
  lastDate: string | null;
  recentBarriers: number;
  avgEnergy: number | null;
}

/** SECURITY: owner scoping is part of every WHERE clause, never a filter after the query. */
function where(scope: EntryScope): SQL | undefined {
  return and(
    scope.ownerId === undefined ? undefined : eq(journalEntries.userId, scope.ownerId),
    scope.dateFrom === undefined ? undefined : gte(journalEntries.date, scope.dateFrom),
    scope.dateTo === undefined ? undefined : lte(journalEntries.date, scope.dateTo),
    scope.mood === undefined ? undefined : eq(journalEntries.mood, scope.mood),
  );
}

/** Only the owner given: a candidate's own journal, the hot read. */
const ownerOnly = (scope: EntryScope): scope is { ownerId: number } =>
  scope.ownerId !== undefined &&
  scope.dateFrom === undefined &&
  scope.dateTo === undefined &&
  scope.mood === undefined;

/** The hot page and its count, built once (docs/operations.md#statements-per-request). */
const ownPageQueries = builtOnce((db) => {
  const owner = eq(journalEntries.userId, sql.placeholder('owner'));
  return {
    count: db.select({ n: count() }).from(journalEntries).where(owner).prepare(UNNAMED),
    page: db
      .select()
      .from(journalEntries)
      .where(owner)
      .orderBy(desc(journalEntries.date), desc(journalEntries.id))
      .limit(sql.placeholder('limit'))
      .offset(sql.placeholder('offset'))
      .prepare(UNNAMED),
  };
});

/** Queries on journal entries. Returns rows (ciphertext), never response objects. */
export function createJournalRepo(db: DbOrTx) {
  return {
    async count(scope: EntryScope): Promise<number> {
      const rows = ownerOnly(scope)
        ? await ownPageQueries(db).count.execute({ owner: scope.ownerId })
        : await db.select({ n: count() }).from(journalEntries).where(where(scope));
      return rows[0]?.n ?? 0;
    },
    /** A page in the contract's order: `date` desc, then `id` desc. */
    async page(scope: EntryScope, limit: number, offset: number): Promise<EntryRow[]> {
      if (ownerOnly(scope)) return ownPageQueries(db).page.execute({ owner: scope.ownerId, limit, offset });
      return db
        .select()
        .from(journalEntries)
        .where(where(scope))
        .orderBy(desc(journalEntries.date), desc(journalEntries.id))
        .limit(limit)
        .offset(offset);
    },
    /** The entry if it exists and is within the scope (a candidate's own), else undefined. */
    async findVisible(id: number, ownerId: number | undefined, opts: { forUpdate?: boolean } = {}) {
      const query = db
        .select()
        .from(journalEntries)
        .where(and(eq(journalEntries.id, id), where({ ownerId })))
        .limit(1);
      const rows = opts.forUpdate ? await query.for('update') : await query;
      return rows[0];
    },
    /** Whether the owner has another entry on that date (the unique (user, date) rule). */
    async dateTaken(ownerId: number, date: string, exceptId?: number): Promise<boolean> {
      const rows = await db
        .select({ id: journalEntries.id })
        .from(journalEntries)
        .where(
          and(
            eq(journalEntries.userId, ownerId),
            eq(journalEntries.date, date),
            exceptId === undefined ? undefined : ne(journalEntries.id, exceptId),
          ),
        )
        .limit(1);
      return rows.length > 0;
    },
    /**
     * Inserts the entry while its owner is live (locked by this very statement) and their date is
     * free (the unique (user, date) index); undefined when either is not so.
     */
    async insertForLiveOwner(values: Required<EntryInsert>): Promise<EntryRow | undefined> {
      return insertForLiveSubject(db as Tx, journalEntries, values.userId, values, [
        journalEntries.userId,
        journalEntries.date,
      ]);
    },
    async update(id: number, values: Partial<EntryInsert>): Promise<EntryRow> {
      const rows = await db.update(journalEntries).set(values).where(eq(journalEntries.id, id)).returning();
      const row = onlyRow(rows, 'update');
      return row;
    },
    async remove(id: number): Promise<void> {
      await db.delete(journalEntries).where(eq(journalEntries.id, id));
    },
    /** Entries still in the per-field format (keys:reencrypt, docs/privacy.md#one-envelope-per-row). */
    async countUnsealed(): Promise<number> {
      const rows = await db.select({ n: count() }).from(journalEntries).where(isNull(journalEntries.sealed));
      return rows[0]?.n ?? 0;
    },
    async unsealedAfter(afterId: number, limit: number): Promise<{ id: number; ownerId: number }[]> {
      return db
        .select({ id: journalEntries.id, ownerId: journalEntries.userId })
        .from(journalEntries)
        .where(and(isNull(journalEntries.sealed), gt(journalEntries.id, afterId)))
        .orderBy(asc(journalEntries.id))
        .limit(limit);
    },
    /** Those of `ids` still unsealed, locked; rows a writer holds are skipped. */
    async lockUnsealed(ids: number[]): Promise<EntryRow[]> {
      return db
        .select()
        .from(journalEntries)
        .where(and(inArray(journalEntries.id, ids), isNull(journalEntries.sealed)))
        .orderBy(asc(journalEntries.id))
        .for('update', { skipLocked: true });
    },
    /** Count, latest date, barriers since `since` and mean energy in one aggregate query. */
    async stats(ownerId: number | undefined, since: string): Promise<EntryStatsRow> {
      const rows = await db
        .select({
          total: count(),
          lastDate: sql<string | null>`max(${journalEntries.date})::text`,
          recentBarriers: sql<
            string | number
          >`coalesce(sum(${journalEntries.barrierCount}) filter (where ${journalEntries.date} >= ${since}), 0)::bigint`,
          avgEnergy: sql<number | string | null>`avg(${journalEntries.energyLevel})::float8`,
        })
        .from(journalEntries)
        .where(where({ ownerId }));
      const row = rows[0];
      return {
        total: row?.total ?? 0,
        lastDate: row?.lastDate ?? null,
        recentBarriers: Number(row?.recentBarriers ?? 0),
        avgEnergy: row?.avgEnergy === null || row?.avgEnergy === undefined ? null : Number(row.avgEnergy),
      };
    },
  };
}
export type JournalRepo = ReturnType<typeof createJournalRepo>;

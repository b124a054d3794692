import { and, asc, count, desc, eq, gt, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import { onlyRow } from '../../db/errors.js';
import type { DbOrTx } from '../../db/client.js';
import { adminNotes, users } from '../../db/schema.js';
import type { NoteCategory } from './input.js';

export type NoteRow = typeof adminNotes.$inferSelect;
export type NoteInsert = typeof adminNotes.$inferInsert;

/** Which notes a query may see, and the list filters. `subjectId` undefined = every candidate (staff). */
export interface NoteScope {
  subjectId?: number | undefined;
  candidateId?: number | undefined;
  /** `admin-notes/candidate/<id>/`: ANDed with the `?candidate=` filter. */
  pathCandidateId?: number | undefined;
  category?: NoteCategory | undefined;
  isImportant?: boolean | undefined;
  tag?: string | undefined;
}

/** SECURITY: the candidate's own scope is part of every WHERE clause, never a filter afterwards. */
function where(scope: NoteScope): SQL | undefined {
  return and(
    scope.subjectId === undefined ? undefined : eq(adminNotes.candidateId, scope.subjectId),
    scope.candidateId === undefined ? undefined : eq(adminNotes.candidateId, scope.candidateId),
    scope.pathCandidateId === undefined ? undefined : eq(adminNotes.candidateId, scope.pathCandidateId),
    scope.category === undefined ? undefined : eq(adminNotes.category, scope.category),
    scope.isImportant === undefined ? undefined : eq(adminNotes.isImportant, scope.isImportant),
    scope.tag === undefined ? undefined : sql`${adminNotes.tags} @> ${JSON.stringify([scope.tag])}::jsonb`,
  );
}

/** Queries on admin notes. Returns rows (ciphertext), never response objects. */
export function createNoteRepo(db: DbOrTx) {
  return {
    async count(scope: NoteScope): Promise<number> {
      const rows = await db.select({ n: count() }).from(adminNotes).where(where(scope));
      return rows[0]?.n ?? 0;
    },
    /** A page in the contract's order: `created_at` desc, then `id` desc. */
    async page(scope: NoteScope, limit: number, offset: number): Promise<NoteRow[]> {
      return db
        .select()
        .from(adminNotes)
        .where(where(scope))
        .orderBy(desc(adminNotes.createdAt), desc(adminNotes.id))
        .limit(limit)
        .offset(offset);
    },
    /** The note if it exists and is within the scope (about the candidate), else undefined. */
    async findVisible(id: number, subjectId: number | undefined, opts: { forUpdate?: boolean } = {}) {
      const query = db
        .select()
        .from(adminNotes)
        .where(and(eq(adminNotes.id, id), where({ subjectId })))
        .limit(1);
      const rows = opts.forUpdate ? await query.for('update') : await query;
      return rows[0];
    },
    async insert(values: NoteInsert): Promise<NoteRow> {
      const rows = await db.insert(adminNotes).values(values).returning();
      const row = onlyRow(rows, 'insert');
      return row;
    },
    async update(id: number, values: Partial<NoteInsert>): Promise<NoteRow> {
      const rows = await db.update(adminNotes).set(values).where(eq(adminNotes.id, id)).returning();
      const row = onlyRow(rows, 'update');
      return row;
    },
    async remove(id: number): Promise<void> {
      await db.delete(adminNotes).where(eq(adminNotes.id, id));
    },
    /** Notes still in the per-field format (keys:reencrypt, docs/privacy.md#one-envelope-per-row). */
    async countUnsealed(): Promise<number> {
      const rows = await db.select({ n: count() }).from(adminNotes).where(isNull(adminNotes.sealed));
      return rows[0]?.n ?? 0;
    },
    async unsealedAfter(afterId: number, limit: number): Promise<{ id: number; ownerId: number }[]> {
      return db
        .select({ id: adminNotes.id, ownerId: adminNotes.candidateId })
        .from(adminNotes)
        .where(and(isNull(adminNotes.sealed), gt(adminNotes.id, afterId)))
        .orderBy(asc(adminNotes.id))
        .limit(limit);
    },
    /** Those of `ids` still unsealed, locked; rows a writer holds are skipped. */
    async lockUnsealed(ids: number[]): Promise<NoteRow[]> {
      return db
        .select()
        .from(adminNotes)
        .where(and(inArray(adminNotes.id, ids), isNull(adminNotes.sealed)))
        .orderBy(asc(adminNotes.id))
        .for('update', { skipLocked: true });
    },
    /** The role of a user, or undefined when there is no such user (to check a note's `candidate`). */
    async userRole(id: number): Promise<(typeof users.$inferSelect)['role'] | undefined> {
      const rows = await db.select({ role: users.role }).from(users).where(eq(users.id, id)).limit(1);
      return rows[0]?.role;
    },
  };
}

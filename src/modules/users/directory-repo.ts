import { and, asc, eq, ilike, inArray, or, type SQL, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { userProfiles, users } from '../../db/schema.js';
import type { Role } from '../../lib/actor.js';
import { escapeText } from '../../lib/escape.js';
import { likeContains } from '../../lib/sql-like.js';
import type { UserRow } from './repo.js';

/** Filters of the user lists; every one narrows in SQL. */
export interface UserListFilter {
  role?: Role;
  isActive?: boolean;
  /** Substring of e-mail, first or last name, case-insensitive. */
  search?: string;
  /** Blind index of an ID number (exact match). */
  idNumberIndex?: string;
}

function whereOf(db: DbOrTx, f: UserListFilter): SQL | undefined {
  const conditions: SQL[] = [];
  if (f.role) conditions.push(eq(users.role, f.role));
  if (f.isActive !== undefined) conditions.push(eq(users.isActive, f.isActive));
  if (f.search) {
    const term = f.search.trim();
    // E-mails are stored lower-cased; names are stored HTML-escaped, so the term is escaped alike.
    const emailPattern = likeContains(term.toLowerCase());
    const namePattern = likeContains(escapeText(term));
    const anyOf = or(
      ilike(users.email, emailPattern),
      ilike(users.firstName, namePattern),
      ilike(users.lastName, namePattern),
    );
    if (anyOf) conditions.push(anyOf);
  }
  if (f.idNumberIndex) {
    const owners = db
      .select({ id: userProfiles.userId })
      .from(userProfiles)
      .where(eq(userProfiles.idNumberIndex, f.idNumberIndex));
    conditions.push(inArray(users.id, owners));
  }
  return conditions.length ? and(...conditions) : undefined;
}

/** List queries over users: one count and one page of ids, whatever the page size. */
export function createUserDirectory(db: DbOrTx) {
  return {
    async count(f: UserListFilter): Promise<number> {
      const rows = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(users)
        .where(whereOf(db, f));
      return rows[0]?.n ?? 0;
    },
    async pageIds(f: UserListFilter, limit: number, offset: number): Promise<number[]> {
      const rows = await db
        .select({ id: users.id })
        .from(users)
        .where(whereOf(db, f))
        .orderBy(asc(users.id))
        .limit(limit)
        .offset(offset);
      return rows.map((r) => r.id);
    },
    /** One user, limited to `scope` (a candidate's own id) when given: owner scoping in SQL. */
    async findVisible(id: number, scope: number | undefined): Promise<UserRow | undefined> {
      const where = scope === undefined ? eq(users.id, id) : and(eq(users.id, id), eq(users.id, scope));
      const rows = await db.select().from(users).where(where).limit(1);
      return rows[0];
    },
    /** Locks the active superusers' rows (last-superuser check) and returns their ids. */
    async lockActiveSuperusers(): Promise<number[]> {
      const rows = await db
        .select({ id: users.id })
        .from(users)
        .where(and(eq(users.role, 'superuser'), eq(users.isActive, true)))
        .for('update');
      return rows.map((r) => r.id);
    },
  };
}

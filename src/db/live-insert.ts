import { and, eq, getTableColumns, isNull, sql, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Tx } from './client.js';
import { users } from './schema.js';

/**
 * One statement that inserts a row about a person only while that person is live, and only if the
 * row does not collide with a unique key (docs/privacy.md#erasure-is-final): the person's user row is
 * taken `FOR KEY SHARE` by the very insert, as `lockLiveSubject` would in a statement of its own, and
 * a conflict inserts nothing instead of failing the transaction. `undefined` when nothing was
 * inserted: the caller tells which (the person is gone, or the unique key is taken).
 *
 * Every column must be given (an INSERT … SELECT lists them all, in table order).
 */
export async function insertForLiveSubject<T extends PgTable>(
  tx: Tx,
  table: T,
  subjectId: number,
  values: Required<T['$inferInsert']>,
  conflictTarget: PgColumn[],
): Promise<T['$inferSelect'] | undefined> {
  const given = values as Record<string, unknown>;
  const fields: Record<string, SQL.Aliased> = {};
  for (const [key, column] of Object.entries(getTableColumns(table))) {
    if (!(key in given)) throw new Error(`insertForLiveSubject: no value for ${key}`);
    fields[key] = sql`${sql.param(given[key], column)}::${sql.raw(column.getSQLType())}`.as(column.name);
  }
  const live = tx
    .select(fields)
    .from(users)
    .where(and(eq(users.id, subjectId), isNull(users.anonymizedAt)))
    .for('key share', { of: users });
  const rows = (await tx
    .insert(table)
    .select(live as never)
    .onConflictDoNothing({ target: conflictTarget })
    .returning()) as T['$inferSelect'][];
  return rows[0];
}

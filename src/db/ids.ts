import { sql } from 'drizzle-orm';
import type { DbOrTx } from './client.js';

/**
 * Reserves the next id of a table before its insert, so encrypted columns can be bound to their
 * row id (associated data) in the very insert that creates the row.
 */
export async function reserveId(
  db: DbOrTx,
  table: 'journal_entries' | 'admin_notes' | 'intake_submissions',
): Promise<number> {
  const result = await db.execute(sql`select nextval(pg_get_serial_sequence(${table}, 'id'))::bigint as id`);
  const rows = (result as { rows: { id: string | number }[] }).rows;
  const id = Number(rows[0]?.id);
  if (!Number.isSafeInteger(id)) throw new Error(`could not reserve an id for ${table}`);
  return id;
}

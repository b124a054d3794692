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

/**
 * Ids reserved ahead, a block at a time, so an insert that binds its ciphertext to its row id needs
 * no statement of its own to learn it (docs/operations.md#statements-per-request). Ids are unique,
 * not consecutive: a block is shared by nobody, and what a stopped process did not use is a gap
 * (sequences have gaps anyway). Lists that break ties by id (journal: date, then id) stay stable;
 * among entries of one date by different people, id order is not creation order.
 */
export function createIdPool(db: DbOrTx, table: 'journal_entries', blockSize = 64) {
  const ready: number[] = [];
  let refill: Promise<void> | null = null;
  async function reserveBlock(): Promise<void> {
    const result = await db.execute(
      sql`select nextval(pg_get_serial_sequence(${table}, 'id'))::bigint as id from generate_series(1, ${blockSize})`,
    );
    const ids = (result as { rows: { id: string | number }[] }).rows.map((r) => Number(r.id));
    if (ids.length !== blockSize || !ids.every(Number.isSafeInteger)) {
      throw new Error(`could not reserve ids for ${table}`);
    }
    ready.push(...ids.sort((x, y) => y - x));
  }
  return {
    async next(): Promise<number> {
      for (;;) {
        const id = ready.pop();
        if (id !== undefined) return id;
        refill ??= reserveBlock().finally(() => {
          refill = null;
        });
        await refill;
      }
    },
  };
}
export type IdPool = ReturnType<typeof createIdPool>;

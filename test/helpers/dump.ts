import { sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../src/db/client.js';

/** Raw SQL rows (PGlite and node-postgres results both carry `rows`). */
export async function rawRows<T = Record<string, unknown>>(db: DbOrTx, query: SQL): Promise<T[]> {
  const result: unknown = await db.execute(query);
  return (result as { rows: T[] }).rows;
}

/** Every row of every table of the public schema: table name → its rows, one JSON line each. */
export async function rawDump(db: DbOrTx): Promise<Map<string, string>> {
  const tables = await rawRows<{ table_name: string }>(
    db,
    sql`select table_name from information_schema.tables where table_schema = 'public'`,
  );
  const out = new Map<string, string>();
  const text = (_k: string, v: unknown): unknown => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Uint8Array)
      return `${Buffer.from(v).toString('hex')} ${Buffer.from(v).toString('latin1')}`;
    return v;
  };
  for (const { table_name: name } of tables) {
    const all = await rawRows(db, sql`select * from ${sql.identifier(name)}`);
    out.set(name, all.map((r) => JSON.stringify(r, text)).join('\n'));
  }
  return out;
}

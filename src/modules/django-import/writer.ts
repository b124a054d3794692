import { createHmac, hkdfSync } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { quote } from './source.js';

/**
 * Writing batches into this service's tables: one statement per batch, the rows passed as one JSON
 * parameter and expanded by `json_to_recordset` (the same on PostgreSQL and the embedded PGlite, with
 * no limit on parameters). Timestamps travel as the source's text, so microseconds are kept.
 */
export interface Column {
  name: string;
  /** PostgreSQL type of the column (enum types included). */
  type: string;
}

export type TargetRow = Record<string, unknown>;

/** The rows of a raw statement's result (node-postgres and PGlite both answer `{ rows }`). */
export function rowsOf<T>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}

/**
 * Inserts the rows, or updates those whose `key` already exists (a row that changed in the source
 * since the last import). `update: false` leaves existing rows alone.
 */
export async function upsertRows(
  db: DbOrTx,
  table: string,
  columns: readonly Column[],
  rows: readonly TargetRow[],
  opts: { key?: readonly string[]; update?: boolean } = {},
): Promise<void> {
  if (rows.length === 0) return;
  const key = opts.key ?? ['id'];
  const names = columns.map((c) => quote(c.name)).join(', ');
  const shape = columns.map((c) => `${quote(c.name)} ${c.type}`).join(', ');
  const updates = columns
    .filter((c) => !key.includes(c.name))
    .map((c) => `${quote(c.name)} = excluded.${quote(c.name)}`)
    .join(', ');
  const conflict =
    opts.update === false || updates === ''
      ? `on conflict (${key.map(quote).join(', ')}) do nothing`
      : `on conflict (${key.map(quote).join(', ')}) do update set ${updates}`;
  await db.execute(
    sql`${sql.raw(`insert into ${quote(table)} (${names}) select ${names} from json_to_recordset(`)}${JSON.stringify(
      rows,
    )}${sql.raw(`::json) as x(${shape}) ${conflict}`)}`,
  );
}

/** Moves a table's id sequence past the largest id, so rows created later do not collide. */
export async function bumpSequence(db: DbOrTx, table: string): Promise<void> {
  await db.execute(
    sql.raw(
      `select setval(pg_get_serial_sequence('${table}', 'id'), coalesce((select max(id) from ${quote(table)}), 0) + 1, false)`,
    ),
  );
}

/**
 * A keyed digest of a source row as read (its values never leave memory): equal digests mean an
 * unchanged row. Keyed by a sub-key of BLIND_INDEX_KEY, so the ledger cannot be used to guess the
 * values of low-entropy fields.
 */
export function createRowDigest(blindIndexKey: Buffer) {
  const key = Buffer.from(hkdfSync('sha256', blindIndexKey, Buffer.alloc(0), 'pss/django-import/v1', 32));
  return (row: Record<string, unknown>): string =>
    createHmac('sha256', key).update(JSON.stringify(row)).digest('hex').slice(0, 32);
}

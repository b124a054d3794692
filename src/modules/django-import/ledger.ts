import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { rowsOf, upsertRows } from './writer.js';

/**
 * `django_import_rows`: which source rows were written here, under which id, and the digest of the
 * source row then. A second run skips unchanged rows, so it changes nothing; an interrupted run left
 * whole batches (rows and ledger committed together) and the next run goes on from there.
 */
export interface LedgerEntry {
  sourceId: number;
  targetId: number;
  digest: string;
}

const LEDGER_COLUMNS = [
  { name: 'source_table', type: 'varchar' },
  { name: 'source_id', type: 'bigint' },
  { name: 'target_id', type: 'bigint' },
  { name: 'digest', type: 'varchar' },
  { name: 'imported_at', type: 'timestamptz' },
] as const;

export async function readLedger(
  db: DbOrTx,
  table: string,
  sourceIds: readonly number[],
): Promise<Map<number, LedgerEntry>> {
  const out = new Map<number, LedgerEntry>();
  if (sourceIds.length === 0) return out;
  const result = await db.execute(
    sql`select source_id, target_id, digest from django_import_rows
         where source_table = ${table} and source_id in (select value::bigint from json_array_elements_text(${JSON.stringify(sourceIds)}::json))`,
  );
  for (const r of rowsOf<{ source_id: string | number; target_id: string | number; digest: string }>(
    result,
  )) {
    out.set(Number(r.source_id), {
      sourceId: Number(r.source_id),
      targetId: Number(r.target_id),
      digest: r.digest,
    });
  }
  return out;
}

export async function writeLedger(
  db: DbOrTx,
  table: string,
  entries: readonly LedgerEntry[],
  at: Date,
): Promise<void> {
  await upsertRows(
    db,
    'django_import_rows',
    LEDGER_COLUMNS,
    entries.map((e) => ({
      source_table: table,
      source_id: e.sourceId,
      target_id: e.targetId,
      digest: e.digest,
      imported_at: at.toISOString(),
    })),
    { key: ['source_table', 'source_id'] },
  );
}

/** How many rows of each source table are in the ledger (the report of a run that writes nothing). */
export async function ledgerCount(db: DbOrTx, table: string): Promise<number> {
  const result = await db.execute(
    sql`select count(*) as n from django_import_rows where source_table = ${table}`,
  );
  return Number(rowsOf<{ n: string | number }>(result)[0]?.n ?? 0);
}

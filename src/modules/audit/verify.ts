import { asc, gt, isNull, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { auditLog } from '../../db/schema.js';

/** Rows read per query while walking the chain. */
export const VERIFY_BATCH_SIZE = 1000;

export interface BrokenLink {
  /** Position in the chain (null: a row outside the chain). */
  seq: number | null;
  id: number;
  problem: string;
}

interface ChainRow {
  id: number;
  seq: number | null;
  prevHash: string | null;
  hash: string | null;
  intact: boolean;
}

export interface ChainVerification {
  ok: boolean;
  /** Entries checked (up to and including the first broken one). */
  checked: number;
  firstBroken?: BrokenLink;
}

/**
 * Walks the audit log's hash chain in `seq` order (spec privacy.md §6, migrations/0004): each
 * entry's `hash` must equal `audit_log_digest(entry)` (computed by the database, over the entry's
 * content and `prev_hash`), and each `prev_hash` the previous entry's `hash`. The first remaining
 * entry may point to an entry removed by the retention purge.
 */
export async function verifyAuditChain(
  db: DbOrTx,
  batchSize = VERIFY_BATCH_SIZE,
): Promise<ChainVerification> {
  // Rows added with the chain trigger disabled have no place in the chain.
  const [outside] = await db.select({ id: auditLog.id }).from(auditLog).where(isNull(auditLog.seq)).limit(1);
  if (outside) {
    return {
      ok: false,
      checked: 0,
      firstBroken: { seq: null, id: outside.id, problem: 'entry is outside the chain (no seq)' },
    };
  }

  let checked = 0;
  let previous: { seq: number; hash: string | null } | null = null;
  for (;;) {
    const rows: ChainRow[] = await db
      .select({
        id: auditLog.id,
        seq: auditLog.seq,
        prevHash: auditLog.prevHash,
        hash: auditLog.hash,
        intact: sql<boolean>`${auditLog.hash} is not distinct from audit_log_digest(audit_log)`,
      })
      .from(auditLog)
      .where(previous ? gt(auditLog.seq, previous.seq) : undefined)
      .orderBy(asc(auditLog.seq))
      .limit(batchSize);
    for (const row of rows) {
      checked += 1;
      const seq: number = row.seq ?? 0;
      const broken = (problem: string): ChainVerification => ({
        ok: false,
        checked,
        firstBroken: { seq, id: row.id, problem },
      });
      if (row.hash === null || !row.intact) {
        return broken('hash does not match the entry (content changed)');
      }
      if (previous) {
        if (seq !== previous.seq + 1) {
          return broken(`seq does not follow ${String(previous.seq)} (entries removed)`);
        }
        if (row.prevHash !== previous.hash) {
          return broken(`prev_hash does not match the hash of seq ${String(previous.seq)}`);
        }
      }
      previous = { seq, hash: row.hash };
    }
    if (rows.length < batchSize) return { ok: true, checked };
  }
}

import type { DbOrTx } from '../../db/client.js';
import { type ChainRow, createAuditRepo } from './repo.js';

/** Rows read per query while walking the chain. */
export const VERIFY_BATCH_SIZE = 1000;

export interface BrokenLink {
  /** Position in the chain (null: a row outside the chain). */
  seq: number | null;
  id: number;
  problem: string;
}

export interface ChainVerification {
  ok: boolean;
  /** Entries checked (up to and including the first broken one). */
  checked: number;
  firstBroken?: BrokenLink;
}

/**
 * Walks the audit log's hash chain in `seq` order (docs/privacy.md#append-only-chain, migrations/0004): each
 * entry's `hash` must equal `audit_log_digest(entry)` (computed by the database, over the entry's
 * content and `prev_hash`), and each `prev_hash` the previous entry's `hash`. The first remaining
 * entry may point to an entry removed by the retention purge.
 */
export async function verifyAuditChain(
  db: DbOrTx,
  batchSize = VERIFY_BATCH_SIZE,
): Promise<ChainVerification> {
  const repo = createAuditRepo(db);
  // Rows added with the chain trigger disabled have no place in the chain.
  const outside = await repo.firstOutsideChain();
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
    const rows: ChainRow[] = await repo.chainBatch(previous ? previous.seq : null, batchSize);
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

import type { Db, DbOrTx } from '../../db/client.js';
import { createChainRepo } from './chain-repo.js';
import { recordAudit } from './recorder.js';
import { createAuditRepo } from './repo.js';

const DAY_MS = 86_400_000;

export interface AuditPurgeOptions {
  retentionDays: number;
  dryRun: boolean;
}

export interface AuditPurgeResult {
  cutoff: Date;
  /** Entries removed (or, in a dry run, that would be). */
  deleted: number;
  /** Seq of the first sealed entry that stays (null when nothing is sealed and signed yet). */
  firstKeptSeq: number | null;
}

export interface AuditPurgeDeps {
  db: Db;
  now: () => Date;
}

/**
 * Retention purge of the audit log (docs/privacy.md#retention, #append-only-chain;
 * docs/operations.md#command-line `audit:purge`): removes the entries older than the retention.
 * SECURITY: the append-only trigger lets DELETE through only in a transaction that set
 * `pss.audit_purge`, and only for sealed entries before the chain's head. Only the chain's PREFIX
 * is removed (every entry before the first one inside the retention, never the head), so what
 * remains is one unbroken chain ending at its last checkpoint; an older entry sealed after a newer
 * one, and every unsealed entry, waits for a later purge. Checkpoints naming removed entries go
 * too. The purge itself is audited (system).
 */
export async function purgeAuditLog(
  { db, now }: AuditPurgeDeps,
  opts: AuditPurgeOptions,
): Promise<AuditPurgeResult> {
  const cutoff = new Date(now().getTime() - opts.retentionDays * DAY_MS);

  if (opts.dryRun) {
    const keepFrom = await firstKept(db, cutoff);
    const deleted = keepFrom === null ? 0 : await createAuditRepo(db).countPurgeable(cutoff, keepFrom);
    return { cutoff, deleted, firstKeptSeq: keepFrom };
  }

  return db.transaction(async (tx) => {
    const repo = createAuditRepo(tx);
    await repo.allowPurge();
    const keepFrom = await firstKept(tx, cutoff);
    const { deleted, throughSeq } =
      keepFrom === null ? { deleted: 0, throughSeq: null } : await repo.deletePurgeable(cutoff, keepFrom);
    if (keepFrom !== null) await createChainRepo(tx).pruneCheckpointsBefore(keepFrom);
    await recordAudit(
      tx,
      { actor: null, meta: null },
      {
        action: 'audit_purged',
        resourceType: 'audit_log',
        metadata: {
          retention_days: opts.retentionDays,
          cutoff: cutoff.toISOString(),
          deleted,
          through_seq: throughSeq,
        },
      },
    );
    return { cutoff, deleted, firstKeptSeq: keepFrom };
  });
}

/**
 * The seq of the first entry that stays: the first sealed one inside the retention, or the head
 * (last checkpoint) when it comes first; null when nothing is signed yet (nothing may go).
 */
async function firstKept(db: DbOrTx, cutoff: Date): Promise<number | null> {
  const head = (await createChainRepo(db).latestCheckpoint())?.seq ?? null;
  if (head === null) return null;
  const inside = await createAuditRepo(db).firstSeqFrom(cutoff);
  return inside === null ? head : Math.min(inside, head);
}

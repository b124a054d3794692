import type { Db } from '../../db/client.js';
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
  /** Seq of the first entry that stays (null when none does). */
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
 * `pss.audit_purge`. Only the chain's PREFIX is removed (every entry before the first one inside
 * the retention), so what remains is one unbroken chain; an older entry committed after a newer one
 * waits for a later purge. The purge itself is audited (system).
 */
export async function purgeAuditLog(
  { db, now }: AuditPurgeDeps,
  opts: AuditPurgeOptions,
): Promise<AuditPurgeResult> {
  const cutoff = new Date(now().getTime() - opts.retentionDays * DAY_MS);

  if (opts.dryRun) {
    const repo = createAuditRepo(db);
    const firstKeptSeq = await repo.firstSeqFrom(cutoff);
    const deleted = await repo.countPurgeable(cutoff, firstKeptSeq);
    return { cutoff, deleted, firstKeptSeq };
  }

  return db.transaction(async (tx) => {
    const repo = createAuditRepo(tx);
    await repo.allowPurge();
    const firstKeptSeq = await repo.firstSeqFrom(cutoff);
    const { deleted, throughSeq } = await repo.deletePurgeable(cutoff, firstKeptSeq);
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
    return { cutoff, deleted, firstKeptSeq };
  });
}

import type { Config } from '../../config.js';
import type { Db } from '../../db/client.js';
import { chainKey } from './chain-mac.js';
import { createChainRepo } from './chain-repo.js';
import { type AuditPurgeResult, purgeAuditLog } from './purge.js';
import { type AuditContext, recordAudit } from './recorder.js';
import { SEAL_BATCH_SIZE, sealBatch } from './sealer.js';
import { type ChainVerification, verifyAuditChain } from './verify.js';

export interface AuditChainDeps {
  db: Db;
  now: () => Date;
  config: {
    retention: Pick<Config['retention'], 'auditLogRetentionDays'>;
    encryption: Pick<Config['encryption'], 'auditChainKey' | 'blindIndexKey'>;
  };
}

/** Entries not yet in the chain: how many, and the age of the oldest (whole seconds). */
export interface UnsealedEntries {
  count: number;
  oldestAgeSeconds: number | null;
}

export type AuditVerification = ChainVerification & { unsealed: UnsealedEntries };

export interface SealResult {
  /** Another sealer held the lock (only when not waiting for it). */
  busy: boolean;
  sealed: number;
  batches: number;
  head: { seq: number; hash: string } | null;
}

/**
 * Upkeep of the append-only chain (docs/privacy.md#append-only-chain): sealing, verification and
 * the retention purge, for the CLI (`audit:seal`, `audit:verify`, `audit:purge`) and the
 * `audit.seal` and `audit.purge` jobs. Verification and the purge are audited as the system; sealing
 * is not (its record is the checkpoint: an entry per seal would never let the chain rest).
 */
export function createAuditChainService(deps: AuditChainDeps) {
  const { db, config, now } = deps;
  const key = chainKey(config.encryption);
  return {
    /**
     * Seals batches until no certainly-committed entry is left unsealed, or `maxBatches`. Without
     * `wait` it gives up at once when another sealer is at work (the job: that one drains the log).
     */
    async seal(opts: { wait: boolean; maxBatches?: number; batchSize?: number }): Promise<SealResult> {
      const result: SealResult = { busy: false, sealed: 0, batches: 0, head: null };
      const batchSize = opts.batchSize ?? SEAL_BATCH_SIZE;
      for (;;) {
        const batch = await sealBatch({ db, now, key }, { wait: opts.wait, batchSize });
        if (batch.busy) return { ...result, busy: true };
        result.batches += 1;
        result.sealed += batch.sealed;
        result.head = batch.head;
        const full = batch.sealed === batchSize;
        if (!full || (opts.maxBatches !== undefined && result.batches >= opts.maxBatches)) return result;
      }
    },

    /**
     * Verifies the chain, counts the unsealed entries, then records the verdict (`audit_verified`), as the
     * system (CLI, jobs) or as the superuser who asked over HTTP.
     */
    async verify(ctx: AuditContext = { actor: null, meta: null }): Promise<AuditVerification> {
      const chain = await verifyAuditChain(db, key);
      const pending = await createChainRepo(db).unsealed();
      const unsealed: UnsealedEntries = {
        count: pending.count,
        oldestAgeSeconds:
          pending.oldestAt === null
            ? null
            : Math.max(0, Math.floor((now().getTime() - pending.oldestAt.getTime()) / 1000)),
      };
      await recordAudit(db, ctx, {
        action: 'audit_verified',
        resourceType: 'audit_log',
        outcome: chain.ok ? 'success' : 'failure',
        metadata: {
          checked: chain.checked,
          ...(chain.firstBroken ? { first_broken_seq: chain.firstBroken.seq } : {}),
          ...(chain.checkpoint ? { checkpoint_seq: chain.checkpoint.seq } : {}),
          unsealed: unsealed.count,
          oldest_unsealed_age_seconds: unsealed.oldestAgeSeconds,
        },
      });
      return { ...chain, unsealed };
    },

    /**
     * Purges (or counts, in a dry run) the entries older than the retention (AUDIT_LOG_RETENTION_DAYS
     * unless given).
     */
    async purge(opts: {
      retentionDays?: number;
      dryRun: boolean;
    }): Promise<AuditPurgeResult & { retentionDays: number }> {
      const retentionDays = opts.retentionDays ?? config.retention.auditLogRetentionDays;
      const result = await purgeAuditLog(deps, { retentionDays, dryRun: opts.dryRun });
      return { ...result, retentionDays };
    },
  };
}
export type AuditChainService = ReturnType<typeof createAuditChainService>;

import type { Config } from '../../config.js';
import type { Db } from '../../db/client.js';
import { type AuditPurgeResult, purgeAuditLog } from './purge.js';
import { recordAudit } from './recorder.js';
import { type ChainVerification, verifyAuditChain } from './verify.js';

export interface AuditChainDeps {
  db: Db;
  now: () => Date;
  config: { retention: Pick<Config['retention'], 'auditLogRetentionDays'> };
}

/**
 * Upkeep of the append-only chain (docs/privacy.md#append-only-chain): verification and the
 * retention purge, for the CLI (`audit:verify`, `audit:purge`) and the `audit.purge` job.
 * Both are audited as the system.
 */
export function createAuditChainService(deps: AuditChainDeps) {
  const { db, config } = deps;
  return {
    /** Walks the chain, then records the verdict (`audit_verified`). */
    async verify(): Promise<ChainVerification> {
      const result = await verifyAuditChain(db);
      await recordAudit(
        db,
        { actor: null, meta: null },
        {
          action: 'audit_verified',
          resourceType: 'audit_log',
          outcome: result.ok ? 'success' : 'failure',
          metadata: {
            checked: result.checked,
            ...(result.firstBroken ? { first_broken_seq: result.firstBroken.seq } : {}),
          },
        },
      );
      return result;
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

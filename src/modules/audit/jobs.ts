import type { ScheduledJob } from '../jobs/index.js';
import type { AuditChainService } from './chain-service.js';

/** How often the sealer runs: the usual delay before an entry enters the chain. */
export const SEAL_EVERY_MS = 5_000;
/** At most this many batches (of 1000) per run; a larger backlog drains over the next runs. */
const SEAL_MAX_BATCHES = 20;

/**
 * Periodic jobs of the audit log (docs/operations.md#scheduled-jobs `audit.seal`, `audit.purge`);
 * logic in sealer.ts and purge.ts. Each seal run logs the chain's head (seq and hash): kept outside
 * the database, those lines witness the chain (docs/privacy.md#append-only-chain).
 */
export function auditJobs({ auditChain }: { auditChain: AuditChainService }): ScheduledJob[] {
  return [
    {
      name: 'audit.seal',
      schedule: { everyMs: SEAL_EVERY_MS },
      run: async (): Promise<Record<string, number | string>> => {
        const result = await auditChain.seal({ wait: false, maxBatches: SEAL_MAX_BATCHES });
        if (result.busy) return { busy: 1 };
        if (!result.head || result.sealed === 0) return { sealed: result.sealed };
        return { sealed: result.sealed, head_seq: result.head.seq, head_hash: result.head.hash };
      },
    },
    {
      name: 'audit.purge',
      schedule: { cron: '0 4 * * *' },
      run: async () => {
        const result = await auditChain.purge({ dryRun: false });
        return { deleted: result.deleted };
      },
    },
  ];
}

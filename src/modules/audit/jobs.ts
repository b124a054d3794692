import type { ScheduledJob } from '../../jobs/scheduler.js';
import type { AuditChainService } from './chain-service.js';

const DAY_MS = 86_400_000;

/** Periodic jobs of the audit log (docs/operations.md#scheduled-jobs `audit.purge`); logic in purge.ts. */
export function auditJobs({ auditChain }: { auditChain: AuditChainService }): ScheduledJob[] {
  return [
    {
      name: 'audit.purge',
      everyMs: DAY_MS,
      run: async () => {
        const result = await auditChain.purge({ dryRun: false });
        return { deleted: result.deleted };
      },
    },
  ];
}

import type { Container } from '../../container.js';
import type { ScheduledJob } from '../../jobs/scheduler.js';
import { purgeAuditLog } from './purge.js';

const DAY_MS = 86_400_000;

/** Periodic jobs of the audit log (spec operations.md §4 `audit.purge`); logic in purge.ts. */
export function auditJobs(c: Container): ScheduledJob[] {
  return [
    {
      name: 'audit.purge',
      everyMs: DAY_MS,
      run: async () => {
        const result = await purgeAuditLog(c, {
          retentionDays: c.config.retention.auditLogRetentionDays,
          dryRun: false,
        });
        return { deleted: result.deleted };
      },
    },
  ];
}

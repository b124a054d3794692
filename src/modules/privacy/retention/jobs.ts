import type { ScheduledJob } from '../../../jobs/scheduler.js';
import type { DeletionService } from '../deletion/service.js';
import type { RetentionService } from './service.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * Periodic jobs of deletion and retention (docs/operations.md#scheduled-jobs); the logic is in the
 * services.
 */
export function retentionJobs({
  deletions,
  retention,
}: {
  deletions: DeletionService;
  retention: RetentionService;
}): ScheduledJob[] {
  return [
    { name: 'deletion.run-due', everyMs: HOUR_MS, run: () => deletions.runDue() },
    {
      name: 'retention.inactive',
      everyMs: DAY_MS,
      run: async () => {
        const result = await retention.runScheduledInactive();
        return { ...result };
      },
    },
    {
      name: 'sessions.cleanup',
      everyMs: DAY_MS,
      run: () => retention.cleanupSessions({ dryRun: false }),
    },
    { name: 'deletion-requests.purge', everyMs: DAY_MS, run: () => deletions.purgeCompleted() },
  ];
}

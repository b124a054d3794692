import type { ScheduledJob } from '../../jobs/index.js';
import type { DeletionService } from '../deletion/service.js';
import type { RetentionService } from './service.js';

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
    { name: 'deletion.run-due', schedule: { cron: '0 * * * *' }, run: () => deletions.runDue() },
    {
      name: 'retention.inactive',
      schedule: { cron: '0 3 * * *' },
      run: async () => {
        const result = await retention.runScheduledInactive();
        return { ...result };
      },
    },
    {
      name: 'sessions.cleanup',
      schedule: { cron: '0 2 * * *' },
      run: () => retention.cleanupSessions({ dryRun: false, only: 'sessions' }),
    },
    {
      name: 'reset-tokens.purge',
      schedule: { cron: '0 4 * * *' },
      run: () => retention.cleanupSessions({ dryRun: false, only: 'reset_tokens' }),
    },
    {
      name: 'deletion-requests.purge',
      schedule: { cron: '0 4 * * *' },
      run: () => deletions.purgeCompleted(),
    },
  ];
}

import type { Container } from '../../container.js';
import type { ScheduledJob } from '../../jobs/scheduler.js';
import { purgeCompletedRequests, runDueDeletions } from './deletion-service.js';
import { cleanupSessions, runInactiveAccounts } from './retention-service.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Periodic jobs of deletion and retention (spec operations.md §4); the logic is in the services. */
export function retentionJobs(c: Container): ScheduledJob[] {
  const { retention } = c.config;
  return [
    { name: 'deletion.run-due', everyMs: HOUR_MS, run: () => runDueDeletions(c) },
    {
      name: 'retention.inactive',
      everyMs: DAY_MS,
      run: async () => {
        const result = await runInactiveAccounts(c, {
          inactiveYears: retention.inactiveYears,
          graceDays: retention.inactiveGraceDays,
          dryRun: false,
          sendWarnings: true,
          execute: retention.inactiveCleanupExecute,
        });
        return { ...result };
      },
    },
    {
      name: 'sessions.cleanup',
      everyMs: DAY_MS,
      run: () => cleanupSessions(c, { days: retention.sessionCleanupDays, dryRun: false }),
    },
    { name: 'deletion-requests.purge', everyMs: DAY_MS, run: () => purgeCompletedRequests(c) },
  ];
}

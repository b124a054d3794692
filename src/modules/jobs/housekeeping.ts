import type { Db } from '../../db/client.js';
import { createOutboxRepo } from './outbox-repo.js';
import type { ScheduledJob } from './types.js';

/** Failed jobs stay listed (and retryable) this long; the queue keeps its failed jobs as long. */
export const KEEP_FAILED_DAYS = 14;

/** The job module's own periodic job: forget jobs given up more than KEEP_FAILED_DAYS ago. */
export function jobHousekeeping(db: Db): ScheduledJob[] {
  return [
    {
      name: 'jobs.purge',
      schedule: { cron: '0 4 * * *' },
      run: async () => ({
        deleted: await createOutboxRepo(db).purgeGivenUp(
          new Date(Date.now() - KEEP_FAILED_DAYS * 86_400_000),
        ),
      }),
    },
  ];
}

import type { ScheduledJob } from '../../jobs/scheduler.js';
import { exportJobs } from './export/jobs.js';
import { retentionJobs } from './retention/jobs.js';
import type { PrivacyServices } from './routes.js';

/** Every periodic job of the privacy module (docs/operations.md#scheduled-jobs), built from its services. */
export function privacyJobs(services: PrivacyServices): ScheduledJob[] {
  return [...exportJobs(services), ...retentionJobs(services)];
}

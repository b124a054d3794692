import type { JobHandler, ScheduledJob } from '../jobs/index.js';
import { exportJobHandlers, exportJobs } from './export/jobs.js';
import { retentionJobs } from './retention/jobs.js';
import type { PrivacyServices } from './routes.js';

/** Every periodic job of the privacy module (docs/operations.md#scheduled-jobs), built from its services. */
export function privacyJobs(services: PrivacyServices): ScheduledJob[] {
  return [...exportJobs(services), ...retentionJobs(services)];
}

/** On-demand jobs of the privacy module. */
export function privacyJobHandlers(services: PrivacyServices): Record<string, JobHandler> {
  return exportJobHandlers(services);
}

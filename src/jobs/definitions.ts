import type { Container } from '../container.js';
import { auditJobs } from '../modules/audit/jobs.js';
import { exportJobs } from '../modules/privacy/export-jobs.js';
import { retentionJobs } from '../modules/privacy/retention-jobs.js';
import type { ScheduledJob } from './scheduler.js';

/** Every periodic job of the service (spec operations.md §4), by module. */
export function scheduledJobs(c: Container): ScheduledJob[] {
  return [...auditJobs(c), ...exportJobs(c), ...retentionJobs(c)];
}

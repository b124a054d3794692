import type { Container } from '../container.js';
import { auditJobs } from '../modules/audit/index.js';
import { privacyJobs } from '../modules/privacy/index.js';
import type { ScheduledJob } from './scheduler.js';

/** Every periodic job of the service (docs/operations.md#scheduled-jobs), by module. */
export function scheduledJobs(c: Container): ScheduledJob[] {
  return [...auditJobs(c), ...privacyJobs(c)];
}

import type { Infrastructure } from '../infrastructure.js';
import { auditJobs } from '../modules/audit/index.js';
import { jobHousekeeping } from '../modules/jobs/index.js';
import { privacyJobHandlers, privacyJobs } from '../modules/privacy/index.js';
import type { Services } from '../services.js';

/**
 * Every background job of the service (docs/operations.md#background-jobs), by module: on-demand
 * handlers (the e-mail job is wired with the mailer) and clock schedules. Called once by the root.
 */
export function defineJobs(
  infra: Pick<Infrastructure, 'db' | 'jobHandlers' | 'scheduledJobs'>,
  services: Services,
): void {
  Object.assign(infra.jobHandlers, privacyJobHandlers(services));
  infra.scheduledJobs.push(...auditJobs(services), ...privacyJobs(services), ...jobHousekeeping(infra.db));
}

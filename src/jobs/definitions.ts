import type { Infrastructure } from '../infrastructure.js';
import { reportingFailures } from '../lib/error-reporting.js';
import { auditJobs } from '../modules/audit/index.js';
import { jobHousekeeping, type JobHandler } from '../modules/jobs/index.js';
import { keyJobs } from '../modules/keys/index.js';
import { privacyJobHandlers, privacyJobs } from '../modules/privacy/index.js';
import type { Services } from '../services.js';

/**
 * Every background job of the service (docs/operations.md#background-jobs), by module: on-demand
 * handlers (the e-mail job is wired with the mailer) and clock schedules. Called once by the root.
 */
export function defineJobs(
  infra: Pick<Infrastructure, 'db' | 'config' | 'now' | 'jobHandlers' | 'scheduledJobs' | 'errorReporter'>,
  services: Services,
): void {
  // Failures are reported (Sentry) with the job's name only: never its data.
  const reported = (name: string, run: JobHandler): JobHandler => {
    if (!infra.errorReporter.enabled) return run;
    return async (data) => {
      try {
        return await run(data);
      } catch (err) {
        infra.errorReporter.capture(err, { job: name });
        throw err;
      }
    };
  };
  for (const [name, run] of Object.entries({ ...infra.jobHandlers, ...privacyJobHandlers(services) })) {
    infra.jobHandlers[name] = reported(name, run);
  }
  infra.scheduledJobs.push(
    ...[
      ...auditJobs(services),
      ...privacyJobs(services),
      ...keyJobs(infra),
      ...jobHousekeeping(infra.db),
    ].map((job) => reportingFailures(job, infra.errorReporter)),
  );
}

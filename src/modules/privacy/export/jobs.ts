import type { JobHandler, ScheduledJob } from '../../jobs/index.js';
import { EXPORT_BUILD_JOB, type ExportService } from './service.js';

/** Jobs of data export (docs/operations.md#scheduled-jobs); the logic lives in processing.ts. */
export function exportJobs({ exports }: { exports: ExportService }): ScheduledJob[] {
  return [
    // A safety net: catches a request whose build job was lost (e.g. with a Redis that kept nothing).
    { name: 'export.build-pending', schedule: { everyMs: 60_000 }, run: () => exports.processPending() },
    // Export files live EXPORT_TTL_HOURS (docs/privacy.md#retention); the request rows stay as the record.
    { name: 'exports.purge', schedule: { cron: '0 * * * *' }, run: () => exports.purgeExpired() },
  ];
}

/** On-demand jobs of data export: a request enqueues `export.build`, which builds what is pending. */
export function exportJobHandlers({ exports }: { exports: ExportService }): Record<string, JobHandler> {
  return { [EXPORT_BUILD_JOB]: () => exports.processPending() };
}

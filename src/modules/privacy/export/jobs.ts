import type { ScheduledJob } from '../../../jobs/scheduler.js';
import type { ExportService } from './service.js';

/** Periodic jobs of data export (docs/operations.md#scheduled-jobs); the logic lives in processing.ts. */
export function exportJobs({ exports }: { exports: ExportService }): ScheduledJob[] {
  return [
    // Catches requests whose immediate background build did not run (restart, other instance).
    { name: 'export.build', everyMs: 15_000, run: () => exports.processPending() },
    // Export files live EXPORT_TTL_HOURS (docs/privacy.md#retention); the request rows stay as the record.
    { name: 'exports.purge', everyMs: 3_600_000, run: () => exports.purgeExpired() },
  ];
}

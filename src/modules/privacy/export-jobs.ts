import type { Container } from '../../container.js';
import type { ScheduledJob } from '../../jobs/scheduler.js';
import { processPendingExports, purgeExpiredExports } from './export-service.js';

/** Periodic jobs of data export (spec operations.md §4); the logic lives in export-service.ts. */
export function exportJobs(c: Container): ScheduledJob[] {
  return [
    // Catches requests whose immediate background build did not run (restart, other instance).
    { name: 'export.build', everyMs: 15_000, run: () => processPendingExports(c) },
    // Export files live EXPORT_TTL_HOURS (privacy.md §5); the request rows stay as the record.
    { name: 'exports.purge', everyMs: 3_600_000, run: () => purgeExpiredExports(c) },
  ];
}

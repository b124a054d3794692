import type { Container } from '../../container.js';
import type { ScheduledJob } from '../../jobs/scheduler.js';

/** Periodic jobs of this part of the privacy module. */
export function exportJobs(_c: Container): ScheduledJob[] {
  return [];
}

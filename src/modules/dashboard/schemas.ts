import { z } from 'zod';
import { MOODS } from './repo.js';
import type {
  Activity as ActivityOutput,
  AdminStats as AdminStatsOutput,
  CandidateStats as CandidateStatsOutput,
} from './types.js';

/** Dashboard response shapes (docs/contract.md#dashboards), keys in the contract's order. */
export const AdminStats = z.object({
  total_candidates: z.number(),
  active_candidates: z.number(),
  pending_intake: z.number(),
  recent_barriers: z.number(),
  recent_entries: z.number(),
  total_admin_notes: z.number(),
  recent_admin_notes: z.number(),
}) satisfies z.ZodType<AdminStatsOutput>;

/** Documentation only: the body is written by `withFloat` so `avg_energy_level` keeps `8.0`. */
export const CandidateStats = z.object({
  total_entries: z.number(),
  last_entry_date: z.string().nullable(),
  avg_energy_level: z.number().describe('Rounded to 1 decimal (Python round); integer 0 without entries'),
  recent_barriers: z.number(),
  admin_notes_count: z.number(),
  mood_distribution: z.array(z.object({ mood: z.enum(MOODS), count: z.number() })),
  has_completed_intake: z.boolean(),
}) satisfies z.ZodType<CandidateStatsOutput>;

/** `?days=` of `GET dashboard/activity/`: 7 to 90, default 30. */
export const ActivityQuery = z.object({
  days: z.coerce
    .number({ error: 'A valid integer is required.' })
    .int('A valid integer is required.')
    .min(7, 'Ensure this value is greater than or equal to 7.')
    .max(90, 'Ensure this value is less than or equal to 90.')
    .default(30),
});

export const ActivitySchema = z.object({
  days: z.number(),
  series: z.array(z.object({ date: z.string(), entries: z.number(), barriers: z.number() })),
}) satisfies z.ZodType<ActivityOutput>;

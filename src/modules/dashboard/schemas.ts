import { z } from 'zod';
import { MOODS } from './repo.js';
import type { AdminStats as AdminStatsOutput, CandidateStats as CandidateStatsOutput } from './types.js';

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

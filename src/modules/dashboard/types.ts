import type { Mood } from './repo.js';

/** The dashboards' answers (docs/contract.md#dashboards), keys in the contract's order. */
export interface AdminStats {
  total_candidates: number;
  active_candidates: number;
  pending_intake: number;
  recent_barriers: number;
  recent_entries: number;
  total_admin_notes: number;
  recent_admin_notes: number;
}

export interface CandidateStats {
  total_entries: number;
  last_entry_date: string | null;
  avg_energy_level: number;
  recent_barriers: number;
  admin_notes_count: number;
  mood_distribution: { mood: Mood; count: number }[];
  has_completed_intake: boolean;
}

/** `GET dashboard/activity/`: journal entries and barriers per day, oldest first, every day present. */
export interface Activity {
  days: number;
  series: { date: string; entries: number; barriers: number }[];
}

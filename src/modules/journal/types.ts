import { moodEnum } from '../../db/schema.js';

/**
 * The journal's own types: what its service takes and gives. The HTTP schemas (schemas.ts) validate
 * requests into these and describe these responses; the service and repo never see HTTP.
 */
export const MOODS = moodEnum.enumValues;
export type Mood = (typeof MOODS)[number];

/** A validated entry for POST and PUT (text already trimmed and escaped). */
export interface EntryInput {
  date: string;
  mood: Mood;
  energy_level: number;
  activities: string;
  challenges?: string | undefined;
  achievements?: string | undefined;
  notes?: string | undefined;
  barriers_faced?: string | undefined;
  barrier_count?: number | undefined;
}

/** PATCH: only the given fields are written. */
export type EntryPatch = Partial<EntryInput>;

/** `GET /journal/` filters; `user` is checked by the service (staff only). */
export interface EntryListQuery {
  user?: unknown;
  date_from?: string | undefined;
  date_to?: string | undefined;
  mood?: Mood | undefined;
  page?: unknown;
  page_size?: unknown;
  [extra: string]: unknown;
}

/** The entry object of the contract (key order as the contract's). */
export interface EntryResponse {
  id: number;
  date: string;
  mood: Mood;
  energy_level: number;
  activities: string;
  challenges: string;
  achievements: string;
  notes: string;
  barriers_faced: string;
  barrier_count: number;
  created_at: string;
  updated_at: string;
  user: number;
}

export interface StatsResponse {
  total_entries: number;
  last_entry_date: string | null;
  recent_barriers: number;
  avg_energy_level: number;
}

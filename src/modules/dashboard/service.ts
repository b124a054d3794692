import type { Db } from '../../db/client.js';
import type { Actor } from '../../lib/actor.js';
import type { VersionedCache } from '../../lib/versioned-cache.js';
import { pyRound1 } from '../../lib/py-round.js';
import { addDays, utcToday } from '../../lib/time.js';
import { assertMayReadAdminStats, assertMayReadCandidateStats } from './policy.js';
import { createDashboardRepo, MOODS } from './repo.js';
import type { Activity, AdminStats, CandidateStats } from './types.js';

const DAY_MS = 86_400_000;

export interface CandidateStatsResult {
  body: CandidateStats;
  /** The number fields written as floats. */
  floatKeys: string[];
}

export interface DashboardServiceDeps {
  db: Db;
  now: () => Date;
  /** Answers kept until a write changes them (docs/operations.md#caches); none: always computed. */
  caches?: {
    adminStats: VersionedCache<AdminStats>;
    candidateStats: VersionedCache<CandidateStatsResult>;
  };
}

/** Results reflect every committed write (docs/contract.md#dashboards): caches are invalidated on write. */
export function createDashboardService(c: DashboardServiceDeps) {
  const repo = createDashboardRepo(c.db);

  async function computeAdminStats(): Promise<AdminStats> {
    const weekStart = new Date(c.now().getTime() - 7 * DAY_MS);
    const s = await repo.adminStats(utcToday(weekStart), weekStart);
    return {
      total_candidates: s.totalCandidates,
      active_candidates: s.activeCandidates,
      pending_intake: s.totalCandidates - s.activeCandidates,
      recent_barriers: s.recentBarriers,
      recent_entries: s.recentEntries,
      total_admin_notes: s.totalNotes,
      recent_admin_notes: s.recentNotes,
    };
  }

  async function computeCandidateStats(userId: number): Promise<CandidateStatsResult> {
    const s = await repo.candidateStats(userId, addDays(utcToday(c.now()), -30));
    const hasEntries = s.totalEntries > 0;
    return {
      body: {
        total_entries: s.totalEntries,
        last_entry_date: s.lastEntryDate,
        avg_energy_level: hasEntries ? pyRound1(s.energySum / s.totalEntries) : 0,
        recent_barriers: s.recentBarriers,
        admin_notes_count: s.notesAboutMe,
        // Choice order (docs/contract.md#original-differences item 43), moods without entries left out.
        mood_distribution: MOODS.filter((m) => s.moodCounts[m] > 0).map((mood) => ({
          mood,
          count: s.moodCounts[mood],
        })),
        has_completed_intake: s.hasCompletedIntake,
      },
      floatKeys: hasEntries ? ['avg_energy_level'] : [],
    };
  }

  return {
    /**
     * `GET dashboard/activity/`: the last `days` UTC dates up to today, each with its journal entries
     * (by entry date) and their barriers; counts only, nothing of any entry's text. Staff only.
     */
    async activity(actor: Actor, days: number): Promise<Activity> {
      assertMayReadAdminStats(actor);
      const today = utcToday(c.now());
      const from = addDays(today, -(days - 1));
      const found = new Map((await repo.activity(from, today)).map((r) => [r.date, r]));
      const series = Array.from({ length: days }, (_, i) => {
        const date = addDays(from, i);
        const row = found.get(date);
        return { date, entries: row?.entries ?? 0, barriers: row?.barriers ?? 0 };
      });
      return { days, series };
    },

    /** `GET dashboard/admin-stats/` (and its alias `dashboard/stats/`). Week = now − 7 days. */
    async adminStats(actor: Actor): Promise<AdminStats> {
      assertMayReadAdminStats(actor);
      if (!c.caches) return computeAdminStats();
      return (await c.caches.adminStats.get('admin', computeAdminStats)) ?? computeAdminStats();
    },

    /**
     * `GET dashboard/candidate-stats/`. Also says which number fields are floats: the average is
     * written `8.0` when there are entries and as the integer `0` when there are none (original).
     */
    async candidateStats(actor: Actor): Promise<CandidateStatsResult> {
      assertMayReadCandidateStats(actor);
      const compute = () => computeCandidateStats(actor.userId);
      if (!c.caches) return compute();
      return (await c.caches.candidateStats.get(String(actor.userId), compute)) ?? compute();
    },
  };
}
export type DashboardService = ReturnType<typeof createDashboardService>;

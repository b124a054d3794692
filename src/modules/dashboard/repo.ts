import { eq, sql } from 'drizzle-orm';
import { onlyRow } from '../../db/errors.js';
import type { DbOrTx } from '../../db/client.js';
import { adminNotes, journalEntries, moodEnum, users } from '../../db/schema.js';

export const MOODS = moodEnum.enumValues;
export type Mood = (typeof MOODS)[number];

export interface AdminStatsRow {
  totalCandidates: number;
  activeCandidates: number;
  recentBarriers: number;
  recentEntries: number;
  totalNotes: number;
  recentNotes: number;
}

export interface CandidateStatsRow {
  totalEntries: number;
  lastEntryDate: string | null;
  energySum: number;
  recentBarriers: number;
  notesAboutMe: number;
  hasCompletedIntake: boolean;
  moodCounts: Record<Mood, number>;
}

const int = (expr: ReturnType<typeof sql>) => sql`(${expr})::bigint`.mapWith(Number);

/**
 * Dashboard figures, each computed by one aggregate statement (no per-row queries and no cache, so
 * every committed write shows at once).
 */
export function createDashboardRepo(db: DbOrTx) {
  return {
    /** `weekDate`: first UTC date counted for barriers; `weekStart`: first instant counted. */
    async adminStats(weekDate: string, weekStart: Date): Promise<AdminStatsRow> {
      const since = weekStart.toISOString();
      const rows = await db
        .select({
          totalCandidates: int(sql`count(*)`),
          activeCandidates: int(sql`count(*) filter (where ${users.hasCompletedIntake})`),
          recentBarriers: int(
            sql`(select coalesce(sum(${journalEntries.barrierCount}), 0) from ${journalEntries} where ${journalEntries.date} >= ${weekDate})`,
          ),
          recentEntries: int(
            sql`(select count(*) from ${journalEntries} where ${journalEntries.createdAt} >= ${since}::timestamptz)`,
          ),
          totalNotes: int(sql`(select count(*) from ${adminNotes})`),
          recentNotes: int(
            sql`(select count(*) from ${adminNotes} where ${adminNotes.createdAt} >= ${since}::timestamptz)`,
          ),
        })
        .from(users)
        .where(eq(users.role, 'candidate'));
      const row = onlyRow(rows, 'aggregate');
      return row;
    },

    /** `recentDate`: first UTC date counted for the caller's barriers. */
    async candidateStats(userId: number, recentDate: string): Promise<CandidateStatsRow> {
      const moodColumns = Object.fromEntries(
        MOODS.map((mood) => [mood, int(sql`count(*) filter (where ${journalEntries.mood} = ${mood})`)]),
      );
      const rows = await db
        .select({
          totalEntries: int(sql`count(*)`),
          lastEntryDate: sql<string | null>`max(${journalEntries.date})::text`,
          energySum: int(sql`coalesce(sum(${journalEntries.energyLevel}), 0)`),
          recentBarriers: int(
            sql`coalesce(sum(${journalEntries.barrierCount}) filter (where ${journalEntries.date} >= ${recentDate}), 0)`,
          ),
          notesAboutMe: int(
            sql`(select count(*) from ${adminNotes} where ${adminNotes.candidateId} = ${userId})`,
          ),
          hasCompletedIntake: sql<boolean>`coalesce((select ${users.hasCompletedIntake} from ${users} where ${users.id} = ${userId}), false)`,
          ...moodColumns,
        })
        .from(journalEntries)
        .where(eq(journalEntries.userId, userId));
      const row = onlyRow(rows, 'aggregate') as Omit<CandidateStatsRow, 'moodCounts'> & Record<Mood, number>;
      const moodCounts = Object.fromEntries(MOODS.map((m) => [m, row[m]])) as Record<Mood, number>;
      return {
        totalEntries: row.totalEntries,
        lastEntryDate: row.lastEntryDate,
        energySum: row.energySum,
        recentBarriers: row.recentBarriers,
        notesAboutMe: row.notesAboutMe,
        hasCompletedIntake: row.hasCompletedIntake,
        moodCounts,
      };
    },

    /** Entries and barriers per entry date from `fromDate` to `toDate` (inclusive); dates without entries are absent. */
    async activity(
      fromDate: string,
      toDate: string,
    ): Promise<{ date: string; entries: number; barriers: number }[]> {
      return db
        .select({
          date: sql<string>`${journalEntries.date}::text`,
          entries: int(sql`count(*)`),
          barriers: int(sql`coalesce(sum(${journalEntries.barrierCount}), 0)`),
        })
        .from(journalEntries)
        .where(sql`${journalEntries.date} between ${fromDate} and ${toDate}`)
        .groupBy(journalEntries.date)
        .orderBy(journalEntries.date);
    },
  };
}

import { sealJournalColumns, sealNoteColumns } from '../../../db/sealed-records.js';
import type { ImportStep, Prepared } from '../step.js';
import { asText, num, ownerOrReject } from '../step.js';
import { upsertRows } from '../writer.js';

/**
 * Journal entries and admin notes (ids kept). Their text, stored HTML-escaped by the original as it is
 * here, is carried as is and sealed under the owner's data key (an entry's owner; a note's candidate).
 */
const MOODS = new Set(['excellent', 'good', 'okay', 'difficult', 'very_difficult']);
const CATEGORIES = new Set(['progress', 'concern', 'achievement', 'medical', 'accommodation', 'general']);
const text = (v: unknown) => (v === null || v === undefined ? '' : asText(v));

const JOURNAL_COLUMNS = [
  { name: 'id', type: 'bigint' },
  { name: 'user_id', type: 'bigint' },
  { name: 'date', type: 'date' },
  { name: 'mood', type: 'mood' },
  { name: 'energy_level', type: 'smallint' },
  { name: 'sealed', type: 'text' },
  { name: 'barrier_count', type: 'integer' },
  { name: 'created_at', type: 'timestamptz' },
  { name: 'updated_at', type: 'timestamptz' },
] as const;

export function journalStep(): ImportStep {
  const TABLE = 'journal_journalentry';
  return {
    table: TABLE,
    target: 'journal_entries',
    columns: [
      'id',
      'user_id',
      'date',
      'mood',
      'energy_level',
      'activities',
      'challenges',
      'achievements',
      'notes',
      'barriers_faced',
      'barrier_count',
      'created_at',
      'updated_at',
    ],
    batchSize: 5000,
    async prepare(rows, ctx) {
      const accepted = rows.flatMap((r) => {
        const id = num(r.id);
        const userId = ownerOrReject(ctx, TABLE, id, r.user_id);
        if (userId === null) return [];
        if (!MOODS.has(String(r.mood))) {
          ctx.report.reject(
            TABLE,
            id,
            `mood "${String(r.mood).slice(0, 20)}" is not one of ${[...MOODS].join(', ')}`,
          );
          return [];
        }
        const energy = Number(r.energy_level);
        if (!Number.isInteger(energy) || energy < 1 || energy > 10) {
          ctx.report.reject(TABLE, id, 'energy_level is not a whole number from 1 to 10');
          return [];
        }
        return [{ id, userId, energy, r }];
      });
      const deks = await ctx.deks(accepted.map((a) => a.userId));
      return accepted.map(({ id, userId, energy, r }): Prepared => {
        const sealed = sealJournalColumns(
          ctx.cipher,
          deks(userId),
          { id, userId },
          {
            activities: text(r.activities),
            challenges: text(r.challenges),
            achievements: text(r.achievements),
            notes: text(r.notes),
            barriers_faced: text(r.barriers_faced),
          },
        );
        return {
          sourceId: id,
          targetId: id,
          row: {
            id,
            user_id: userId,
            date: r.date,
            mood: r.mood,
            energy_level: energy,
            sealed: sealed.sealed,
            barrier_count: Number(r.barrier_count ?? 0),
            created_at: r.created_at,
            updated_at: r.updated_at,
          },
        };
      });
    },
    async write(tx, rows) {
      await upsertRows(
        tx,
        'journal_entries',
        JOURNAL_COLUMNS,
        rows.map((p) => p.row),
      );
    },
  };
}

const NOTE_COLUMNS = [
  { name: 'id', type: 'bigint' },
  { name: 'candidate_id', type: 'bigint' },
  { name: 'admin_id', type: 'bigint' },
  { name: 'category', type: 'note_category' },
  { name: 'sealed', type: 'text' },
  { name: 'is_important', type: 'boolean' },
  { name: 'tags', type: 'jsonb' },
  { name: 'created_at', type: 'timestamptz' },
  { name: 'updated_at', type: 'timestamptz' },
] as const;

/** Tags of a version of the original that has them (a JSON list, or text separated by commas). */
function tagsOf(value: unknown): string[] {
  if (value === null || value === undefined) return [];
  const list = Array.isArray(value)
    ? value
    : typeof value === 'string' && value.trim().startsWith('[')
      ? (JSON.parse(value) as unknown[])
      : asText(value).split(',');
  return [...new Set(list.map((t) => asText(t).trim()).filter(Boolean))];
}

export function adminNotesStep(): ImportStep {
  const TABLE = 'admin_notes_adminnote';
  return {
    table: TABLE,
    target: 'admin_notes',
    columns: [
      'id',
      'candidate_id',
      'admin_id',
      'category',
      'title',
      'content',
      'is_important',
      'created_at',
      'updated_at',
    ],
    optional: ['tags'],
    async prepare(rows, ctx) {
      const accepted = rows.flatMap((r) => {
        const id = num(r.id);
        const candidateId = ownerOrReject(ctx, TABLE, id, r.candidate_id, 'its candidate');
        if (candidateId === null) return [];
        if (!CATEGORIES.has(String(r.category))) {
          ctx.report.reject(TABLE, id, `category "${String(r.category).slice(0, 20)}" is not known here`);
          return [];
        }
        let tags: string[];
        try {
          tags = tagsOf(r.tags);
        } catch {
          ctx.report.reject(TABLE, id, 'tags are not a list');
          return [];
        }
        let adminId: number | null = r.admin_id === null ? null : num(r.admin_id);
        if (adminId !== null && !ctx.users.has(adminId)) {
          ctx.report.alter(
            TABLE,
            id,
            `its author (users_user ${String(adminId)}) is not here: kept without an author`,
          );
          adminId = null;
        }
        return [{ id, candidateId, adminId, tags, r }];
      });
      const deks = await ctx.deks(accepted.map((a) => a.candidateId));
      return accepted.map(({ id, candidateId, adminId, tags, r }): Prepared => ({
        sourceId: id,
        targetId: id,
        row: {
          id,
          candidate_id: candidateId,
          admin_id: adminId,
          category: r.category,
          sealed: sealNoteColumns(
            ctx.cipher,
            deks(candidateId),
            { id, candidateId },
            { title: text(r.title), content: text(r.content) },
          ).sealed,
          is_important: r.is_important === true,
          tags,
          created_at: r.created_at,
          updated_at: r.updated_at,
        },
      }));
    },
    async write(tx, rows) {
      await upsertRows(
        tx,
        'admin_notes',
        NOTE_COLUMNS,
        rows.map((p) => p.row),
      );
    },
  };
}

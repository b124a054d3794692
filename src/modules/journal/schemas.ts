import { z } from 'zod';
import { choice, escText, integer, intChoice, isoDate } from '../../lib/fields.js';
import {
  MOODS,
  type EntryInput,
  type EntryListQuery,
  type EntryPatch,
  type EntryResponse,
  type StatsResponse,
} from './types.js';

/** The journal's HTTP schemas (docs/contract.md#journal): requests validated into ./types.ts. */
export { MOODS, type Mood } from './types.js';

export const MAX_BARRIER_COUNT = 100;

/** `barrier_count`: an integer 0–100 with the original's own messages. */
const barrierCount = () =>
  integer().transform((n, ctx) => {
    if (n < 0) ctx.addIssue({ code: 'custom', message: 'barrier_count must be a positive integer' });
    else if (n > MAX_BARRIER_COUNT)
      ctx.addIssue({
        code: 'custom',
        message: `barrier_count must be ${String(MAX_BARRIER_COUNT)} or less (got ${String(n)})`,
      });
    else return n;
    return z.NEVER;
  });

/** Writable fields; read-only keys (`id`, `user`, timestamps) are dropped by the object schema. */
const fields = {
  date: isoDate(),
  mood: choice(MOODS),
  energy_level: intChoice(1, 10),
  activities: escText(5000, { allowBlank: false, recheckLabel: 'Activities' }),
  challenges: escText(5000).optional(),
  achievements: escText(5000).optional(),
  notes: escText(10000).optional(),
  barriers_faced: escText(5000).optional(),
  barrier_count: barrierCount().optional(),
};

// A request without any body reads as `{}`, so its missing fields are reported one by one.
const orEmpty = (v: unknown) => v ?? {};

/** POST and PUT: `date`, `mood`, `energy_level`, `activities` required; the rest optional. */
export const EntryBody = z.preprocess(orEmpty, z.object(fields)) satisfies z.ZodType<EntryInput>;

/** PATCH: every field optional; only the given ones are written. */
export const EntryPatchBody = z.preprocess(
  orEmpty,
  z.object({
    ...fields,
    date: fields.date.optional(),
    mood: fields.mood.optional(),
    energy_level: fields.energy_level.optional(),
    activities: fields.activities.optional(),
  }),
) satisfies z.ZodType<EntryPatch>;

// Query values: an empty parameter (`?mood=`) counts as absent, as django-filter does.
const blankAsAbsent = (v: unknown) => (v === '' ? undefined : v);

/** `GET /journal/` filters (additions). `user` is read by the service (staff only). */
export const ListQuery = z.looseObject({
  user: z.unknown().optional(),
  date_from: z.preprocess(blankAsAbsent, isoDate().optional()),
  date_to: z.preprocess(blankAsAbsent, isoDate().optional()),
  mood: z.preprocess(blankAsAbsent, choice(MOODS).optional()),
  page: z.unknown().optional(),
  page_size: z.unknown().optional(),
}) satisfies z.ZodType<EntryListQuery>;

/** The entry object; key order is the contract's. `user` is the owner's id. */
export const EntrySchema = z.object({
  id: z.number().int(),
  date: z.string(),
  mood: z.enum(MOODS),
  energy_level: z.number().int(),
  activities: z.string(),
  challenges: z.string(),
  achievements: z.string(),
  notes: z.string(),
  barriers_faced: z.string(),
  barrier_count: z.number().int(),
  created_at: z.string(),
  updated_at: z.string(),
  user: z.number().int(),
}) satisfies z.ZodType<EntryResponse>;

export const EntryPageSchema = z.object({
  count: z.number().int(),
  next: z.string().nullable(),
  previous: z.string().nullable(),
  results: z.array(EntrySchema),
});

/** `GET /journal/stats/`; `avg_energy_level` is written as a float (`8.0`) by the route. */
export const StatsSchema = z.object({
  total_entries: z.number().int(),
  last_entry_date: z.string().nullable(),
  recent_barriers: z.number().int(),
  avg_energy_level: z.number(),
}) satisfies z.ZodType<StatsResponse>;

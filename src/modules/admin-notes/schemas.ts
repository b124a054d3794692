import { z } from 'zod';
import { NOTE_CATEGORIES } from './input.js';
import type { NoteResponse as NoteResponseOutput } from './types.js';

/** The admin-note routes' HTTP schemas (docs/contract.md#admin-notes). */
/** Query string as received: the filters plus `page`/`page_size`, which the pager reads. */
export const NoteListQuery = z.looseObject({
  candidate: z.unknown().optional().describe('Candidate user id'),
  category: z.unknown().optional().describe(NOTE_CATEGORIES.join(', ')),
  is_important: z.unknown().optional(),
  tag: z.unknown().optional().describe('A tag (trimmed, lower-cased)'),
  page: z.unknown().optional(),
  page_size: z.unknown().optional(),
});

export const NoteResponse = z.object({
  id: z.number(),
  category: z.enum(NOTE_CATEGORIES),
  title: z.string(),
  content: z.string(),
  is_important: z.boolean(),
  tags: z.array(z.string()),
  created_at: z.string(),
  updated_at: z.string(),
  candidate: z.number(),
  admin: z.number().nullable(),
}) satisfies z.ZodType<NoteResponseOutput>;

export const NotePage = z.object({
  count: z.number(),
  next: z.string().nullable(),
  previous: z.string().nullable(),
  results: z.array(NoteResponse),
});

export const candidateParams = z.object({ candidate_id: z.coerce.number().int().positive() });

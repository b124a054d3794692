import { z } from 'zod';
import { noteCategoryEnum } from '../../db/schema.js';
import { bool, choice, escText } from '../../lib/fields.js';

/**
 * Validation of admin-note input (docs/contract.md#admin-notes). The service runs it itself, after
 * its permission checks: a candidate's change is refused with its 403 before the body is looked at
 * (docs/contract.md#original-differences item 30), and `candidate` is then checked in the database.
 */
export const NOTE_CATEGORIES = noteCategoryEnum.enumValues;
export type NoteCategory = (typeof NOTE_CATEGORIES)[number];

export const MAX_TAGS = 10;
export const MAX_TAG_LENGTH = 50;
const TAG_PATTERN = /^[\p{L}\p{Nd}_-]+$/u;
export const TAG_RULE_MESSAGE = `Each tag must be 1 to ${String(MAX_TAG_LENGTH)} characters of letters, digits, "-" or "_".`;

/** Python's type name of a JSON value, for DRF's "received str" style messages. */
function pyType(v: unknown): string {
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (Array.isArray(v)) return 'list';
  return 'dict';
}

export const pkMissingMessage = (pk: string) => `Invalid pk "${pk}" - object does not exist.`;
export const notCandidateMessage = (pk: number) => `User ${String(pk)} is not a candidate.`;

/**
 * `candidate`: a user id (DRF PrimaryKeyRelatedField). Whether it exists and is a candidate is checked
 * by the service against the database.
 */
export function candidatePk() {
  return z.unknown().transform((v, ctx) => {
    if (v === undefined) ctx.addIssue({ code: 'custom', message: 'This field is required.' });
    else if (v === null) ctx.addIssue({ code: 'custom', message: 'This field may not be null.' });
    else {
      const text = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim() : null;
      const integral =
        (typeof v === 'number' && Number.isInteger(v)) || (text !== null && /^-?\d+$/.test(text));
      if (integral && text !== null) {
        const n = Number(text);
        if (Number.isSafeInteger(n) && n > 0) return n;
        ctx.addIssue({ code: 'custom', message: pkMissingMessage(text) });
      } else {
        ctx.addIssue({
          code: 'custom',
          message: `Incorrect type. Expected pk value, received ${pyType(v)}.`,
        });
      }
    }
    return z.NEVER;
  });
}

/** Trims and lower-cases a tag; undefined when it breaks the rule. */
export function normaliseTag(raw: string): string | undefined {
  const tag = raw.trim().toLowerCase();
  const n = Array.from(tag).length;
  return n >= 1 && n <= MAX_TAG_LENGTH && TAG_PATTERN.test(tag) ? tag : undefined;
}

/**
 * `tags` (docs/contract.md): an array of strings, or one comma-separated string (form posts), each
 * trimmed and lower-cased; duplicates after that collapse; at most 10 distinct.
 * PRIVACY: tags are stored and audited in plain text, so they must never carry health details
 * (diagnoses, medications…); those belong in the encrypted title/content.
 */
export function tagList() {
  return z.unknown().transform((v, ctx) => {
    if (v === undefined) ctx.addIssue({ code: 'custom', message: 'This field is required.' });
    else if (v === null) ctx.addIssue({ code: 'custom', message: 'This field may not be null.' });
    else if (typeof v !== 'string' && !Array.isArray(v)) {
      ctx.addIssue({ code: 'custom', message: `Expected a list of items but got type "${pyType(v)}".` });
    } else {
      // A comma-separated string: empty pieces ("a,,b", "" or a trailing comma) are ignored.
      const items: unknown[] = typeof v === 'string' ? v.split(',').filter((s) => s.trim() !== '') : v;
      const tags: string[] = [];
      for (const item of items) {
        if (typeof item !== 'string') {
          ctx.addIssue({ code: 'custom', message: 'Each tag must be a string.' });
          return z.NEVER;
        }
        const tag = normaliseTag(item);
        if (tag === undefined) {
          ctx.addIssue({ code: 'custom', message: TAG_RULE_MESSAGE });
          return z.NEVER;
        }
        if (!tags.includes(tag)) tags.push(tag);
      }
      if (tags.length <= MAX_TAGS) return tags;
      ctx.addIssue({
        code: 'custom',
        message: `Ensure this field has no more than ${String(MAX_TAGS)} elements.`,
      });
    }
    return z.NEVER;
  });
}

/** Writable fields in the contract's order; read-only keys (`id`, `admin`, timestamps) are dropped. */
const fields = {
  candidate: candidatePk(),
  category: choice(NOTE_CATEGORIES),
  title: escText(200, { style: 'varchar', allowBlank: false }),
  content: escText(10000, { allowBlank: false }),
  is_important: bool().optional(),
  tags: tagList().optional(),
};
export const NOTE_FIELD_ORDER = Object.keys(fields) as (keyof typeof fields)[];

// A request without any body reads as `{}`, so its missing fields are reported one by one.
const orEmpty = (v: unknown) => v ?? {};

/** POST and PUT: `candidate`, `category`, `title`, `content` required. */
export const NoteBody = z.preprocess(orEmpty, z.object(fields));
export type NoteInput = z.output<typeof NoteBody>;

/** PATCH: every field optional; only the given ones are written. */
export const NotePatchBody = z.preprocess(
  orEmpty,
  z.object({
    ...fields,
    candidate: fields.candidate.optional(),
    category: fields.category.optional(),
    title: fields.title.optional(),
    content: fields.content.optional(),
  }),
);
export type NotePatch = z.output<typeof NotePatchBody>;

/** The list filters (additions). Invalid values are a 400 on the parameter, as for body fields. */
export const NoteFilters = z.object({
  candidate: candidatePk().optional(),
  category: choice(NOTE_CATEGORIES).optional(),
  is_important: bool().optional(),
  tag: z
    .string()
    .transform((s) => s.trim().toLowerCase())
    .optional(),
});
export type NoteFilterInput = z.output<typeof NoteFilters>;

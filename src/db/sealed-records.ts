import type { FieldCipher } from '../lib/crypto/field-cipher.js';
import { type RecordOf, sealedRecord } from '../lib/crypto/sealed-record.js';
import {
  adminNotes,
  intakeSubmissions,
  journalEntries,
  PROFILE_FIELDS,
  type ProfileField,
  userProfiles,
} from './schema.js';

/**
 * The sealed record of each table with several sensitive fields (docs/privacy.md#one-envelope-per-row):
 * which fields it holds, how a row is opened (its record, or its per-field columns when written
 * before records) and the columns a write stores (the record, the per-field columns cleared). Every
 * module that reads or writes these tables goes through here, so none seals by hand.
 */

type ProfileRow = typeof userProfiles.$inferSelect;
type EntryRow = typeof journalEntries.$inferSelect;
type NoteRow = typeof adminNotes.$inferSelect;
type SubmissionRow = typeof intakeSubmissions.$inferSelect;

const camel = (s: string) => s.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
/** A row's per-field columns by field name (the old column names are the record's keys). */
function fieldsOf<F extends string>(row: object, names: readonly F[]): Record<F, string | null> {
  const source = row as Record<string, unknown>;
  const out = {} as Record<F, string | null>;
  for (const name of names) {
    const value = source[camel(name)];
    out[name] = typeof value === 'string' ? value : null;
  }
  return out;
}
/** The per-field columns set to NULL (property names of the Drizzle table). */
function cleared(names: readonly string[]) {
  return Object.fromEntries(names.map((n) => [camel(n), null])) as Record<string, null>;
}

// ---- user_profiles: bound to the owner (one profile per person, keyed by the user id) ----

const PROFILE_SHAPE = Object.fromEntries(PROFILE_FIELDS.map((f) => [f, 'text?'])) as Record<
  ProfileField,
  'text?'
>;
export const profileRecord = sealedRecord('user_profiles', PROFILE_SHAPE);
export type ProfilePlain = RecordOf<typeof PROFILE_SHAPE>;
const profileRef = (userId: number) => ({ rowKey: userId, ownerId: userId });
const PROFILE_CLEARED = cleared(PROFILE_FIELDS) as Partial<typeof userProfiles.$inferInsert>;

export const openProfileRow = (cipher: FieldCipher, dek: Buffer, row: ProfileRow): ProfilePlain =>
  profileRecord.read(cipher, dek, profileRef(row.userId), {
    sealed: row.sealed,
    fields: fieldsOf(row, PROFILE_FIELDS),
  });

export const sealProfileColumns = (
  cipher: FieldCipher,
  dek: Buffer,
  userId: number,
  plain: ProfilePlain,
) => ({
  sealed: profileRecord.seal(cipher, dek, profileRef(userId), plain),
  ...PROFILE_CLEARED,
});

// ---- journal_entries: bound to the entry's id and owner ----

const JOURNAL_SHAPE = {
  activities: 'text',
  challenges: 'text',
  achievements: 'text',
  notes: 'text',
  barriers_faced: 'text',
} as const;
export const journalRecord = sealedRecord('journal_entries', JOURNAL_SHAPE);
export type JournalPlain = RecordOf<typeof JOURNAL_SHAPE>;
const JOURNAL_CLEARED = {
  activities: null,
  challenges: null,
  achievements: null,
  notes: null,
  barriersFaced: null,
} as const;

export const openJournalRow = (cipher: FieldCipher, dek: Buffer, row: EntryRow): JournalPlain =>
  journalRecord.read(
    cipher,
    dek,
    { rowKey: row.id, ownerId: row.userId },
    { sealed: row.sealed, fields: fieldsOf(row, journalRecord.fields) },
  );

export const sealJournalColumns = (
  cipher: FieldCipher,
  dek: Buffer,
  entry: { id: number; userId: number },
  plain: JournalPlain,
) => ({
  sealed: journalRecord.seal(cipher, dek, { rowKey: entry.id, ownerId: entry.userId }, plain),
  ...JOURNAL_CLEARED,
});

// ---- admin_notes: bound to the note's id and its candidate (re-sealed when the note moves) ----

const NOTE_SHAPE = { title: 'text', content: 'text' } as const;
export const noteRecord = sealedRecord('admin_notes', NOTE_SHAPE);
export type NotePlain = RecordOf<typeof NOTE_SHAPE>;

export const openNoteRow = (cipher: FieldCipher, dek: Buffer, row: NoteRow): NotePlain =>
  noteRecord.read(
    cipher,
    dek,
    { rowKey: row.id, ownerId: row.candidateId },
    { sealed: row.sealed, fields: { title: row.title, content: row.content } },
  );

export const sealNoteColumns = (
  cipher: FieldCipher,
  dek: Buffer,
  note: { id: number; candidateId: number },
  plain: NotePlain,
) => ({
  sealed: noteRecord.seal(cipher, dek, { rowKey: note.id, ownerId: note.candidateId }, plain),
  title: null,
  content: null,
});

// ---- intake_submissions: the answers and the review notes, bound to the submission and its owner ----

const SUBMISSION_SHAPE = { responses: 'json', review_notes: 'text?' } as const;
export const submissionRecord = sealedRecord('intake_submissions', SUBMISSION_SHAPE);
export type SubmissionPlain = RecordOf<typeof SUBMISSION_SHAPE>;

export const openSubmissionRow = (cipher: FieldCipher, dek: Buffer, row: SubmissionRow): SubmissionPlain =>
  submissionRecord.read(
    cipher,
    dek,
    { rowKey: row.id, ownerId: row.userId },
    { sealed: row.sealed, fields: { responses: row.responses, review_notes: row.reviewNotes } },
  );

export const sealSubmissionColumns = (
  cipher: FieldCipher,
  dek: Buffer,
  submission: { id: number; userId: number },
  plain: SubmissionPlain,
) => ({
  sealed: submissionRecord.seal(cipher, dek, { rowKey: submission.id, ownerId: submission.userId }, plain),
  responses: null,
  reviewNotes: null,
});

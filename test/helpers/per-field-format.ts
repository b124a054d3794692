import { eq } from 'drizzle-orm';
import type { Container } from '../../src/container.js';
import { adminNotes, intakeSubmissions, journalEntries, userProfiles } from '../../src/db/schema.js';
import {
  openJournalRow,
  openNoteRow,
  openProfileRow,
  openSubmissionRow,
  profileRecord,
} from '../../src/db/sealed-records.js';
import { fieldAad } from '../../src/lib/crypto/field-cipher.js';

/**
 * Turns rows written by this release back into the format of the releases before records: one `v1.`
 * ciphertext per column, bound to `table.column.row key`, and `sealed` NULL, exactly as the old
 * codecs wrote them (a JSON field as JSON text). Tests use it to have "existing data".
 */
type C = Pick<Container, 'db' | 'cipher' | 'dataKeys'>;

async function keyOf(c: C, userId: number): Promise<Buffer> {
  const dek = await c.dataKeys.find(c.db, userId);
  if (!dek) throw new Error(`no data key for user ${String(userId)}`);
  return dek;
}

export async function journalToPerField(c: C, id: number): Promise<void> {
  const [row] = await c.db.select().from(journalEntries).where(eq(journalEntries.id, id));
  if (!row) throw new Error(`no journal entry ${String(id)}`);
  const dek = await keyOf(c, row.userId);
  const plain = openJournalRow(c.cipher, dek, row);
  const v1 = (field: keyof typeof plain) =>
    c.cipher.encrypt(dek, plain[field], fieldAad('journal_entries', field, id));
  await c.db
    .update(journalEntries)
    .set({
      sealed: null,
      activities: v1('activities'),
      challenges: v1('challenges'),
      achievements: v1('achievements'),
      notes: v1('notes'),
      barriersFaced: v1('barriers_faced'),
    })
    .where(eq(journalEntries.id, id));
}

export async function noteToPerField(c: C, id: number): Promise<void> {
  const [row] = await c.db.select().from(adminNotes).where(eq(adminNotes.id, id));
  if (!row) throw new Error(`no admin note ${String(id)}`);
  const dek = await keyOf(c, row.candidateId);
  const plain = openNoteRow(c.cipher, dek, row);
  await c.db
    .update(adminNotes)
    .set({
      sealed: null,
      title: c.cipher.encrypt(dek, plain.title, fieldAad('admin_notes', 'title', id)),
      content: c.cipher.encrypt(dek, plain.content, fieldAad('admin_notes', 'content', id)),
    })
    .where(eq(adminNotes.id, id));
}

export async function submissionToPerField(c: C, id: number): Promise<void> {
  const [row] = await c.db.select().from(intakeSubmissions).where(eq(intakeSubmissions.id, id));
  if (!row) throw new Error(`no intake submission ${String(id)}`);
  const dek = await keyOf(c, row.userId);
  const plain = openSubmissionRow(c.cipher, dek, row);
  const aad = (column: string) => fieldAad('intake_submissions', column, id);
  await c.db
    .update(intakeSubmissions)
    .set({
      sealed: null,
      responses: c.cipher.encrypt(dek, JSON.stringify(plain.responses), aad('responses')),
      reviewNotes:
        plain.review_notes === null ? null : c.cipher.encrypt(dek, plain.review_notes, aad('review_notes')),
    })
    .where(eq(intakeSubmissions.id, id));
}

/** A profile is keyed by its owner's user id, in the old format too. */
export async function profileToPerField(c: C, userId: number): Promise<void> {
  const [row] = await c.db.select().from(userProfiles).where(eq(userProfiles.userId, userId));
  if (!row) throw new Error(`no profile for user ${String(userId)}`);
  const dek = await keyOf(c, userId);
  const plain = openProfileRow(c.cipher, dek, row);
  const columns: Record<string, string | null> = {};
  for (const field of profileRecord.fields) {
    const value = plain[field];
    const property = field.replace(/_([a-z])/g, (_m, ch: string) => ch.toUpperCase());
    columns[property] =
      value === null ? null : c.cipher.encrypt(dek, value, fieldAad('user_profiles', field, userId));
  }
  await c.db
    .update(userProfiles)
    .set({ sealed: null, ...columns })
    .where(eq(userProfiles.userId, userId));
}

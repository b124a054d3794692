import type { DbOrTx } from '../../../db/client.js';
import { openNoteRow, openSubmissionRow } from '../../../db/sealed-records.js';
import type { FieldCipher } from '../../../lib/crypto/field-cipher.js';
import { formatUtcIso } from '../../../lib/time.js';
import { openEntry } from '../../journal/index.js';
import type { DataKeyStore } from '../../keys/index.js';
import { openProfile } from '../../users/index.js';
import { createExportDocumentRepo } from './document-repo.js';

/**
 * The data export document (docs/privacy.md#data-export, POPIA right of access): everything stored
 * about ONE user, sensitive values decrypted with that user's data key (one record per row, or the
 * per-field columns of rows not yet re-sealed: docs/privacy.md#one-envelope-per-row). PRIVACY: every query is
 * scoped to the user in SQL (document-repo.ts); of other people only the author's e-mail of a note
 * (or review) about the user appears, and of the audit trail only the actor's role (no actor id,
 * name or IP). Timestamps are UTC with a `+00:00` offset, as the original's export.
 */
const iso = (d: Date) => formatUtcIso(d);
const isoOrNull = (d: Date | null) => (d ? formatUtcIso(d) : null);

/** Top-level keys, in document order. */
export const EXPORT_SECTIONS = [
  'export_metadata',
  'user_account',
  'profile',
  'journal_entries',
  'admin_notes',
  'consents',
  'deletion_requests',
  'export_requests',
  'consent_history',
  'sessions',
  'access_log',
  'intake_submissions',
] as const;

export class ExportSubjectMissing extends Error {
  constructor() {
    super('the user to export does not exist');
    this.name = 'ExportSubjectMissing';
  }
}

export interface ExportDocumentDeps {
  cipher: FieldCipher;
  dataKeys: Pick<DataKeyStore, 'find'>;
  now: () => Date;
}

/** Builds the document from `db` (the caller's transaction, so it sees that transaction's rows). */
export async function buildExport({ cipher, dataKeys, now }: ExportDocumentDeps, userId: number, db: DbOrTx) {
  const reads = createExportDocumentRepo(db);
  const account = await reads.account(userId);
  if (!account) throw new ExportSubjectMissing();
  const dek = (await dataKeys.find(db, userId)) ?? undefined;
  const key = () => {
    // Sensitive rows exist only once the user's key does (it is created with the first of them).
    if (!dek) throw new Error('the user has encrypted records but no data key');
    return dek;
  };

  const profileRow = await reads.profile(userId);
  const entries = await reads.journalEntries(userId);
  const notes = await reads.notesAbout(userId);
  const consents = await reads.consents(userId);
  const deletions = await reads.deletionRequests(userId);
  const exports = await reads.exportRequests(userId);
  const events = await reads.consentEvents(userId);
  const sessionRows = await reads.sessions(userId);
  const accessRows = await reads.accessLog(userId);
  const submissions = await reads.intakeSubmissions(userId);

  return {
    export_metadata: {
      exported_at: iso(now()),
      user_id: account.id,
      format: 'JSON' as const,
      popia_compliance: true as const,
    },
    user_account: {
      id: account.id,
      email: account.email,
      first_name: account.firstName,
      last_name: account.lastName,
      role: account.role,
      has_completed_intake: account.hasCompletedIntake,
      is_active: account.isActive,
      date_joined: iso(account.dateJoined),
      created_at: iso(account.createdAt),
      updated_at: iso(account.updatedAt),
    },
    profile: profileRow
      ? {
          ...openProfile(cipher, dek, profileRow),
          created_at: iso(profileRow.createdAt),
          updated_at: iso(profileRow.updatedAt),
        }
      : null,
    journal_entries: entries.map((row) => {
      const plain = openEntry(cipher, key(), row);
      return {
        date: row.date,
        mood: row.mood,
        energy_level: row.energyLevel,
        activities: plain.activities,
        challenges: plain.challenges,
        achievements: plain.achievements,
        notes: plain.notes,
        barriers_faced: plain.barriers_faced,
        barrier_count: row.barrierCount,
        created_at: iso(row.createdAt),
        updated_at: iso(row.updatedAt),
      };
    }),
    admin_notes: notes.map(({ note, authorEmail }) => {
      const plain = openNoteRow(cipher, key(), note);
      return {
        category: note.category,
        title: plain.title,
        content: plain.content,
        is_important: note.isImportant,
        created_by: authorEmail ?? null,
        created_at: iso(note.createdAt),
        updated_at: iso(note.updatedAt),
      };
    }),
    consents: consents.map(({ consent, version }) => ({
      consent_type: consent.consentType,
      granted: consent.granted,
      privacy_policy_version: version,
      granted_at: iso(consent.grantedAt),
      withdrawn_at: isoOrNull(consent.withdrawnAt),
    })),
    deletion_requests: deletions.map((row) => ({
      requested_at: iso(row.requestedAt),
      status: row.status,
      reason: row.reason,
      reviewed_at: isoOrNull(row.reviewedAt),
    })),
    export_requests: exports.map((row) => ({
      requested_at: iso(row.requestedAt),
      status: row.status,
      completed_at: isoOrNull(row.completedAt),
    })),
    consent_history: events.map(({ event, version }) => ({
      consent_type: event.consentType,
      action: event.action,
      privacy_policy_version: version,
      at: iso(event.at),
      ip_address: event.ipAddress,
      user_agent: event.userAgent,
    })),
    sessions: sessionRows.map((row) => ({
      created_at: iso(row.createdAt),
      last_activity: iso(row.lastActivity),
      expires_at: iso(row.expiresAt),
      ip_address: row.ipAddress,
      device_type: row.deviceType,
      browser: row.browser,
      os: row.os,
      terminated_at: isoOrNull(row.terminatedAt),
    })),
    access_log: accessRows.map((row) => ({
      at: iso(row.at),
      actor_role: row.actorRole,
      action: row.action,
      resource_type: row.resourceType,
      fields: row.fields ?? [],
    })),
    intake_submissions: submissions.map(({ submission: row, reviewerEmail }) => {
      const plain = openSubmissionRow(cipher, key(), row);
      return {
        status: row.status,
        submitted_at: iso(row.submittedAt),
        responses: plain.responses,
        reviewed_by: reviewerEmail ?? null,
        reviewed_at: isoOrNull(row.reviewedAt),
        review_notes: plain.review_notes,
      };
    }),
  };
}
export type ExportDocument = Awaited<ReturnType<typeof buildExport>>;

/** The file's text: JSON with a 2-space indent (as the original). */
export const serializeExport = (doc: ExportDocument) => JSON.stringify(doc, null, 2);

/** `my_data_<user_id>_<YYYY-MM-DD>.json` (UTC date of the export). */
export const exportFilename = (userId: number, at: Date) =>
  `my_data_${String(userId)}_${at.toISOString().slice(0, 10)}.json`;

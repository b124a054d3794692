import { and, desc, eq } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { DbOrTx } from '../../../db/client.js';
import {
  adminNotes,
  auditLog,
  consentEvents,
  dataDeletionRequests,
  dataExportRequests,
  intakeSubmissions,
  journalEntries,
  privacyPolicyVersions,
  sessions,
  userConsents,
  userProfiles,
  users,
} from '../../../db/schema.js';
import { notRefusedByOthers } from '../../audit/index.js';

const reviewer = alias(users, 'reviewer');

/**
 * The reads behind the export document (docs/privacy.md#data-export), one per section, in the
 * document's order. PRIVACY: every query is scoped to the one user in SQL; of other people only
 * the author's e-mail of a note (or review) about the user is read, and of the audit trail only
 * the actor's role (no actor id, name or IP).
 */
export function createExportDocumentRepo(db: DbOrTx) {
  return {
    async account(userId: number) {
      const [account] = await db.select().from(users).where(eq(users.id, userId)).limit(1);
      return account;
    },
    async profile(userId: number) {
      const [profileRow] = await db
        .select()
        .from(userProfiles)
        .where(eq(userProfiles.userId, userId))
        .limit(1);
      return profileRow;
    },
    journalEntries: (userId: number) =>
      db
        .select()
        .from(journalEntries)
        .where(eq(journalEntries.userId, userId))
        .orderBy(desc(journalEntries.date), desc(journalEntries.id)),
    /** Notes about the user, with their author's e-mail (null once the author is gone). */
    notesAbout: (userId: number) =>
      db
        .select({ note: adminNotes, authorEmail: users.email })
        .from(adminNotes)
        .leftJoin(users, eq(users.id, adminNotes.adminId))
        .where(eq(adminNotes.candidateId, userId))
        .orderBy(desc(adminNotes.createdAt), desc(adminNotes.id)),
    consents: (userId: number) =>
      db
        .select({ consent: userConsents, version: privacyPolicyVersions.version })
        .from(userConsents)
        .innerJoin(privacyPolicyVersions, eq(privacyPolicyVersions.id, userConsents.policyVersionId))
        .where(eq(userConsents.userId, userId))
        .orderBy(desc(userConsents.grantedAt), desc(userConsents.id)),
    deletionRequests: (userId: number) =>
      db
        .select()
        .from(dataDeletionRequests)
        .where(eq(dataDeletionRequests.userId, userId))
        .orderBy(desc(dataDeletionRequests.requestedAt), desc(dataDeletionRequests.id)),
    exportRequests: (userId: number) =>
      db
        .select({
          requestedAt: dataExportRequests.requestedAt,
          status: dataExportRequests.status,
          completedAt: dataExportRequests.completedAt,
        })
        .from(dataExportRequests)
        .where(eq(dataExportRequests.userId, userId))
        .orderBy(desc(dataExportRequests.requestedAt), desc(dataExportRequests.id)),
    consentEvents: (userId: number) =>
      db
        .select({ event: consentEvents, version: privacyPolicyVersions.version })
        .from(consentEvents)
        .innerJoin(privacyPolicyVersions, eq(privacyPolicyVersions.id, consentEvents.policyVersionId))
        .where(eq(consentEvents.userId, userId))
        .orderBy(desc(consentEvents.at), desc(consentEvents.id)),
    sessions: (userId: number) =>
      db
        .select()
        .from(sessions)
        .where(eq(sessions.userId, userId))
        .orderBy(desc(sessions.createdAt), desc(sessions.id)),
    /** As "who accessed my data": others' refused attempts are not accesses (docs/privacy.md#access-log). */
    accessLog: (userId: number) =>
      db
        .select({
          at: auditLog.at,
          actorRole: auditLog.actorRole,
          action: auditLog.action,
          resourceType: auditLog.resourceType,
          fields: auditLog.fields,
        })
        .from(auditLog)
        .where(and(eq(auditLog.subjectUserId, userId), notRefusedByOthers))
        .orderBy(desc(auditLog.at), desc(auditLog.id)),
    /** Intake submissions, with their reviewer's e-mail. */
    intakeSubmissions: (userId: number) =>
      db
        .select({ submission: intakeSubmissions, reviewerEmail: reviewer.email })
        .from(intakeSubmissions)
        .leftJoin(reviewer, eq(reviewer.id, intakeSubmissions.reviewedBy))
        .where(eq(intakeSubmissions.userId, userId))
        .orderBy(desc(intakeSubmissions.submittedAt), desc(intakeSubmissions.id)),
  };
}

import { eq } from 'drizzle-orm';
import type { Tx } from '../../../db/client.js';
import {
  accountDeletionSchedules,
  adminNotes,
  consentEvents,
  dataExportRequests,
  dataKeys,
  intakeSubmissions,
  journalEntries,
  passwordHistory,
  passwordResetTokens,
  sessions,
  twoFactorBackupCodes,
  userConsents,
  userProfiles,
  users,
} from '../../../db/schema.js';

export type ErasedUserRow = typeof users.$inferSelect;

/** What the anonymised user row keeps (docs/privacy.md#erasure). */
export interface Anonymised {
  email: string;
  name: string;
  password: string;
  at: Date;
}

const count = (rows: unknown[]) => rows.length;

/**
 * The writes of one erasure (docs/privacy.md#erasure), inside its transaction: every row of the
 * person's data across the schema, the user row and the data key.
 */
export function createErasureRepo(tx: Tx) {
  return {
    /** SECURITY: the person's row FOR UPDATE first; writers about them hold it FOR KEY SHARE. */
    async lockUser(userId: number): Promise<ErasedUserRow | undefined> {
      const [user] = await tx.select().from(users).where(eq(users.id, userId)).for('update').limit(1);
      return user;
    },

    /** The person's inactivity schedule, locked. */
    async lockSchedule(userId: number) {
      const [schedule] = await tx
        .select()
        .from(accountDeletionSchedules)
        .where(eq(accountDeletionSchedules.userId, userId))
        .for('update')
        .limit(1);
      return schedule;
    },

    /** Deletes every row holding the user's data; counts what the proof reports. */
    async deleteUserData(userId: number) {
      const journal = await tx
        .delete(journalEntries)
        .where(eq(journalEntries.userId, userId))
        .returning({ id: journalEntries.id });
      // Notes ABOUT the user; notes they wrote as an admin are about others and stay.
      const notes = await tx
        .delete(adminNotes)
        .where(eq(adminNotes.candidateId, userId))
        .returning({ id: adminNotes.id });
      const profile = await tx
        .delete(userProfiles)
        .where(eq(userProfiles.userId, userId))
        .returning({ id: userProfiles.id });
      const consents = await tx
        .delete(userConsents)
        .where(eq(userConsents.userId, userId))
        .returning({ id: userConsents.id });
      // Refresh tokens go with their sessions (FK cascade).
      const endedSessions = await tx.delete(sessions).where(eq(sessions.userId, userId)).returning();
      const exports = await tx
        .delete(dataExportRequests)
        .where(eq(dataExportRequests.userId, userId))
        .returning({ id: dataExportRequests.id });
      await tx.delete(intakeSubmissions).where(eq(intakeSubmissions.userId, userId));
      await tx.delete(passwordResetTokens).where(eq(passwordResetTokens.userId, userId));
      await tx.delete(twoFactorBackupCodes).where(eq(twoFactorBackupCodes.userId, userId));
      await tx.delete(passwordHistory).where(eq(passwordHistory.userId, userId));
      await tx.delete(accountDeletionSchedules).where(eq(accountDeletionSchedules.userId, userId));
      // The consent history stays as evidence of what was agreed, without where it came from.
      await tx
        .update(consentEvents)
        .set({ ipAddress: null, userAgent: null })
        .where(eq(consentEvents.userId, userId));
      return {
        journal_entries: count(journal),
        admin_notes: count(notes),
        profile: count(profile),
        consents: count(consents),
        sessions: endedSessions.length,
        export_requests: count(exports),
        endedSessions,
      };
    },

    /** Keeps the user row as an anonymised, inactive, unusable account. */
    async anonymise(userId: number, to: Anonymised): Promise<void> {
      await tx
        .update(users)
        .set({
          email: to.email,
          firstName: to.name,
          lastName: to.name,
          password: to.password,
          isActive: false,
          hasCompletedIntake: false,
          totpSecret: null,
          totpEnabled: false,
          totpEnabledAt: null,
          totpLastUsed: null,
          totpLastStep: null,
          anonymizedAt: to.at,
          updatedAt: to.at,
        })
        .where(eq(users.id, userId));
    },

    /** Crypto-shredding: the person's data key row goes (docs/privacy.md#crypto-shredding). */
    async deleteDataKey(userId: number): Promise<void> {
      await tx.delete(dataKeys).where(eq(dataKeys.userId, userId));
    },
  };
}

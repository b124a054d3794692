import { sha256Hex } from '../../lib/crypto/hash.js';
import { eq } from 'drizzle-orm';
import type { Container } from '../../container.js';
import type { Tx } from '../../db/client.js';
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
} from '../../db/schema.js';
import { badRequest, notFound } from '../../lib/errors.js';
import { formatUtcIso } from '../../lib/time.js';
import { type AuditContext, recordAudit } from '../audit/recorder.js';
import { createDeletionRepo } from './deletion-repo.js';

/**
 * Erasure (spec privacy.md §4 "Erasure", §7 crypto-shredding). One transaction deletes the user's
 * data, anonymises the account row, destroys the user's data key and records the proof; the shared
 * store learns of the ended sessions and the destroyed key before commit. The user row is locked
 * FOR UPDATE first: writers about the person lock it FOR KEY SHARE (keys/data-keys.ts), so they
 * finish before the erasure starts or see the anonymised row and answer 404. PRIVACY: once the data key row is gone, every ciphertext of this user that
 * survives anywhere (replica, backup, export file) can no longer be decrypted.
 */

/** How long the proof (the completed deletion request) is kept. */
export const PROOF_RETENTION_DAYS = 730;
export const ERASED_NAME = '[DELETED]';
/** Starts with `!`: the hasher treats it as unusable and never matches it. */
export const ERASED_PASSWORD = '!erased';
export const erasedEmail = (userId: number) => `deleted_${userId}@deleted.local`;

export const SUPERUSER_NOT_ERASABLE = 'Superuser accounts cannot be erased through a deletion request';
export const ALREADY_ERASED = 'User data has already been erased';
export const INACTIVITY_REASON = 'Account inactive beyond the retention period (automatic erasure)';

export interface ErasureContext {
  /** Who erases (an admin, or null for the scheduler / CLI) and the request metadata. */
  audit: AuditContext;
  /** `request`: an approved deletion request (`requestId`); `inactivity`: a past-due schedule. */
  trigger: 'request' | 'inactivity';
  requestId?: number;
  /** Years of inactivity, for the account_deleted e-mail. */
  inactiveYears?: number;
}

export interface DeletionProof {
  user_id: number;
  email_sha256: string;
  deleted_at: string;
  items_deleted: {
    journal_entries: number;
    admin_notes: number;
    profile: number;
    consents: number;
    sessions: number;
    export_requests: number;
  };
  user_anonymized: true;
  key_destroyed: true;
}

export interface ErasureResult {
  requestId: number;
  proof: DeletionProof;
}

const count = (rows: unknown[]) => rows.length;

/**
 * Erases one user. Throws 404 when the user does not exist, 400 for a superuser or an account
 * already erased, and 400 `Only approved requests can be executed` when the request is no longer
 * approved. For `inactivity`, returns null (nothing done) when the schedule was exempted, cancelled
 * by a login or is not yet due when the transaction runs.
 */
export async function eraseUser(
  c: Container,
  userId: number,
  context: ErasureContext,
): Promise<ErasureResult | null> {
  const at = c.now();
  const outcome = await c.sessions.transaction(async (tx, changes) => {
    const [user] = await tx.select().from(users).where(eq(users.id, userId)).for('update').limit(1);
    if (!user) throw notFound('User not found');
    if (user.anonymizedAt) throw badRequest(ALREADY_ERASED);
    if (user.role === 'superuser') throw badRequest(SUPERUSER_NOT_ERASABLE);

    const requests = createDeletionRepo(tx);
    if (context.trigger === 'request') {
      const request = context.requestId === undefined ? undefined : await requests.lock(context.requestId);
      if (request?.userId !== userId) throw notFound('Deletion request not found');
      if (request.status !== 'approved') throw badRequest('Only approved requests can be executed');
    } else if (!(await scheduleIsDue(tx, userId, at))) {
      return null;
    }

    // SECURITY: sessions end first (refused on every instance before commit), then the rows go.
    await changes.end({ userId }, 'erasure');
    const items = await deleteUserData(tx, userId);
    const { endedSessions: _ended, ...deleted } = items;

    await tx
      .update(users)
      .set({
        email: erasedEmail(userId),
        firstName: ERASED_NAME,
        lastName: ERASED_NAME,
        password: ERASED_PASSWORD,
        isActive: false,
        hasCompletedIntake: false,
        totpSecret: null,
        totpEnabled: false,
        totpEnabledAt: null,
        totpLastUsed: null,
        totpLastStep: null,
        anonymizedAt: at,
        updatedAt: at,
      })
      .where(eq(users.id, userId));
    // Crypto-shredding: the user's data key is destroyed last, with everything it protected, and
    // every instance's cached copy is invalidated before this commits (a store failure aborts).
    await tx.delete(dataKeys).where(eq(dataKeys.userId, userId));
    await c.dataKeys.invalidateAll();

    const proof: DeletionProof = {
      user_id: userId,
      email_sha256: sha256Hex(user.email.trim().toLowerCase()),
      deleted_at: formatUtcIso(at),
      items_deleted: deleted,
      user_anonymized: true,
      key_destroyed: true,
    };
    const completion = {
      status: 'completed' as const,
      completedAt: at,
      deletionProof: proof as unknown as Record<string, unknown>,
      retentionUntil: new Date(at.getTime() + PROOF_RETENTION_DAYS * 86_400_000),
    };
    // An erasure for inactivity completes the person's open request if they had one; otherwise
    // its proof lives in a request row of its own.
    const target = context.trigger === 'request' ? context.requestId : (await requests.open(userId))?.id;
    const request =
      target !== undefined
        ? await requests.update(target, completion)
        : await requests.insert({
            userId,
            requestedAt: at,
            reason: INACTIVITY_REASON,
            ...completion,
          });

    await recordAudit(tx, context.audit, {
      action: 'deletion_executed',
      resourceType: 'data_deletion_request',
      resourceId: request.id,
      subjectUserId: userId,
      metadata: { trigger: context.trigger, items_deleted: deleted, key_destroyed: true },
    });
    return {
      result: { requestId: request.id, proof },
      recipient: { email: user.email, name: user.firstName },
    };
  });
  if (!outcome) return null;

  // After commit: this instance forgets the cached key.
  c.dataKeys.evict(userId);
  // The notice goes to the address the person had, not to the anonymised one.
  const { email, name } = outcome.recipient;
  if (context.trigger === 'request') {
    c.mailer.send('deletion_completed', email, { name, completedAt: c.fmt(at) });
  } else {
    c.mailer.send('account_deleted', email, {
      name,
      years: context.inactiveYears ?? c.config.retention.inactiveYears,
      registerUrl: `${c.config.frontendUrl}/register`,
    });
  }
  return outcome.result;
}

async function scheduleIsDue(tx: Tx, userId: number, at: Date): Promise<boolean> {
  const [schedule] = await tx
    .select()
    .from(accountDeletionSchedules)
    .where(eq(accountDeletionSchedules.userId, userId))
    .for('update')
    .limit(1);
  return !!schedule && !schedule.exempted && schedule.scheduledDeletionDate.getTime() <= at.getTime();
}

/** Deletes every row holding the user's data; counts what the proof reports. */
async function deleteUserData(tx: Tx, userId: number) {
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
}

import { forgetOpenedRecords } from '../../../lib/crypto/opened-records.js';
import type { OnDataChange } from '../../../lib/changes.js';
import type { Config } from '../../../config.js';
import type { Tx } from '../../../db/client.js';
import { sha256Hex } from '../../../lib/crypto/hash.js';
import { badRequest, notFound } from '../../../lib/errors.js';
import { formatUtcIso } from '../../../lib/time.js';
import { type AuditContext, recordAudit } from '../../audit/index.js';
import type { DataKeyStore } from '../../keys/index.js';
import type { Mailer } from '../../mail/index.js';
import { createErasureRepo } from './erasure-repo.js';
import { createDeletionRepo } from './repo.js';

/**
 * Erasure (docs/privacy.md#erasure, #crypto-shredding). One transaction deletes the user's data,
 * anonymises the account row, destroys the user's data key and records the proof; the shared store
 * learns of the ended sessions and the destroyed key before commit. The user row is locked FOR
 * UPDATE first: writers about the person lock it FOR KEY SHARE (keys/data-keys.ts), so they finish
 * before the erasure starts or see the anonymised row and answer 404. PRIVACY: once the data key row
 * is gone, every ciphertext of this user that survives anywhere (replica, backup, export file) can
 * no longer be decrypted.
 */

/** Ends a person's sessions inside the erasure's transaction (the only session change it makes). */
export interface EndSessions {
  end(filter: { userId: number }, reason: 'erasure'): Promise<unknown>;
}

/**
 * What erasure needs of the session service: a transaction in which the sessions it ends reach the
 * shared store (every instance refuses them) before commit, or nothing changes. The session
 * service satisfies it structurally, wherever it lives.
 */
export interface SessionTermination {
  transaction<T>(work: (tx: Tx, sessions: EndSessions) => Promise<T>): Promise<T>;
}

export interface ErasureDeps {
  sessions: SessionTermination;
  dataKeys: Pick<DataKeyStore, 'invalidateAll' | 'evict'>;
  mailer: Pick<Mailer, 'queue' | 'kick' | 'send'>;
  fmt: (d: Date) => string;
  now: () => Date;
  config: Pick<Config, 'frontendUrl'> & { retention: Pick<Config['retention'], 'inactiveYears'> };
  /** After a commit, before the answer: what changed (docs/operations.md#caches). */
  changed: OnDataChange;
}

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

/**
 * Erases one user. Throws 404 when the user does not exist, 400 for a superuser or an account
 * already erased, and 400 `Only approved requests can be executed` when the request is no longer
 * approved. For `inactivity`, returns null (nothing done) when the schedule was exempted, cancelled
 * by a login or is not yet due when the transaction runs.
 */
export async function eraseUser(
  deps: ErasureDeps,
  userId: number,
  context: ErasureContext,
): Promise<ErasureResult | null> {
  const { sessions, dataKeys, mailer, fmt, now, config } = deps;
  const at = now();
  const outcome = await sessions.transaction(async (tx, changes) => {
    const erasure = createErasureRepo(tx);
    const user = await erasure.lockUser(userId);
    if (!user) throw notFound('User not found');
    if (user.anonymizedAt) throw badRequest(ALREADY_ERASED);
    if (user.role === 'superuser') throw badRequest(SUPERUSER_NOT_ERASABLE);

    const requests = createDeletionRepo(tx);
    if (context.trigger === 'request') {
      const request = context.requestId === undefined ? undefined : await requests.lock(context.requestId);
      if (request?.userId !== userId) throw notFound('Deletion request not found');
      if (request.status !== 'approved') throw badRequest('Only approved requests can be executed');
    } else {
      const schedule = await erasure.lockSchedule(userId);
      const due =
        !!schedule && !schedule.exempted && schedule.scheduledDeletionDate.getTime() <= at.getTime();
      if (!due) return null;
    }

    // SECURITY: sessions end first (refused on every instance before commit), then the rows go.
    await changes.end({ userId }, 'erasure');
    const items = await erasure.deleteUserData(userId);
    const { endedSessions: _ended, ...deleted } = items;

    await erasure.anonymise(userId, {
      email: erasedEmail(userId),
      name: ERASED_NAME,
      password: ERASED_PASSWORD,
      at,
    });
    // Crypto-shredding: the user's data key is destroyed last, with everything it protected, and
    // every instance's cached copy is invalidated before this commits (a store failure aborts).
    await erasure.deleteDataKey(userId);
    await dataKeys.invalidateAll();

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
    // Queued with the erasure: sent once it commits, to the address the person had (not the anonymised
    // one), and never lost between the two. The sealed job leaves the outbox when it is delivered.
    if (context.trigger === 'request') {
      await mailer.queue(tx, 'deletion_completed', user.email, {
        name: user.firstName,
        completedAt: fmt(at),
      });
    } else {
      await mailer.queue(tx, 'account_deleted', user.email, {
        name: user.firstName,
        years: context.inactiveYears ?? config.retention.inactiveYears,
        registerUrl: `${config.frontendUrl}/register`,
      });
    }
    return { requestId: request.id, proof };
  });
  if (!outcome) return null;
  // PRIVACY: no instance serves the erased person's cached profile once this answers, and this one
  // drops every record it opened (others drop theirs within a minute; no row holds them any more).
  await deps.changed([{ kind: 'account', userId }]);
  forgetOpenedRecords();

  // After commit: this instance forgets the cached key.
  dataKeys.evict(userId);
  mailer.kick();
  return outcome;
}

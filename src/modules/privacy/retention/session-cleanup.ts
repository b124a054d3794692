import type { Db } from '../../../db/client.js';
import { recordAudit } from '../../audit/index.js';
import { SYSTEM } from './inactive-accounts.js';
import { createRetentionRepo } from './repo.js';

const DAY_MS = 86_400_000;

/**
 * Retention of ended sessions and used reset tokens (docs/privacy.md#retention; job
 * `sessions.cleanup`, CLI `sessions:cleanup`).
 */
/** Deletes sessions that ended, and reset tokens used or expired, more than `days` ago. */
export async function cleanupSessions(
  { db, now }: { db: Db; now: () => Date },
  opts: { days: number; dryRun: boolean },
): Promise<{ sessions: number; reset_tokens: number }> {
  const cutoff = new Date(now().getTime() - opts.days * DAY_MS);
  return db.transaction(async (tx) => {
    const repo = createRetentionRepo(tx);
    const sessions = await repo.deleteOldSessions(cutoff, opts.dryRun);
    const resetTokens = await repo.deleteOldResetTokens(cutoff, opts.dryRun);
    if (!opts.dryRun && sessions + resetTokens > 0) {
      await recordAudit(tx, SYSTEM, {
        action: 'delete',
        resourceType: 'session',
        metadata: { sessions, reset_tokens: resetTokens, older_than_days: opts.days },
        reason: 'retention',
      });
    }
    return { sessions, reset_tokens: resetTokens };
  });
}

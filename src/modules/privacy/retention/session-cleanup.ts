import type { Db } from '../../../db/client.js';
import { recordAudit } from '../../audit/index.js';
import { SYSTEM } from './inactive-accounts.js';
import { createRetentionRepo } from './repo.js';

const DAY_MS = 86_400_000;

/**
 * Retention of ended sessions and used reset tokens (docs/privacy.md#retention; jobs
 * `sessions.cleanup` at 02:00 and `reset-tokens.purge` at 04:00, CLI `sessions:cleanup` for both).
 */
/** Deletes sessions that ended, and/or reset tokens used or expired, more than `days` ago. */
export async function cleanupSessions(
  { db, now }: { db: Db; now: () => Date },
  opts: { days: number; dryRun: boolean; only?: 'sessions' | 'reset_tokens' },
): Promise<{ sessions: number; reset_tokens: number }> {
  const cutoff = new Date(now().getTime() - opts.days * DAY_MS);
  return db.transaction(async (tx) => {
    const repo = createRetentionRepo(tx);
    const sessions = opts.only === 'reset_tokens' ? 0 : await repo.deleteOldSessions(cutoff, opts.dryRun);
    const resetTokens = opts.only === 'sessions' ? 0 : await repo.deleteOldResetTokens(cutoff, opts.dryRun);
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

import { count, gte, lt, min, sql } from 'drizzle-orm';
import type { Container } from '../../container.js';
import type { DbOrTx } from '../../db/client.js';
import { auditLog } from '../../db/schema.js';
import { recordAudit } from './recorder.js';

const DAY_MS = 86_400_000;

export interface AuditPurgeOptions {
  retentionDays: number;
  dryRun: boolean;
}

export interface AuditPurgeResult {
  cutoff: Date;
  /** Entries removed (or, in a dry run, that would be). */
  deleted: number;
  /** Seq of the first entry that stays (null when none does). */
  firstKeptSeq: number | null;
}

/**
 * Retention purge of the audit log (spec privacy.md §5, §6; operations.md §3 `audit:purge`): removes
 * the entries older than the retention. SECURITY: the append-only trigger lets DELETE through only
 * in a transaction that set `pss.audit_purge`. Only the chain's PREFIX is removed (every entry
 * before the first one inside the retention), so what remains is one unbroken chain; an older
 * entry committed after a newer one waits for a later purge. The purge itself is audited (system).
 */
export async function purgeAuditLog(c: Container, opts: AuditPurgeOptions): Promise<AuditPurgeResult> {
  const cutoff = new Date(c.now().getTime() - opts.retentionDays * DAY_MS);
  const bounds = async (db: DbOrTx) => {
    const [kept] = await db
      .select({ seq: min(auditLog.seq) })
      .from(auditLog)
      .where(gte(auditLog.at, cutoff));
    const firstKeptSeq = kept?.seq ?? null;
    const older = lt(auditLog.at, cutoff);
    const old = firstKeptSeq === null ? older : sql`${older} and ${lt(auditLog.seq, firstKeptSeq)}`;
    return { firstKeptSeq, old };
  };

  if (opts.dryRun) {
    const { firstKeptSeq, old } = await bounds(c.db);
    const [n] = await c.db.select({ n: count() }).from(auditLog).where(old);
    return { cutoff, deleted: n?.n ?? 0, firstKeptSeq };
  }

  return c.db.transaction(async (tx) => {
    await tx.execute(sql`select set_config('pss.audit_purge', 'on', true)`);
    const { firstKeptSeq, old } = await bounds(tx);
    // Counted in the database: a purge may remove millions of rows.
    const result = await tx.execute(
      sql`with removed as (delete from ${auditLog} where ${old} returning seq)
          select count(*)::int as n, max(seq)::text as through from removed`,
    );
    const row = (result as { rows: { n: number | string; through: string | null }[] }).rows[0];
    const deleted = Number(row?.n ?? 0);
    const throughSeq = row?.through == null ? null : Number(row.through);
    await recordAudit(
      tx,
      { actor: null, meta: null },
      {
        action: 'audit_purged',
        resourceType: 'audit_log',
        metadata: {
          retention_days: opts.retentionDays,
          cutoff: cutoff.toISOString(),
          deleted,
          through_seq: throughSeq,
        },
      },
    );
    return { cutoff, deleted, firstKeptSeq };
  });
}

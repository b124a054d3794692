import { asc, count, desc, eq, gt, gte, isNotNull, isNull, lt, max, min, sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { auditCheckpoints, auditLog } from '../../db/schema.js';
import type { CheckpointFields, EntryContent } from './chain-mac.js';

/**
 * Queries of the audit chain (docs/privacy.md#append-only-chain): what the sealer reads and writes,
 * and what the verifier walks. No key ever appears here: hashes are computed in chain-mac.ts.
 */

/** Stable, arbitrary: one sealer at a time, cluster-wide (migrations use 727001). */
const SEALER_LOCK = 727_003;

/**
 * An entry's content as the chain covers it (`EntryContent`): the database's text rendering of each
 * column, `at` in whole microseconds. Fixed for the keyed scheme: never reorder, never extend.
 */
const CHAIN_CONTENT = sql.raw(`json_build_array(
  "audit_log"."id"::text, ((extract(epoch FROM "audit_log"."at") * 1000000)::bigint)::text,
  "audit_log"."actor_id"::text, "audit_log"."actor_role", "audit_log"."ip", "audit_log"."user_agent",
  "audit_log"."request_id", "audit_log"."action", "audit_log"."resource_type", "audit_log"."resource_id",
  "audit_log"."subject_user_id"::text, "audit_log"."fields"::text, "audit_log"."changes"::text,
  "audit_log"."outcome", "audit_log"."reason", "audit_log"."metadata"::text)`);

/**
 * SAFETY: an entry is sealed only once no transaction that began before its own can still commit
 * one. Every transaction whose id is below the snapshot's xmin has ended: a visible entry stamped
 * below it committed, and no further entry stamped below it can ever appear. So sealing the entries
 * below xmin in (xid, id) order chains every entry in that one order, whenever the sealer runs and
 * however its batches fall: the chain is a function of the log, not of the timing. (Entries from
 * before the stamp have no xid and come first; one stamped at or beyond the snapshot's xmax can only
 * come from a logical restore into another cluster, and is visible, so committed.) xmin is
 * cluster-wide: a long write transaction in any database of the cluster delays sealing (never
 * writers). One scalar subquery: one snapshot for the whole statement.
 */
const CERTAINLY_COMMITTED = sql`(${auditLog.xid} is null
  or ${auditLog.xid} < pg_snapshot_xmin((select pg_current_snapshot()))
  or ${auditLog.xid} >= pg_snapshot_xmax((select pg_current_snapshot())))`;

export interface EligibleEntry {
  id: number;
  content: EntryContent;
}

export interface SealedLink {
  id: number;
  seq: number;
  prevHash: string | null;
  hash: string;
}

/** One entry of the chain walk: its links, scheme, and what its hash must be computed from. */
export interface ChainEntry {
  id: number;
  seq: number;
  prevHash: string | null;
  hash: string | null;
  scheme: number | null;
  /** Scheme 1 only: the database's verdict (`audit_log_digest`, migrations/0004). */
  legacyIntact: boolean | null;
  content: EntryContent;
}

export type Checkpoint = CheckpointFields & { id: number; mac: string };

/** A checkpoint with the hash of the entry it names (null when that entry is gone). */
export type CheckedCheckpoint = Checkpoint & { entryHash: string | null };

export function createChainRepo(db: DbOrTx) {
  const rows = <T>(result: unknown) => (result as { rows: T[] }).rows;

  return {
    /**
     * Takes the sealer's lock for the caller's transaction: waits for it (`wait`) or answers false
     * at once when another sealer holds it.
     */
    async lockSealer(wait: boolean): Promise<boolean> {
      if (wait) {
        await db.execute(sql`select pg_advisory_xact_lock(${SEALER_LOCK})`);
        return true;
      }
      const [row] = rows<{ ok: boolean }>(
        await db.execute(sql`select pg_try_advisory_xact_lock(${SEALER_LOCK}) as ok`),
      );
      return row?.ok === true;
    },
    /**
     * SECURITY: the append-only trigger lets the sealer set an unsealed entry's chain columns (and
     * nothing else) only in a transaction that set `pss.audit_seal`; this sets it for the caller's.
     */
    async allowSeal(): Promise<void> {
      await db.execute(sql`select set_config('pss.audit_seal', 'on', true)`);
    },

    /** The latest checkpoint: the chain's head as last signed. */
    async latestCheckpoint(): Promise<Checkpoint | undefined> {
      const [row] = await db.select().from(auditCheckpoints).orderBy(desc(auditCheckpoints.seq)).limit(1);
      return row;
    },
    /** The sealed entry with the highest seq. */
    async lastSealed(): Promise<{ seq: number; hash: string | null } | undefined> {
      const [row] = await db
        .select({ seq: auditLog.seq, hash: auditLog.hash })
        .from(auditLog)
        .where(isNotNull(auditLog.seq))
        .orderBy(desc(auditLog.seq))
        .limit(1);
      return row?.seq == null ? undefined : { seq: row.seq, hash: row.hash };
    },
    async highestSeq(): Promise<number | null> {
      const [row] = await db.select({ seq: max(auditLog.seq) }).from(auditLog);
      return row?.seq ?? null;
    },

    /** The next unsealed entries whose transactions certainly committed, in chain order. */
    async eligible(limit: number): Promise<EligibleEntry[]> {
      return db
        .select({ id: auditLog.id, content: sql<EntryContent>`${CHAIN_CONTENT}` })
        .from(auditLog)
        .where(sql`${isNull(auditLog.seq)} and ${CERTAINLY_COMMITTED}`)
        .orderBy(sql`${auditLog.xid} asc nulls first`, asc(auditLog.id))
        .limit(limit);
    },

    /** Writes the chain columns of unsealed entries in one statement; returns how many it set. */
    async seal(links: SealedLink[]): Promise<number> {
      const values = JSON.stringify(
        links.map((l) => ({ id: l.id, seq: l.seq, prev_hash: l.prevHash, hash: l.hash })),
      );
      const [row] = rows<{ n: number | string }>(
        await db.execute(sql`with v as (
            select * from jsonb_to_recordset(${values}::jsonb)
              as v(id bigint, seq bigint, prev_hash varchar, hash varchar)),
          u as (update ${auditLog} a set seq = v.seq, prev_hash = v.prev_hash, hash = v.hash, chain_scheme = 2
            from v where a.id = v.id and a.seq is null returning 1)
          select count(*)::int as n from u`),
      );
      return Number(row?.n ?? 0);
    },

    async insertCheckpoint(checkpoint: CheckpointFields & { mac: string }): Promise<void> {
      await db.insert(auditCheckpoints).values(checkpoint);
    },

    /** Unsealed entries: how many, and when the oldest was written. */
    async unsealed(): Promise<{ count: number; oldestAt: Date | null }> {
      const [row] = await db
        .select({ n: count(), oldest: min(auditLog.at) })
        .from(auditLog)
        .where(isNull(auditLog.seq));
      return { count: row?.n ?? 0, oldestAt: row?.oldest ?? null };
    },

    /** The next `limit` chain entries after `afterSeq` (from the start when null), in `seq` order. */
    async chainBatch(afterSeq: number | null, limit: number): Promise<ChainEntry[]> {
      const found = await db
        .select({
          id: auditLog.id,
          seq: auditLog.seq,
          prevHash: auditLog.prevHash,
          hash: auditLog.hash,
          scheme: auditLog.chainScheme,
          legacyIntact: sql<boolean | null>`case when ${auditLog.chainScheme} = 1
            then ${auditLog.hash} is not distinct from audit_log_digest(audit_log) end`,
          content: sql<EntryContent>`${CHAIN_CONTENT}`,
        })
        .from(auditLog)
        .where(afterSeq !== null ? gt(auditLog.seq, afterSeq) : isNotNull(auditLog.seq))
        .orderBy(asc(auditLog.seq))
        .limit(limit);
      return found.map((r) => ({ ...r, seq: r.seq ?? 0 }));
    },

    /** Checkpoints from `fromSeq` on, after `afterSeq`, in seq order, each with its entry's hash. */
    async checkpointBatch(
      fromSeq: number,
      afterSeq: number | null,
      limit: number,
    ): Promise<CheckedCheckpoint[]> {
      const where: SQL =
        afterSeq === null ? gte(auditCheckpoints.seq, fromSeq) : gt(auditCheckpoints.seq, afterSeq);
      const found = await db
        .select({
          id: auditCheckpoints.id,
          seq: auditCheckpoints.seq,
          hash: auditCheckpoints.hash,
          at: auditCheckpoints.at,
          sealed: auditCheckpoints.sealed,
          keyId: auditCheckpoints.keyId,
          mac: auditCheckpoints.mac,
          entryHash: auditLog.hash,
        })
        .from(auditCheckpoints)
        .leftJoin(auditLog, eq(auditLog.seq, auditCheckpoints.seq))
        .where(where)
        .orderBy(asc(auditCheckpoints.seq))
        .limit(limit);
      return found;
    },

    /** Checkpoints naming entries before `seq` (removed by the purge); the trigger keeps the latest. */
    async pruneCheckpointsBefore(seq: number): Promise<void> {
      await db.delete(auditCheckpoints).where(lt(auditCheckpoints.seq, seq));
    },
  };
}

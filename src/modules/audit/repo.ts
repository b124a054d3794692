import { and, count, desc, eq, gte, inArray, lt, min, sql, type SQL } from 'drizzle-orm';
import { alias, type PgColumn } from 'drizzle-orm/pg-core';
import type { DbOrTx } from '../../db/client.js';
import { auditLog, users } from '../../db/schema.js';

/** Queries on `audit_log` (docs/privacy.md#audit-log): inserts, reads and purge (the chain: chain-repo.ts). */
export type AuditRow = typeof auditLog.$inferSelect;
export type AuditInsert = typeof auditLog.$inferInsert;

/**
 * PRIVACY: someone else's refused attempt is not an access to the subject's data (nothing was
 * disclosed), and naming that person (possibly a fellow candidate) to the subject would disclose
 * them; so "who accessed my data" leaves such entries out (docs/privacy.md#access-log). Anonymous
 * security events about the account (`login_locked`, `token_reuse_detected`) stay visible.
 */
export const notRefusedByOthers: SQL = sql`not (${auditLog.outcome} = 'denied' and ${auditLog.actorId} is not null)`;

/** Where an object lives: the column the path id matches, the object's own id, and whose it is. */
export interface ObjectLookup {
  by: PgColumn;
  id: PgColumn;
  owner: PgColumn;
}

/** Filters of the superuser's search (`GET popia/audit-log/`); dates are local days in `timeZone`. */
export interface AuditSearchFilter {
  actor?: number;
  subject?: number;
  action?: string;
  resourceType?: string;
  outcome?: string;
  dateFrom?: string;
  dateTo?: string;
  timeZone: string;
}

/** The owner's user row (an alias: the looked-up object may itself be a user). */
const owners = alias(users, 'owner');
const newestFirst = [desc(auditLog.at), desc(auditLog.id)];

/** Entries about `userId` made by someone else (or by anyone with `includeSelf`); no refused attempts. */
const aboutUser = (userId: number, includeSelf: boolean): SQL | undefined =>
  and(
    eq(auditLog.subjectUserId, userId),
    includeSelf ? undefined : sql`${auditLog.actorId} is distinct from ${userId}`,
    notRefusedByOthers,
  );

/** Local calendar days (TIME_ZONE), inclusive at both ends. */
function dateRange(from: string | undefined, to: string | undefined, tz: string): SQL[] {
  const out: SQL[] = [];
  if (from) out.push(gte(auditLog.at, sql`(${from}::date)::timestamp at time zone ${tz}`));
  if (to) out.push(sql`${auditLog.at} < ((${to}::date + 1)::timestamp at time zone ${tz})`);
  return out;
}

const searchWhere = (f: AuditSearchFilter): SQL | undefined =>
  and(
    f.actor !== undefined ? eq(auditLog.actorId, f.actor) : undefined,
    f.subject !== undefined ? eq(auditLog.subjectUserId, f.subject) : undefined,
    f.action !== undefined ? eq(auditLog.action, f.action) : undefined,
    f.resourceType !== undefined ? eq(auditLog.resourceType, f.resourceType) : undefined,
    f.outcome !== undefined ? eq(auditLog.outcome, f.outcome) : undefined,
    ...dateRange(f.dateFrom, f.dateTo, f.timeZone),
  );

/**
 * The entries a purge may remove: sealed before `keepFrom` (only the chain's prefix goes; unsealed
 * entries never do) and older than `cutoff`.
 */
const purgeable = (cutoff: Date, keepFrom: number): SQL =>
  and(lt(auditLog.seq, keepFrom), lt(auditLog.at, cutoff)) as SQL;

export function createAuditRepo(db: DbOrTx) {
  const entries = (where: SQL | undefined, limit: number, offset: number): Promise<AuditRow[]> =>
    db
      .select()
      .from(auditLog)
      .where(where)
      .orderBy(...newestFirst)
      .limit(limit)
      .offset(offset);
  const countEntries = async (where: SQL | undefined): Promise<number> =>
    (await db.select({ n: count() }).from(auditLog).where(where))[0]?.n ?? 0;

  return {
    /** Several entries in ONE statement, unsealed; the sealer chains them in the order given (ids). */
    async insert(rows: AuditInsert[]): Promise<void> {
      await db.insert(auditLog).values(rows);
    },

    /**
     * The object's id and owner, whoever the caller is; undefined when there is no such object, or
     * when its owner was erased. PRIVACY: ids only, never a sensitive column.
     */
    async findObject(lookup: ObjectLookup, pathId: number) {
      const rows = await db
        .select({ id: lookup.id, owner: lookup.owner, erased: owners.anonymizedAt })
        .from(lookup.by.table)
        .leftJoin(owners, eq(owners.id, lookup.owner))
        .where(eq(lookup.by, pathId))
        .limit(1);
      const row = rows[0];
      if (!row || row.owner === null || row.erased !== null) return undefined;
      return { id: Number(row.id), owner: Number(row.owner) };
    },

    /** A page of the entries about the user, newest first (see `aboutUser`). */
    accessLogPage: (userId: number, includeSelf: boolean, limit: number, offset: number) =>
      entries(aboutUser(userId, includeSelf), limit, offset),
    accessLogCount: (userId: number, includeSelf: boolean) => countEntries(aboutUser(userId, includeSelf)),
    /** A page of every entry matching the filters, newest first. */
    searchPage: (filter: AuditSearchFilter, limit: number, offset: number) =>
      entries(searchWhere(filter), limit, offset),
    searchCount: (filter: AuditSearchFilter) => countEntries(searchWhere(filter)),

    /** One query for the names of every actor on a page; a removed user has no name. */
    async actorNames(ids: number[]): Promise<Map<number, string>> {
      if (ids.length === 0) return new Map();
      const rows = await db
        .select({ id: users.id, firstName: users.firstName, lastName: users.lastName })
        .from(users)
        .where(inArray(users.id, ids));
      return new Map(rows.map((u) => [u.id, `${u.firstName} ${u.lastName}`.trim()]));
    },

    /** Seq of the first sealed entry inside the retention (null when none is). */
    async firstSeqFrom(cutoff: Date): Promise<number | null> {
      const [kept] = await db
        .select({ seq: min(auditLog.seq) })
        .from(auditLog)
        .where(gte(auditLog.at, cutoff));
      return kept?.seq ?? null;
    },
    async countPurgeable(cutoff: Date, keepFrom: number): Promise<number> {
      const [n] = await db.select({ n: count() }).from(auditLog).where(purgeable(cutoff, keepFrom));
      return n?.n ?? 0;
    },
    /**
     * SECURITY: the append-only trigger lets a DELETE through only in a transaction that set
     * `pss.audit_purge`; this sets it for the caller's transaction.
     */
    async allowPurge(): Promise<void> {
      await db.execute(sql`select set_config('pss.audit_purge', 'on', true)`);
    },
    /** Deletes the purgeable entries; counted in the database (a purge may remove millions). */
    async deletePurgeable(
      cutoff: Date,
      keepFrom: number,
    ): Promise<{ deleted: number; throughSeq: number | null }> {
      const result = await db.execute(
        sql`with removed as (delete from ${auditLog} where ${purgeable(cutoff, keepFrom)} returning seq)
          select count(*)::int as n, max(seq)::text as through from removed`,
      );
      const row = (result as { rows: { n: number | string; through: string | null }[] }).rows[0];
      return {
        deleted: Number(row?.n ?? 0),
        throughSeq: row?.through == null ? null : Number(row.through),
      };
    },
  };
}

import { and, count, desc, eq, sql } from 'drizzle-orm';
import { onlyRow } from '../../../db/errors.js';
import type { DbOrTx } from '../../../db/client.js';
import { consentEvents, privacyPolicyVersions, userConsents } from '../../../db/schema.js';
import type { ConsentAction, ConsentType } from './types.js';

export type ConsentRow = typeof userConsents.$inferSelect;
/** A consent with its policy version's number (and its place in time, for "older version"). */
export type ConsentWithVersion = ConsentRow & { versionNumber: string; versionEffectiveDate: string };
export interface ConsentEventRow {
  id: number;
  consentType: ConsentType;
  action: string;
  policyVersionId: number;
  versionNumber: string;
  at: Date;
}

const withVersion = {
  id: userConsents.id,
  userId: userConsents.userId,
  consentType: userConsents.consentType,
  policyVersionId: userConsents.policyVersionId,
  granted: userConsents.granted,
  grantedAt: userConsents.grantedAt,
  withdrawnAt: userConsents.withdrawnAt,
  ipAddress: userConsents.ipAddress,
  userAgent: userConsents.userAgent,
  versionNumber: privacyPolicyVersions.version,
  versionEffectiveDate: privacyPolicyVersions.effectiveDate,
};

/** SECURITY: every query is scoped to one user in its WHERE clause. */
export function createConsentRepo(db: DbOrTx) {
  return {
    async count(userId: number): Promise<number> {
      const rows = await db.select({ n: count() }).from(userConsents).where(eq(userConsents.userId, userId));
      return rows[0]?.n ?? 0;
    },
    /** The user's consents, `granted_at` desc. */
    async page(userId: number, limit: number, offset: number): Promise<ConsentWithVersion[]> {
      return db
        .select(withVersion)
        .from(userConsents)
        .innerJoin(privacyPolicyVersions, eq(privacyPolicyVersions.id, userConsents.policyVersionId))
        .where(eq(userConsents.userId, userId))
        .orderBy(desc(userConsents.grantedAt), desc(userConsents.id))
        .limit(limit)
        .offset(offset);
    },
    /** Every current consent of the user (at most one per type). */
    async all(userId: number): Promise<ConsentWithVersion[]> {
      return db
        .select(withVersion)
        .from(userConsents)
        .innerJoin(privacyPolicyVersions, eq(privacyPolicyVersions.id, userConsents.policyVersionId))
        .where(eq(userConsents.userId, userId));
    },
    async findOwn(id: number, userId: number): Promise<ConsentWithVersion | undefined> {
      const rows = await db
        .select(withVersion)
        .from(userConsents)
        .innerJoin(privacyPolicyVersions, eq(privacyPolicyVersions.id, userConsents.policyVersionId))
        .where(and(eq(userConsents.id, id), eq(userConsents.userId, userId)))
        .limit(1)
        .for('update', { of: userConsents });
      return rows[0];
    },
    async findByType(userId: number, type: ConsentType): Promise<ConsentRow | undefined> {
      const rows = await db
        .select()
        .from(userConsents)
        .where(and(eq(userConsents.userId, userId), eq(userConsents.consentType, type)))
        .limit(1)
        .for('update');
      return rows[0];
    },
    /** Upsert on (user, type); `created` tells a new row from a re-grant. */
    async grant(values: {
      userId: number;
      consentType: ConsentType;
      policyVersionId: number;
      at: Date;
      ipAddress: string | null;
      userAgent: string;
    }): Promise<{ row: ConsentRow; created: boolean }> {
      const set = {
        policyVersionId: values.policyVersionId,
        granted: true,
        grantedAt: values.at,
        withdrawnAt: null,
        ipAddress: values.ipAddress,
        userAgent: values.userAgent,
      };
      const rows = await db
        .insert(userConsents)
        .values({ userId: values.userId, consentType: values.consentType, ...set })
        .onConflictDoUpdate({ target: [userConsents.userId, userConsents.consentType], set })
        .returning({
          id: userConsents.id,
          userId: userConsents.userId,
          consentType: userConsents.consentType,
          policyVersionId: userConsents.policyVersionId,
          granted: userConsents.granted,
          grantedAt: userConsents.grantedAt,
          withdrawnAt: userConsents.withdrawnAt,
          ipAddress: userConsents.ipAddress,
          userAgent: userConsents.userAgent,
          // A row inserted by this statement has no deleting/updating transaction id yet.
          created: sql<boolean>`(xmax = 0)`,
        });
      const first = onlyRow(rows, 'consent upsert');
      const { created, ...row } = first;
      return { row, created };
    },
    async withdraw(id: number, at: Date): Promise<ConsentRow> {
      const rows = await db
        .update(userConsents)
        .set({ granted: false, withdrawnAt: at })
        .where(eq(userConsents.id, id))
        .returning();
      const row = onlyRow(rows, 'consent withdraw');
      return row;
    },
    async appendEvent(values: {
      userId: number;
      consentType: ConsentType;
      policyVersionId: number;
      action: ConsentAction;
      at: Date;
      ipAddress: string | null;
      userAgent: string | null;
    }): Promise<void> {
      await db.insert(consentEvents).values(values);
    },
    async countEvents(userId: number): Promise<number> {
      const rows = await db
        .select({ n: count() })
        .from(consentEvents)
        .where(eq(consentEvents.userId, userId));
      return rows[0]?.n ?? 0;
    },
    /** The user's consent history, newest first. */
    async eventPage(userId: number, limit: number, offset: number): Promise<ConsentEventRow[]> {
      return db
        .select({
          id: consentEvents.id,
          consentType: consentEvents.consentType,
          action: consentEvents.action,
          policyVersionId: consentEvents.policyVersionId,
          versionNumber: privacyPolicyVersions.version,
          at: consentEvents.at,
        })
        .from(consentEvents)
        .innerJoin(privacyPolicyVersions, eq(privacyPolicyVersions.id, consentEvents.policyVersionId))
        .where(eq(consentEvents.userId, userId))
        .orderBy(desc(consentEvents.at), desc(consentEvents.id))
        .limit(limit)
        .offset(offset);
    },
    /** Whether the user currently grants this consent (for any policy version). */
    async isGranted(userId: number, type: ConsentType): Promise<boolean> {
      const rows = await db
        .select({ id: userConsents.id })
        .from(userConsents)
        .where(
          and(
            eq(userConsents.userId, userId),
            eq(userConsents.consentType, type),
            eq(userConsents.granted, true),
          ),
        )
        .limit(1);
      return rows.length > 0;
    },
  };
}

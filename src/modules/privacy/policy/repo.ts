import { and, count, desc, eq, ne, sql } from 'drizzle-orm';
import { onlyRow } from '../../../db/errors.js';
import type { DbOrTx } from '../../../db/client.js';
import { privacyPolicyVersions } from '../../../db/schema.js';

export type PolicyRow = typeof privacyPolicyVersions.$inferSelect;
export type PolicyInsert = typeof privacyPolicyVersions.$inferInsert;

/** Unique index on `version` (spec: unique, immutable). */
export const POLICY_VERSION_UNIQUE = 'privacy_policy_versions_version_uq';
/** Arbitrary, stable: serialises activations so the "one active" index is never raced. */
const ACTIVATION_LOCK_ID = 727_101;

/** Queries on privacy policy versions. Versions are immutable: only `is_active` ever changes. */
export function createPolicyRepo(db: DbOrTx) {
  return {
    async active(): Promise<PolicyRow | undefined> {
      const rows = await db
        .select()
        .from(privacyPolicyVersions)
        .where(eq(privacyPolicyVersions.isActive, true))
        .limit(1);
      return rows[0];
    },
    async byId(id: number): Promise<PolicyRow | undefined> {
      const rows = await db
        .select()
        .from(privacyPolicyVersions)
        .where(eq(privacyPolicyVersions.id, id))
        .limit(1);
      return rows[0];
    },
    async byVersion(version: string): Promise<PolicyRow | undefined> {
      const rows = await db
        .select()
        .from(privacyPolicyVersions)
        .where(eq(privacyPolicyVersions.version, version))
        .limit(1);
      return rows[0];
    },
    async count(): Promise<number> {
      const rows = await db.select({ n: count() }).from(privacyPolicyVersions);
      return rows[0]?.n ?? 0;
    },
    /** A page in the contract's order: `effective_date` desc, then newest first. */
    async page(limit: number, offset: number): Promise<PolicyRow[]> {
      return db
        .select()
        .from(privacyPolicyVersions)
        .orderBy(desc(privacyPolicyVersions.effectiveDate), desc(privacyPolicyVersions.id))
        .limit(limit)
        .offset(offset);
    },
    /** Takes the activation lock for the rest of the transaction. */
    async lockActivation(): Promise<void> {
      await db.execute(sql`select pg_advisory_xact_lock(${ACTIVATION_LOCK_ID})`);
    },
    /** Deactivates every active version except `keepId`; returns the ones deactivated. */
    async deactivateOthers(keepId?: number): Promise<PolicyRow[]> {
      return db
        .update(privacyPolicyVersions)
        .set({ isActive: false })
        .where(
          and(
            eq(privacyPolicyVersions.isActive, true),
            keepId === undefined ? undefined : ne(privacyPolicyVersions.id, keepId),
          ),
        )
        .returning();
    },
    async setActive(id: number): Promise<PolicyRow | undefined> {
      const rows = await db
        .update(privacyPolicyVersions)
        .set({ isActive: true })
        .where(eq(privacyPolicyVersions.id, id))
        .returning();
      return rows[0];
    },
    async insert(values: PolicyInsert): Promise<PolicyRow> {
      const rows = await db.insert(privacyPolicyVersions).values(values).returning();
      const row = onlyRow(rows, 'privacy policy version insert');
      return row;
    },
  };
}

import { and, count, eq, inArray, isNull, lt, or } from 'drizzle-orm';
import type { DbOrTx } from '../../../db/client.js';
import { twoFactorBackupCodes, users } from '../../../db/schema.js';

/** TOTP state on users and the backup-code table. */
export function createTwoFactorRepo(db: DbOrTx) {
  return {
    /** Replaces every code of the user by these (their stored hashes). */
    async replaceBackupCodes(userId: number, hashes: string[], at: Date): Promise<void> {
      await db.delete(twoFactorBackupCodes).where(eq(twoFactorBackupCodes.userId, userId));
      await db
        .insert(twoFactorBackupCodes)
        .values(hashes.map((codeHash) => ({ userId, codeHash, createdAt: at })));
    },
    async deleteBackupCodes(userId: number): Promise<void> {
      await db.delete(twoFactorBackupCodes).where(eq(twoFactorBackupCodes.userId, userId));
    },
    /** Marks every unused code of the user used (operator command); how many. */
    async invalidateBackupCodes(userId: number, at: Date): Promise<number> {
      const rows = await db
        .update(twoFactorBackupCodes)
        .set({ used: true, usedAt: at })
        .where(and(eq(twoFactorBackupCodes.userId, userId), eq(twoFactorBackupCodes.used, false)))
        .returning({ id: twoFactorBackupCodes.id });
      return rows.length;
    },
    /**
     * Marks an unused code stored under one of these hashes used; true when this call consumed it
     * (single use, race-free: the update itself checks `used`).
     */
    async consumeBackupCode(userId: number, hashes: string[], at: Date): Promise<boolean> {
      const rows = await db
        .update(twoFactorBackupCodes)
        .set({ used: true, usedAt: at })
        .where(
          and(
            eq(twoFactorBackupCodes.userId, userId),
            inArray(twoFactorBackupCodes.codeHash, hashes),
            eq(twoFactorBackupCodes.used, false),
          ),
        )
        .returning({ id: twoFactorBackupCodes.id });
      return rows.length > 0;
    },
    async remainingBackupCodes(userId: number): Promise<number> {
      const rows = await db
        .select({ n: count() })
        .from(twoFactorBackupCodes)
        .where(and(eq(twoFactorBackupCodes.userId, userId), eq(twoFactorBackupCodes.used, false)));
      return rows[0]?.n ?? 0;
    },
    /** Records an accepted TOTP step unless it is not newer than the last one (replay guard). */
    async acceptTotpStep(userId: number, step: number, at: Date): Promise<boolean> {
      const rows = await db
        .update(users)
        .set({ totpLastStep: step, totpLastUsed: at })
        .where(and(eq(users.id, userId), or(isNull(users.totpLastStep), lt(users.totpLastStep, step))))
        .returning({ id: users.id });
      return rows.length > 0;
    },
    async enable(userId: number, sealedSecret: string, step: number, at: Date): Promise<void> {
      await db
        .update(users)
        .set({
          totpSecret: sealedSecret,
          totpEnabled: true,
          totpEnabledAt: at,
          totpLastStep: step,
          totpLastUsed: at,
          updatedAt: at,
        })
        .where(eq(users.id, userId));
    },
    async disable(userId: number, at: Date): Promise<void> {
      await db
        .update(users)
        .set({
          totpSecret: null,
          totpEnabled: false,
          totpEnabledAt: null,
          totpLastStep: null,
          totpLastUsed: null,
          updatedAt: at,
        })
        .where(eq(users.id, userId));
      await db.delete(twoFactorBackupCodes).where(eq(twoFactorBackupCodes.userId, userId));
    },
  };
}

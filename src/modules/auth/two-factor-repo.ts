import { and, count, eq, isNull, lt, or } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { twoFactorBackupCodes, users } from '../../db/schema.js';
import { hashBackupCode } from './backup-codes.js';

/** TOTP state on users and the backup-code table. */
export function createTwoFactorRepo(db: DbOrTx) {
  return {
    async replaceBackupCodes(userId: number, codes: string[], at: Date): Promise<void> {
      await db.delete(twoFactorBackupCodes).where(eq(twoFactorBackupCodes.userId, userId));
      await db
        .insert(twoFactorBackupCodes)
        .values(codes.map((code) => ({ userId, codeHash: hashBackupCode(code), createdAt: at })));
    },
    async deleteBackupCodes(userId: number): Promise<void> {
      await db.delete(twoFactorBackupCodes).where(eq(twoFactorBackupCodes.userId, userId));
    },
    /** Marks an unused matching code used; true when this call consumed it (single use, race-free). */
    async consumeBackupCode(userId: number, code: string, at: Date): Promise<boolean> {
      const rows = await db
        .update(twoFactorBackupCodes)
        .set({ used: true, usedAt: at })
        .where(
          and(
            eq(twoFactorBackupCodes.userId, userId),
            eq(twoFactorBackupCodes.codeHash, hashBackupCode(code)),
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

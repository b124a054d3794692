import { and, desc, eq, gt, inArray, notInArray } from 'drizzle-orm';
import type { DbOrTx } from '../../../db/client.js';
import { passwordHistory, passwordResetTokens, users } from '../../../db/schema.js';

export const HISTORY_DEPTH = 5;

/** Password history and reset tokens. */
export function createPasswordRepo(db: DbOrTx) {
  return {
    async history(userId: number): Promise<string[]> {
      const rows = await db
        .select({ hash: passwordHistory.passwordHash })
        .from(passwordHistory)
        .where(eq(passwordHistory.userId, userId))
        .orderBy(desc(passwordHistory.createdAt), desc(passwordHistory.id))
        .limit(HISTORY_DEPTH);
      return rows.map((r) => r.hash);
    },
    /** The current hash, locked until the transaction ends. */
    async lockCurrentHash(userId: number): Promise<string | undefined> {
      const rows = await db
        .select({ hash: users.password })
        .from(users)
        .where(eq(users.id, userId))
        .for('update');
      return rows[0]?.hash;
    },
    /**
     * Replaces the password if `oldHash` is still the current one (compare-and-swap) and keeps it in
     * the history (newest 5 kept); false, with nothing written, when another change came first.
     */
    async setPassword(userId: number, oldHash: string, newHash: string, at: Date): Promise<boolean> {
      const swapped = await db
        .update(users)
        .set({ password: newHash, passwordLastChanged: at, updatedAt: at })
        .where(and(eq(users.id, userId), eq(users.password, oldHash)))
        .returning({ id: users.id });
      if (swapped.length === 0) return false;
      if (!oldHash.startsWith('!')) {
        await db.insert(passwordHistory).values({ userId, passwordHash: oldHash, createdAt: at });
      }
      const keep = await db
        .select({ id: passwordHistory.id })
        .from(passwordHistory)
        .where(eq(passwordHistory.userId, userId))
        .orderBy(desc(passwordHistory.createdAt), desc(passwordHistory.id))
        .limit(HISTORY_DEPTH);
      await db.delete(passwordHistory).where(
        and(
          eq(passwordHistory.userId, userId),
          notInArray(
            passwordHistory.id,
            keep.map((k) => k.id),
          ),
        ),
      );
      return true;
    },
    async voidUnusedTokens(userId: number, at: Date): Promise<void> {
      await db
        .update(passwordResetTokens)
        .set({ used: true, usedAt: at })
        .where(and(eq(passwordResetTokens.userId, userId), eq(passwordResetTokens.used, false)));
    },
    async insertToken(values: typeof passwordResetTokens.$inferInsert): Promise<void> {
      await db.insert(passwordResetTokens).values(values);
    },
    /** A usable token (unused, unexpired) and its user. */
    async findUsableToken(tokenHash: string, at: Date) {
      const rows = await db
        .select({ token: passwordResetTokens, user: users })
        .from(passwordResetTokens)
        .innerJoin(users, eq(users.id, passwordResetTokens.userId))
        .where(
          and(
            eq(passwordResetTokens.tokenHash, tokenHash),
            eq(passwordResetTokens.used, false),
            gt(passwordResetTokens.expiresAt, at),
          ),
        )
        .limit(1);
      const row = rows[0];
      return row && row.user.isActive && !row.user.anonymizedAt ? row : undefined;
    },
    /** Marks the token used; false when another request used it first. */
    async useToken(id: number, at: Date): Promise<boolean> {
      const rows = await db
        .update(passwordResetTokens)
        .set({ used: true, usedAt: at })
        .where(and(inArray(passwordResetTokens.id, [id]), eq(passwordResetTokens.used, false)))
        .returning({ id: passwordResetTokens.id });
      return rows.length > 0;
    },
  };
}

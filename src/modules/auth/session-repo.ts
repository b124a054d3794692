import { and, desc, eq, isNull, ne, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { refreshTokens, sessions } from '../../db/schema.js';

export type SessionRow = typeof sessions.$inferSelect;
export type RefreshTokenRow = typeof refreshTokens.$inferSelect;
export type TerminationReason =
  | 'logout'
  | 'revoked'
  | 'revoked_all'
  | 'force_logout'
  | 'password_change'
  | 'password_reset'
  | 'token_reuse'
  | 'deactivated'
  | 'role_changed'
  | 'erasure';

/** Queries on sessions and refresh tokens. */
export function createSessionRepo(db: DbOrTx) {
  return {
    async insert(values: typeof sessions.$inferInsert): Promise<SessionRow> {
      const rows = await db.insert(sessions).values(values).returning();
      if (!rows[0]) throw new Error('insert returned no row');
      return rows[0];
    },
    async insertRefreshToken(values: typeof refreshTokens.$inferInsert): Promise<void> {
      await db.insert(refreshTokens).values(values);
    },
    /** The refresh token and its session, locked for rotation. */
    async lockRefreshToken(jti: string) {
      const rows = await db
        .select({ token: refreshTokens, session: sessions })
        .from(refreshTokens)
        .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
        .where(eq(refreshTokens.jti, jti))
        .for('update')
        .limit(1);
      return rows[0];
    },
    async markRotated(jti: string, at: Date, replacedBy: string): Promise<void> {
      await db.update(refreshTokens).set({ rotatedAt: at, replacedBy }).where(eq(refreshTokens.jti, jti));
    },
    async update(id: number, values: Partial<typeof sessions.$inferInsert>): Promise<void> {
      await db.update(sessions).set(values).where(eq(sessions.id, id));
    },
    async findById(id: number): Promise<SessionRow | undefined> {
      const rows = await db.select().from(sessions).where(eq(sessions.id, id)).limit(1);
      return rows[0];
    },
    /** Terminates live sessions matching the filter; returns their ids (to evict cached state). */
    async terminate(
      filter: { id?: number; userId?: number; exceptId?: number },
      at: Date,
      reason: TerminationReason,
    ): Promise<SessionRow[]> {
      const conditions = [isNull(sessions.terminatedAt)];
      if (filter.id !== undefined) conditions.push(eq(sessions.id, filter.id));
      if (filter.userId !== undefined) conditions.push(eq(sessions.userId, filter.userId));
      if (filter.exceptId !== undefined) conditions.push(ne(sessions.id, filter.exceptId));
      return db
        .update(sessions)
        .set({ terminatedAt: at, terminatedReason: reason })
        .where(and(...conditions))
        .returning();
    },
    /** Locks the user's live sessions (their cached state is about to be rewritten); their ids. */
    async lockLive(userId: number): Promise<number[]> {
      const rows = await db
        .select({ id: sessions.id })
        .from(sessions)
        .where(and(eq(sessions.userId, userId), isNull(sessions.terminatedAt)))
        .for('update');
      return rows.map((r) => r.id);
    },
    /** Earlier sessions of the user, to judge whether a new one looks unfamiliar. */
    async recentForUser(userId: number, limit = 50) {
      return db
        .select({
          ipAddress: sessions.ipAddress,
          deviceType: sessions.deviceType,
          browser: sessions.browser,
          os: sessions.os,
        })
        .from(sessions)
        .where(eq(sessions.userId, userId))
        .orderBy(desc(sessions.createdAt))
        .limit(limit);
    },
    async touch(id: number, at: Date): Promise<void> {
      await db
        .update(sessions)
        .set({ lastActivity: at })
        .where(and(eq(sessions.id, id), sql`${sessions.lastActivity} < ${at}`));
    },
  };
}
export type SessionRepo = ReturnType<typeof createSessionRepo>;

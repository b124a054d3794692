import { and, desc, eq, gt, inArray, isNull, ne, sql } from 'drizzle-orm';
import { onlyRow } from '../../db/errors.js';
import type { DbOrTx } from '../../db/client.js';
import { refreshTokens, sessions, users } from '../../db/schema.js';
import { likeContains } from '../../lib/sql-like.js';
import type { TerminationReason } from './reasons.js';

export type SessionRow = typeof sessions.$inferSelect;
export type RefreshTokenRow = typeof refreshTokens.$inferSelect;

/** Filters of the staff view of everyone's live sessions; each narrows in SQL. */
export interface LiveSessionFilter {
  /** Substring of the user's e-mail, case-insensitive. */
  userEmail?: string | undefined;
  /** Only sessions not expired at this moment. */
  activeAt?: Date | undefined;
  suspiciousOnly?: boolean | undefined;
}

/** Queries on sessions and refresh tokens. */
export function createSessionRepo(db: DbOrTx) {
  return {
    /** What the session state cache keeps of these sessions, with their user's role and status. */
    async states(ids: number[]) {
      return db
        .select({
          id: sessions.id,
          userId: sessions.userId,
          terminatedAt: sessions.terminatedAt,
          expiresAt: sessions.expiresAt,
          absoluteExpiresAt: sessions.absoluteExpiresAt,
          lastActivity: sessions.lastActivity,
          role: users.role,
          isActive: users.isActive,
        })
        .from(sessions)
        .innerJoin(users, eq(users.id, sessions.userId))
        .where(inArray(sessions.id, ids));
    },
    async insert(values: typeof sessions.$inferInsert): Promise<SessionRow> {
      const rows = await db.insert(sessions).values(values).returning();
      return onlyRow(rows, 'insert');
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
    /** A session by its key (lower-case hex), ended or not. */
    async findByKey(sessionKey: string): Promise<SessionRow | undefined> {
      const rows = await db.select().from(sessions).where(eq(sessions.sessionKey, sessionKey)).limit(1);
      return rows[0];
    },
    /** One of the user's sessions that has not ended, by its key (owner scoping in SQL). */
    async findLiveOfUser(userId: number, sessionKey: string): Promise<SessionRow | undefined> {
      const rows = await db
        .select()
        .from(sessions)
        .where(
          and(
            eq(sessions.sessionKey, sessionKey),
            eq(sessions.userId, userId),
            isNull(sessions.terminatedAt),
          ),
        )
        .limit(1);
      return rows[0];
    },
    /** The user's sessions that have not ended (expired included), most recently active first. */
    async listLiveOfUser(userId: number): Promise<SessionRow[]> {
      return db
        .select()
        .from(sessions)
        .where(and(eq(sessions.userId, userId), isNull(sessions.terminatedAt)))
        .orderBy(desc(sessions.lastActivity), desc(sessions.id));
    },
    /** Everyone's sessions that have not ended, with their user's e-mail and role, most recent first. */
    async listLive(filter: LiveSessionFilter, limit: number) {
      const conditions = [isNull(sessions.terminatedAt)];
      if (filter.userEmail) {
        const pattern = likeContains(filter.userEmail.toLowerCase());
        conditions.push(sql`lower(${users.email}) like ${pattern}`);
      }
      if (filter.activeAt)
        conditions.push(
          gt(sessions.expiresAt, filter.activeAt),
          gt(sessions.absoluteExpiresAt, filter.activeAt),
        );
      if (filter.suspiciousOnly) conditions.push(eq(sessions.isSuspicious, true));
      return db
        .select({ session: sessions, email: users.email, role: users.role })
        .from(sessions)
        .innerJoin(users, eq(users.id, sessions.userId))
        .where(and(...conditions))
        .orderBy(desc(sessions.lastActivity), desc(sessions.id))
        .limit(limit);
    },
    /** Flags the session suspicious; the updated row. */
    async markSuspicious(id: number): Promise<SessionRow | undefined> {
      const rows = await db
        .update(sessions)
        .set({ isSuspicious: true })
        .where(eq(sessions.id, id))
        .returning();
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

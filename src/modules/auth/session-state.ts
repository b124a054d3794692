import { and, eq, isNull } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { sessions, users } from '../../db/schema.js';
import type { Role } from '../../lib/actor.js';
import type { KeyValueStore } from '../../lib/kv.js';
import { unavailableDependency } from '../../lib/unavailable.js';

/**
 * What the auth plugin needs to accept an access token, kept in the shared store so a request
 * does not query PostgreSQL (spec operations.md §7). Revocation writes the store before the
 * revoking request returns, so every instance refuses the token on its very next request.
 */
export interface SessionState {
  userId: number;
  role: Role;
  userActive: boolean;
  terminated: boolean;
  /** epoch ms */
  expiresAt: number;
  absoluteExpiresAt: number;
  lastActivity: number;
}

const CACHE_TTL_SECONDS = 300;
/** Sessions remembered for the activity throttle before the memory is reset. */
const TOUCH_MEMORY = 100_000;
const key = (sid: number) => `sess:${sid}`;

export function createSessionStateCache(deps: { db: Db; kv: KeyValueStore }) {
  const { db, kv } = deps;
  const touched = new Map<number, number>();

  async function load(sid: number): Promise<SessionState | null> {
    const rows = await db
      .select({
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
      .where(eq(sessions.id, sid))
      .limit(1);
    const row = rows[0];
    if (!row) return null;
    return {
      userId: row.userId,
      role: row.role,
      userActive: row.isActive,
      terminated: row.terminatedAt !== null,
      expiresAt: row.expiresAt.getTime(),
      absoluteExpiresAt: row.absoluteExpiresAt.getTime(),
      lastActivity: row.lastActivity.getTime(),
    };
  }

  async function store(sid: number, state: SessionState | null, onlyIfAbsent: boolean) {
    const value = state ? JSON.stringify(state) : 'missing';
    if (onlyIfAbsent) await kv.setIfAbsent(key(sid), value, CACHE_TTL_SECONDS);
    else await kv.set(key(sid), value, CACHE_TTL_SECONDS);
  }

  return {
    async get(sid: number): Promise<SessionState | null> {
      let cached: string | null;
      try {
        cached = await kv.get(key(sid));
      } catch (err) {
        // SECURITY: while Redis is down the session row itself is read (spec operations.md §8):
        // slower, never weaker. Nothing is cached meanwhile.
        if (unavailableDependency(err) === 'redis') return load(sid);
        throw err;
      }
      if (cached !== null) return cached === 'missing' ? null : (JSON.parse(cached) as SessionState);
      const state = await load(sid);
      // Only-if-absent: a fill that read the database before a revocation committed must not
      // overwrite the fresh state the revoking request wrote after its commit.
      await store(sid, state, true).catch((err: unknown) => {
        if (unavailableDependency(err) !== 'redis') throw err;
      });
      return state;
    },
    /** Re-reads these sessions after a committed change (revocation, role or status change). */
    async refresh(sids: number[]): Promise<void> {
      for (const sid of new Set(sids)) await store(sid, await load(sid), false);
    },
    /** Re-reads every live session of a user (role change, deactivation). */
    async refreshUser(userId: number): Promise<void> {
      const rows = await db
        .select({ id: sessions.id })
        .from(sessions)
        .where(and(eq(sessions.userId, userId), isNull(sessions.terminatedAt)));
      await this.refresh(rows.map((r) => r.id));
    },
    /**
     * True at most once per interval per session and instance: time to record `last_activity`.
     * Kept in process (no Redis round trip per request): the write it gates is idempotent
     * (`last_activity` only moves forward), so instances need not agree.
     */
    touchDue(sid: number, intervalSeconds: number, nowMs: number): boolean {
      const last = touched.get(sid);
      if (last !== undefined && nowMs - last < intervalSeconds * 1000) return false;
      if (touched.size >= TOUCH_MEMORY) touched.clear();
      touched.set(sid, nowMs);
      return true;
    },
  };
}
export type SessionStateCache = ReturnType<typeof createSessionStateCache>;

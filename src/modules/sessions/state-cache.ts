import { randomUUID } from 'node:crypto';
import type { Db, DbOrTx } from '../../db/client.js';
import type { Role } from '../../lib/actor.js';
import type { KeyValueStore } from '../../lib/kv.js';
import { serviceUnavailable, unavailableDependency } from '../../lib/unavailable.js';
import { createSessionRepo } from './repo.js';

/**
 * What the auth plugin needs to accept an access token, kept in the shared store so a request does
 * not query PostgreSQL (docs/contract.md#authentication-on-requests). A revocation writes the store
 * before its transaction commits, so every instance refuses the token on its very next request.
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
/** A fill's claim on an empty entry; a fill slower than this simply does not store its result. */
const LEASE_TTL_SECONDS = 10;
const LEASE = 'lease:';
const MISSING = 'missing';
/** Sessions remembered for the activity throttle before the memory is reset. */
const TOUCH_MEMORY = 100_000;
const key = (sid: number) => `sess:${sid}`;
const encode = (state: SessionState | null) => (state ? JSON.stringify(state) : MISSING);

/** The state of these sessions as `conn` sees them (inside a transaction: including its changes). */
async function load(conn: DbOrTx, sids: number[]): Promise<Map<number, SessionState>> {
  const out = new Map<number, SessionState>();
  if (sids.length === 0) return out;
  for (const row of await createSessionRepo(conn).states(sids)) {
    out.set(row.id, {
      userId: row.userId,
      role: row.role,
      userActive: row.isActive,
      terminated: row.terminatedAt !== null,
      expiresAt: row.expiresAt.getTime(),
      absoluteExpiresAt: row.absoluteExpiresAt.getTime(),
      lastActivity: row.lastActivity.getTime(),
    });
  }
  return out;
}

export function createSessionStateCache(deps: { db: Db; kv: KeyValueStore }) {
  const { db, kv } = deps;
  const touched = new Map<number, number>();

  return {
    /**
     * The session's state, from the shared store or else from the database.
     * SECURITY: a fill must never overwrite state that a change wrote after the fill read the
     * database. So a fill first claims the empty entry with a lease, then reads the database, then
     * stores its result only if the lease is still there (compare-and-set). Every change overwrites
     * the entry (and with it any lease) before its transaction commits, or deletes it when the
     * commit failed, so a fill that raced a change stores nothing and the next request reads again.
     */
    async get(sid: number): Promise<SessionState | null> {
      const fromDatabase = async () => (await load(db, [sid])).get(sid) ?? null;
      try {
        const cached = await kv.get(key(sid));
        if (cached !== null && !cached.startsWith(LEASE)) {
          return cached === MISSING ? null : (JSON.parse(cached) as SessionState);
        }
        // Someone else's fill is running: read the database without storing.
        const lease = cached === null ? `${LEASE}${randomUUID()}` : null;
        const claimed = lease !== null && (await kv.setIfAbsent(key(sid), lease, LEASE_TTL_SECONDS));
        const state = await fromDatabase();
        if (claimed) await kv.replace(key(sid), lease, encode(state), CACHE_TTL_SECONDS);
        return state;
      } catch (err) {
        // SECURITY: while Redis is down the session row itself is read: slower, never weaker
        // (docs/operations.md#dependency-outages). Nothing is cached meanwhile, and no session
        // changes (`publish` answers 503), so the entries Redis holds when it returns are still true.
        if (unavailableDependency(err) === 'redis') return fromDatabase();
        throw err;
      }
    },
    /**
     * Writes the state of these sessions as the caller's transaction sees it, BEFORE it commits
     * (see `SessionService.transaction`). The caller holds the sessions' row locks, so changes to
     * one session write the store in the order they commit. A store failure is a 503 and, thrown
     * inside the transaction, rolls the change back.
     */
    async publish(tx: DbOrTx, sids: number[]): Promise<void> {
      const states = await load(tx, sids);
      try {
        await Promise.all(
          sids.map((sid) => kv.set(key(sid), encode(states.get(sid) ?? null), CACHE_TTL_SECONDS)),
        );
      } catch (err) {
        throw serviceUnavailable('Session store unavailable. Please try again later.', err);
      }
    },
    /** After a failed commit: the entries refill from the database. */
    async forget(sids: number[]): Promise<void> {
      if (sids.length) await kv.del(...sids.map(key));
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

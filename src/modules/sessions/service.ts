import type { Config } from '../../config.js';
import type { Db, DbOrTx, Tx } from '../../db/client.js';
import type { RequestMeta } from '../../lib/actor.js';
import { sha256Hex } from '../../lib/crypto/hash.js';
import { describeUserAgent } from '../../lib/user-agent.js';
import type { TerminationReason } from './reasons.js';
import { createSessionRepo, type SessionRow } from './repo.js';
import type { SessionStateCache } from './state-cache.js';
import { newJti, type TokenService } from './tokens.js';

/** What a `SessionService.transaction` may do to sessions; each change reaches the shared store. */
export interface SessionChanges {
  /** Terminates the live sessions matching the filter (row-locked) and returns them. */
  end(
    filter: { id?: number; userId?: number; exceptId?: number },
    reason: TerminationReason,
  ): Promise<SessionRow[]>;
  /** The user's live sessions take up the user's changed role or status (row-locked). */
  refreshUser(userId: number): Promise<void>;
}

export interface IssuedTokens {
  access: string;
  refresh: string;
}

/**
 * Sessions are database rows; access tokens name their session (`sid`) and die with it.
 * session_key = SHA-256 of the first refresh token's jti, stable across rotation (docs/auth.md#sessions).
 */
export function createSessionService(deps: {
  db: Db;
  config: Pick<Config['jwt'], 'refreshTtl' | 'sessionMaxLifetime'>;
  tokens: TokenService;
  sessionState: SessionStateCache;
  now: () => Date;
}) {
  const { db, config, tokens, sessionState, now } = deps;

  async function issue(
    userId: number,
    sessionId: number,
    refreshJti: string,
    refreshExp: number,
  ): Promise<IssuedTokens> {
    const [access, refresh] = await Promise.all([
      tokens.sign('access', userId, { sid: sessionId }),
      tokens.sign('refresh', userId, { sid: sessionId, jti: refreshJti, exp: refreshExp }),
    ]);
    return { access: access.token, refresh: refresh.token };
  }

  return {
    issue,
    /** Creates a session and its first token pair inside the caller's transaction. */
    async open(
      tx: DbOrTx,
      userId: number,
      meta: RequestMeta,
    ): Promise<{ session: SessionRow; tokens: IssuedTokens }> {
      const repo = createSessionRepo(tx);
      const at = now();
      const jti = newJti();
      const absoluteExpiresAt = new Date(at.getTime() + config.sessionMaxLifetime * 1000);
      const expiresAt = new Date(
        Math.min(at.getTime() + config.refreshTtl * 1000, absoluteExpiresAt.getTime()),
      );
      const ua = describeUserAgent(meta.userAgent);
      const earlier = await repo.recentForUser(userId);
      // Unfamiliar: the user has signed in before, but never from this address nor this kind of device.
      const isSuspicious =
        earlier.length > 0 &&
        !earlier.some(
          (s) =>
            (meta.ip !== null && s.ipAddress === meta.ip) ||
            (s.deviceType === ua.deviceType && s.browser === ua.browser && s.os === ua.os),
        );
      const session = await repo.insert({
        userId,
        sessionKey: sha256Hex(jti),
        deviceType: ua.deviceType,
        browser: ua.browser,
        os: ua.os,
        userAgent: ua.userAgent,
        ipAddress: meta.ip,
        createdAt: at,
        lastActivity: at,
        expiresAt,
        absoluteExpiresAt,
        isSuspicious,
      });
      await repo.insertRefreshToken({ jti, sessionId: session.id, issuedAt: at, expiresAt });
      return {
        session,
        tokens: await issue(userId, session.id, jti, Math.floor(expiresAt.getTime() / 1000)),
      };
    },
    /**
     * Runs `work` in ONE transaction; the sessions it ends or changes through `changes` have their
     * new state written to the shared store before the transaction commits.
     * SECURITY: a request either commits with the change effective on every instance, or fails
     * and changes nothing: a store failure (503) aborts the transaction; if the commit itself
     * fails, the entries just written are deleted (best effort) and refill from the database.
     */
    async transaction<T>(work: (tx: Tx, changes: SessionChanges) => Promise<T>): Promise<T> {
      const changed = new Set<number>();
      let published = false;
      try {
        return await db.transaction(async (tx) => {
          const repo = createSessionRepo(tx);
          const changes: SessionChanges = {
            async end(filter, reason) {
              const ended = await repo.terminate(filter, now(), reason);
              for (const s of ended) changed.add(s.id);
              return ended;
            },
            async refreshUser(userId) {
              for (const id of await repo.lockLive(userId)) changed.add(id);
            },
          };
          const result = await work(tx, changes);
          if (changed.size) {
            published = true;
            await sessionState.publish(tx, [...changed]);
          }
          return result;
        });
      } catch (err) {
        // Nothing to add if this fails too: the entries then expire with their TTL, and they
        // only ever err towards refusing a session whose end did not commit.
        if (published) await sessionState.forget([...changed]).catch(() => undefined);
        throw err;
      }
    },
  };
}
export type SessionService = ReturnType<typeof createSessionService>;

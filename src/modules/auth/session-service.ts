import type { Config } from '../../config.js';
import type { Db, DbOrTx } from '../../db/client.js';
import type { RequestMeta } from '../../lib/actor.js';
import { sha256Hex } from '../../lib/crypto/hash.js';
import { describeUserAgent } from '../../lib/user-agent.js';
import { createSessionRepo, type SessionRow, type TerminationReason } from './session-repo.js';
import type { SessionStateCache } from './session-state.js';
import { newJti, type TokenService } from './tokens.js';

export interface IssuedTokens {
  access: string;
  refresh: string;
}

/**
 * Sessions are database rows; access tokens name their session (`sid`) and die with it.
 * session_key = SHA-256 of the first refresh token's jti, stable across rotation.
 */
export function createSessionService(deps: {
  db: Db;
  config: Config['jwt'];
  tokens: TokenService;
  sessionState: SessionStateCache;
  now: () => Date;
}) {
  const { config, tokens, sessionState, now } = deps;

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
    /** Terminates sessions and evicts their cached state, so tokens die on every instance at once. */
    async terminate(
      tx: DbOrTx,
      filter: { id?: number; userId?: number; exceptId?: number },
      reason: TerminationReason,
    ): Promise<SessionRow[]> {
      return createSessionRepo(tx).terminate(filter, now(), reason);
    },
    /** Call after the terminating transaction committed. */
    async evict(ended: SessionRow[]): Promise<void> {
      await sessionState.refresh(ended.map((s) => s.id));
    },
  };
}
export type SessionService = ReturnType<typeof createSessionService>;

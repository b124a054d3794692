import { randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import type { Config } from '../../config.js';

export type TokenType = 'access' | 'refresh' | '2fa_setup';

export interface TokenClaims {
  token_type: TokenType;
  exp: number;
  iat: number;
  jti: string;
  user_id: string;
  sid?: string;
}

export const newJti = () => randomBytes(16).toString('hex');

/**
 * HS256 JWTs with the original's claims (spec auth.md §1). The algorithm is pinned on verify, so
 * `alg: none` or another algorithm is refused.
 */
export function createTokenService(config: Config['jwt'], now: () => Date) {
  const key = new TextEncoder().encode(config.signingKey);
  const ttl: Record<TokenType, number> = {
    access: config.accessTtl,
    refresh: config.refreshTtl,
    '2fa_setup': config.setupTtl,
  };

  async function sign(
    type: TokenType,
    userId: number,
    opts: { sid?: number; jti?: string; exp?: number } = {},
  ) {
    const iat = Math.floor(now().getTime() / 1000);
    const jti = opts.jti ?? newJti();
    const exp = opts.exp ?? iat + ttl[type];
    const payload: Record<string, unknown> = { token_type: type, exp, iat, jti, user_id: String(userId) };
    if (opts.sid !== undefined) payload.sid = String(opts.sid);
    const token = await new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(key);
    return { token, jti, exp };
  }

  /** Verified claims of the expected type, or null for anything invalid, expired or of another type. */
  async function verify(token: string, type: TokenType): Promise<TokenClaims | null> {
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: ['HS256'],
        currentDate: now(),
        clockTolerance: 0,
      });
      const p = payload as Partial<TokenClaims>;
      if (
        p.token_type !== type ||
        typeof p.user_id !== 'string' ||
        !/^\d{1,18}$/.test(p.user_id) ||
        typeof p.jti !== 'string' ||
        typeof p.exp !== 'number' ||
        typeof p.iat !== 'number' ||
        (p.sid !== undefined && (typeof p.sid !== 'string' || !/^\d{1,18}$/.test(p.sid)))
      ) {
        return null;
      }
      return p as TokenClaims;
    } catch (err) {
      if (err instanceof joseErrors.JOSEError || err instanceof TypeError) return null;
      throw err;
    }
  }

  return { sign, verify };
}
export type TokenService = ReturnType<typeof createTokenService>;

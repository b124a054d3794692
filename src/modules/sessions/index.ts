/**
 * The sessions module's public face (other modules, plugins and the root import only this file).
 * Tokens, session rows and refresh tokens, the session state cache the auth plugin reads, and
 * `SessionService.transaction`, the one way sessions end or change (docs/auth.md#revocation).
 * It imports no other module: auth, users and privacy build on it.
 */
export type { TerminationReason } from './reasons.js';
export {
  createSessionRepo,
  type LiveSessionFilter,
  type RefreshTokenRow,
  type SessionRepo,
  type SessionRow,
} from './repo.js';
export { sessionResponse, timeSince, type SessionResponse } from './serialize.js';
export {
  createSessionService,
  type IssuedTokens,
  type SessionChanges,
  type SessionService,
} from './service.js';
export { createSessionStateCache, type SessionState, type SessionStateCache } from './state-cache.js';
export { createTokenService, newJti, type TokenClaims, type TokenService, type TokenType } from './tokens.js';

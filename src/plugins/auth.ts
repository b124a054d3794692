import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Actor, Role } from '../lib/actor.js';
import { ApiError, AUTH_FAILED, AUTH_REQUIRED, USER_INACTIVE, forbidden } from '../lib/errors.js';
import type { SessionStateCache, TokenClaims, TokenService } from '../modules/sessions/index.js';
import { CONSOLE_PREFIX } from './admin-console.js';

/**
 * Default deny (CONVENTIONS "Rules that keep it safe"): every route declares who may call it in
 * `config.auth`, and registering a route without it fails the start.
 *  - `'public'`: anyone; a bad bearer token is still refused with 401 (as the original).
 *  - `'public-ignore-token'`: anyone; the Authorization header is ignored (login, register, …).
 *  - a list of roles: a valid access token for a live session of an active user with one of them.
 * `allowSetupToken` lets a 2FA setup token stand in for an access token (2fa/setup, verify-setup).
 */
export type RouteAuth = 'public' | 'public-ignore-token' | readonly Role[];

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
    allowSetupToken?: boolean;
    /** The original's wording of the 403 a role refused by this route's gate receives. */
    deniedMessage?: string;
    /**
     * Errors of this route also carry `error` = `detail`, as the original's clients read
     * (docs/contract.md#error-envelope).
     */
    errorKey?: boolean;
  }
  interface FastifyInstance {
    /** Every route with its declared gate (the route-gate test walks it). */
    routeGates: { method: string; url: string; auth: RouteAuth; rateLimit: string | false | undefined }[];
  }
  interface FastifyRequest {
    actor: Actor | null;
    /** Claims of a verified 2FA setup token, on routes that allow one. */
    setupClaims: TokenClaims | null;
  }
}

/** The documentation UI and document, public by design (docs/contract.md#health-and-service-routes). */
export const DOCS_PREFIX = '/api/docs';

export const ALL_ROLES: readonly Role[] = ['candidate', 'admin', 'superuser'];
export const STAFF: readonly Role[] = ['admin', 'superuser'];
export const SUPERUSER: readonly Role[] = ['superuser'];
export const CANDIDATE_ONLY: readonly Role[] = ['candidate'];

/** Counts refused authentications per client address (the rate-limit plugin). */
export interface RefusalGuard {
  /** Called for every 401 of this gate; may answer 429 `throttled` instead. */
  refused(request: FastifyRequest): Promise<void>;
}

export interface AuthDeps {
  tokens: TokenService;
  refusals?: RefusalGuard;
  sessionState: SessionStateCache;
  now: () => Date;
  idleTimeoutSeconds: number;
  touchSession: (sessionId: number, at: Date) => Promise<void>;
}

/** `last_activity` is recorded at most this often per session (docs/auth.md#sessions). */
const ACTIVITY_REFRESH_SECONDS = 300;

function bearer(request: FastifyRequest): string | null | undefined {
  const header = request.headers.authorization;
  if (header === undefined || header === '') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1] ?? null;
}

export function registerAuth(app: FastifyInstance, deps: AuthDeps): void {
  app.decorateRequest('actor', null);
  app.decorateRequest('setupClaims', null);
  const gates: FastifyInstance['routeGates'] = [];
  app.decorate('routeGates', gates);

  app.addHook('onRoute', (route) => {
    const auth = route.config?.auth;
    // Routes that plugins register themselves: CORS preflight, the API documentation, the console's files
    // (exactly the two routes of its static-file plugin: any other route under /admin/ must declare a gate).
    const pluginRoute =
      route.method === 'OPTIONS' ||
      route.url.startsWith(DOCS_PREFIX) ||
      route.url === CONSOLE_PREFIX ||
      route.url === `${CONSOLE_PREFIX}*`;
    if (auth === undefined && pluginRoute) {
      route.config = { ...route.config, auth: 'public-ignore-token', rateLimit: false, database: false };
      for (const method of [route.method].flat())
        gates.push({ method, url: route.url, auth: 'public-ignore-token', rateLimit: false });
      return;
    }
    if (auth === undefined) {
      throw new Error(
        `Route ${[route.method].flat().join(',')} ${route.url} declares no auth (default deny)`,
      );
    }
    for (const method of [route.method].flat())
      gates.push({ method, url: route.url, auth, rateLimit: route.config?.rateLimit });
  });

  async function authenticate(request: FastifyRequest, token: string, allowSetup: boolean): Promise<void> {
    if (allowSetup) {
      const setup = await deps.tokens.verify(token, '2fa_setup');
      if (setup) {
        request.setupClaims = setup;
        return;
      }
    }
    const claims = await deps.tokens.verify(token, 'access');
    if (!claims?.sid) throw AUTH_FAILED();
    const sid = Number(claims.sid);
    const state = await deps.sessionState.get(sid);
    const now = deps.now().getTime();
    if (
      !state ||
      state.userId !== Number(claims.user_id) ||
      state.terminated ||
      now >= state.absoluteExpiresAt ||
      (deps.idleTimeoutSeconds > 0 && now - state.lastActivity > deps.idleTimeoutSeconds * 1000)
    ) {
      throw AUTH_FAILED();
    }
    if (!state.userActive) throw USER_INACTIVE();
    request.actor = { userId: state.userId, role: state.role, sessionId: sid, tokenId: claims.jti };
    if (deps.sessionState.touchDue(sid, ACTIVITY_REFRESH_SECONDS, now)) {
      await deps.touchSession(sid, new Date(now));
    }
  }

  app.addHook('onRequest', async (request) => {
    try {
      await gate(request);
    } catch (err) {
      // SECURITY: refused authentications with a forged, malformed or missing token count against
      // the client address (floods end in 429s). A token we signed (expired, or of an ended session)
      // does not: people behind one address all see their tokens expire, and need the 401 to refresh.
      if (err instanceof ApiError && err.status === 401 && !carriesOurToken(request)) {
        await deps.refusals?.refused(request);
      }
      throw err;
    }
  });

  function carriesOurToken(request: FastifyRequest): boolean {
    const token = bearer(request);
    return typeof token === 'string' && deps.tokens.signedByUs(token);
  }

  async function gate(request: FastifyRequest): Promise<void> {
    const auth = request.routeOptions.config.auth;
    if (auth === undefined || auth === 'public-ignore-token') return;
    const token = bearer(request);
    if (auth === 'public') {
      if (token === undefined) return;
      if (token === null) throw AUTH_FAILED();
      await authenticate(request, token, false);
      return;
    }
    if (token === undefined) throw AUTH_REQUIRED();
    if (token === null) throw AUTH_FAILED();
    await authenticate(request, token, request.routeOptions.config.allowSetupToken === true);
    if (request.setupClaims) return;
    const actor = request.actor;
    if (!actor) throw AUTH_FAILED();
    if (!auth.includes(actor.role)) throw forbidden(request.routeOptions.config.deniedMessage);
  }
}

/** The caller of a route that requires a role (set by the auth hook). */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw new ApiError(401, 'not_authenticated', 'Authentication required');
  return request.actor;
}

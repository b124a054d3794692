import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { RATE_SCOPES, type Config, type RateScope } from '../config.js';
import { ApiError } from '../lib/errors.js';
import { refusal, retryAfterSeconds, type LimiterFactory } from '../lib/limiter.js';
import type { RefusalGuard } from './auth.js';

/**
 * Throttles per scope (docs/auth.md#rate-limits), shared by all instances. A route names its scope in
 * `config.rateLimit`; otherwise anonymous requests count in `anon` (per IP) and authenticated ones
 * in `user` (per user). `false` exempts a route (health, docs, metrics).
 *
 * SECURITY: a refused authentication with a forged, malformed or missing token proves no identity, so
 * it is an anonymous request: it counts in the address's `anon` scope, through the auth plugin (which
 * answers before this plugin's hook runs), and once the address has spent that budget it answers 429
 * instead of 401. Tokens this service signed (valid, expired, or of an ended session) neither count
 * there nor are refused by it: one address is often shared by many people (office NAT, carrier-grade
 * NAT on mobile networks), whose clients need the 401 to refresh, and a flood must not lock them out.
 * Checking a forged token costs one HMAC; an address known to be over its budget costs no store
 * round trip until its window ends.
 */
declare module 'fastify' {
  interface FastifyContextConfig {
    rateLimit?: RateScope | false;
  }
}

const USER_KEYED: ReadonlySet<RateScope> = new Set(['sensitive_user', 'user']);
/** Addresses this instance knows to be over their `anon` budget; bounded, entries expire. */
const MAX_KNOWN_OVER = 10_000;

export function throttled(seconds: number): ApiError {
  return new ApiError(
    429,
    'throttled',
    `Request was throttled. Expected available in ${seconds} seconds.`,
    undefined,
    undefined,
    { 'retry-after': String(seconds) },
  );
}

export function createThrottles(
  limits: Config['rateLimits'],
  makeLimiter: LimiterFactory,
  onLimited: (scope: RateScope) => void = () => undefined,
) {
  const limiters = new Map<RateScope, RateLimiterAbstract>();
  for (const scope of RATE_SCOPES) {
    const spec = limits[scope];
    if (spec)
      limiters.set(
        scope,
        makeLimiter({ name: `scope:${scope}`, points: spec.limit, durationSeconds: spec.windowSeconds }),
      );
  }
  const addressKey = (request: FastifyRequest) => `ip:${request.meta.ip ?? 'unknown'}`;
  const exempt = (request: FastifyRequest) =>
    request.routeOptions.config.rateLimit === false || !limiters.has('anon');

  // The shared counter decides; this only spares the store a known answer during a flood.
  const overUntil = new Map<string, number>();
  const remember = (key: string, msBeforeNext: number) => {
    if (overUntil.size >= MAX_KNOWN_OVER) {
      const now = Date.now();
      for (const [k, until] of overUntil) if (until <= now) overUntil.delete(k);
      const oldest = overUntil.keys().next();
      if (overUntil.size >= MAX_KNOWN_OVER && !oldest.done) overUntil.delete(oldest.value);
    }
    overUntil.set(key, Date.now() + msBeforeNext);
  };

  /** Counts a request in a scope; 429 `throttled` with Retry-After when the scope is spent. */
  async function count(scope: RateScope, key: string, onRefused?: (msBeforeNext: number) => void) {
    const limiter = limiters.get(scope);
    if (!limiter) return;
    try {
      await limiter.consume(key);
    } catch (err) {
      const refused = refusal(err);
      if (!refused) throw err;
      onRefused?.(refused.msBeforeNext);
      onLimited(scope);
      throw throttled(retryAfterSeconds(refused));
    }
  }

  const refusals: RefusalGuard = {
    async refused(request) {
      if (exempt(request)) return;
      const key = addressKey(request);
      const left = (overUntil.get(key) ?? 0) - Date.now();
      if (left > 0) {
        onLimited('anon');
        throw throttled(Math.max(1, Math.ceil(left / 1000)));
      }
      overUntil.delete(key);
      await count('anon', key, (ms) => {
        remember(key, ms);
      });
    },
  };

  return { count, refusals, addressKey };
}
export type Throttles = ReturnType<typeof createThrottles>;

export function registerRateLimits(app: FastifyInstance, throttles: Throttles): void {
  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    if (config.rateLimit === false || config.auth === undefined) return;
    const userId =
      request.actor?.userId ?? (request.setupClaims ? Number(request.setupClaims.user_id) : null);
    const scope: RateScope = config.rateLimit ?? (userId === null ? 'anon' : 'user');
    const key = USER_KEYED.has(scope) && userId !== null ? `u:${userId}` : throttles.addressKey(request);
    await throttles.count(scope, key);
  });
}

import type { FastifyInstance } from 'fastify';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { RATE_SCOPES, type Config, type RateScope } from '../config.js';
import { ApiError } from '../lib/errors.js';
import { refusal, retryAfterSeconds, type LimiterFactory } from '../lib/limiter.js';

/**
 * Throttles per scope (spec auth.md §8), shared by all instances. A route names its scope in
 * `config.rateLimit`; otherwise anonymous requests count in `anon` (per IP) and authenticated ones
 * in `user` (per user). `false` exempts a route (health, docs, metrics).
 */
declare module 'fastify' {
  interface FastifyContextConfig {
    rateLimit?: RateScope | false;
  }
}

const USER_KEYED: ReadonlySet<RateScope> = new Set(['sensitive_user', 'user']);

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

export function registerRateLimits(
  app: FastifyInstance,
  limits: Config['rateLimits'],
  makeLimiter: LimiterFactory,
  onLimited: (scope: RateScope) => void = () => undefined,
): void {
  const limiters = new Map<RateScope, RateLimiterAbstract>();
  for (const scope of RATE_SCOPES) {
    const spec = limits[scope];
    if (spec)
      limiters.set(
        scope,
        makeLimiter({ name: `scope:${scope}`, points: spec.limit, durationSeconds: spec.windowSeconds }),
      );
  }

  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    if (config.rateLimit === false || config.auth === undefined) return;
    const userId =
      request.actor?.userId ?? (request.setupClaims ? Number(request.setupClaims.user_id) : null);
    const scope: RateScope = config.rateLimit ?? (userId === null ? 'anon' : 'user');
    const limiter = limiters.get(scope);
    if (!limiter) return;
    const key =
      USER_KEYED.has(scope) && userId !== null ? `u:${userId}` : `ip:${request.meta.ip ?? 'unknown'}`;
    try {
      await limiter.consume(key);
    } catch (err) {
      const refused = refusal(err);
      if (!refused) throw err;
      onLimited(scope);
      throw throttled(retryAfterSeconds(refused));
    }
  });
}

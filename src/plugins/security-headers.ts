import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';

/** Security headers on every response, errors included (spec README §2). */
export function registerSecurityHeaders(app: FastifyInstance, config: Config): void {
  const hsts = config.hstsSeconds > 0 ? `max-age=${config.hstsSeconds}; includeSubDomains; preload` : null;
  app.addHook('onSend', async (request, reply, payload) => {
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('x-frame-options', 'DENY');
    void reply.header('referrer-policy', 'strict-origin-when-cross-origin');
    void reply.header('cross-origin-opener-policy', 'same-origin');
    if (hsts) void reply.header('strict-transport-security', hsts);
    // PRIVACY: responses carry tokens or personal data; no browser or proxy may keep them.
    // Only the documentation UI's static files may be cached.
    if (!request.url.startsWith('/api/docs/static/')) void reply.header('cache-control', 'no-store');
    reply.removeHeader('x-powered-by');
    return payload;
  });
}

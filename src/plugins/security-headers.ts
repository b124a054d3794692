import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import { CONSOLE_ASSETS } from './admin-console.js';

/**
 * The security headers of every answer (docs/contract.md#requests), for the hook below and for the answers
 * written outside Fastify's hooks (plugins/edge-answers.ts).
 */
export function securityHeaderSet(config: Pick<Config, 'hstsSeconds'>): Record<string, string> {
  const headers: Record<string, string> = {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'strict-origin-when-cross-origin',
    'cross-origin-opener-policy': 'same-origin',
  };
  if (config.hstsSeconds > 0) {
    headers['strict-transport-security'] = `max-age=${config.hstsSeconds}; includeSubDomains; preload`;
  }
  return headers;
}

/** Security headers on every response, errors included (docs/contract.md#requests). */
export function registerSecurityHeaders(app: FastifyInstance, config: Config): void {
  const headers = securityHeaderSet(config);
  app.addHook('onSend', async (request, reply, payload) => {
    void reply.headers(headers);
    // PRIVACY: responses carry tokens or personal data; no browser or proxy may keep them.
    // Only the documentation UI's static files and the console's hashed files may be cached.
    if (!request.url.startsWith('/api/docs/static/') && !request.url.startsWith(CONSOLE_ASSETS))
      void reply.header('cache-control', 'no-store');
    reply.removeHeader('x-powered-by');
    return payload;
  });
}

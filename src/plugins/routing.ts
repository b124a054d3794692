import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import FindMyWay from 'find-my-way';
import { ApiError } from '../lib/errors.js';
import { CONSOLE_PREFIX } from './admin-console.js';
import { sendError } from './errors.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
/** Routes served exactly as written, without a trailing slash (docs/contract.md#routing). */
const NO_SLASH = new Set(['/metrics', '/api/docs/json']);

/**
 * Unknown routes: JSON 404; a known path with another method: 405 with `Allow`; a path missing its
 * trailing slash: 301 (GET/HEAD) or 308 (others, keeping the body) to the slashed route.
 * Fastify cannot match a concrete URL against its routes from outside a request, so a shadow
 * router with the same paths answers "which methods does this URL have?".
 */
export function registerNotFound(app: FastifyInstance): void {
  const shadow = FindMyWay({ ignoreTrailingSlash: false });
  const noop = () => undefined;
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      const m = METHODS.find((known) => known === method);
      if (m && !shadow.hasRoute(m, route.url)) shadow.on(m, route.url, noop);
    }
  });
  const allowed = (url: string) => METHODS.filter((m) => shadow.find(m, url) !== null);

  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const [pathname, query] = splitUrl(request.url);
    // (A missing file of the console is a 404, not a redirect to a folder of that name.)
    if (!pathname.endsWith('/') && !NO_SLASH.has(pathname) && !pathname.startsWith(CONSOLE_PREFIX)) {
      const slashed = `${pathname}/`;
      if (allowed(slashed).length > 0) {
        const location = query === undefined ? slashed : `${slashed}?${query}`;
        const status = request.method === 'GET' || request.method === 'HEAD' ? 301 : 308;
        return reply.code(status).header('location', location).send();
      }
    }
    const methods = allowed(pathname);
    if (methods.length > 0) {
      void reply.header('allow', [...methods, 'OPTIONS'].join(', '));
      return sendError(
        reply,
        new ApiError(405, 'method_not_allowed', `Method "${request.method}" not allowed.`),
      );
    }
    return sendError(reply, new ApiError(404, 'not_found', 'Not found.'));
  });
}

function splitUrl(url: string): [string, string | undefined] {
  const i = url.indexOf('?');
  return i < 0 ? [url, undefined] : [url.slice(0, i), url.slice(i + 1)];
}

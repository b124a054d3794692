import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../lib/errors.js';

/** Where the staff console is served (docs/console.md). */
export const CONSOLE_PREFIX = '/admin/';
/** Its hashed files: the only answers of this service a browser may cache. */
export const CONSOLE_ASSETS = `${CONSOLE_PREFIX}assets/`;

/**
 * The console's page may run its own scripts and styles and talk to this origin only; the 2FA QR code is a
 * `data:` image. Nothing may frame it.
 */
const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The built console (`npm run build` writes it to dist/console): beside the compiled code
 * (dist/src/plugins → dist/console), or, when the code runs from src/ (npm run dev, tests), the last build.
 */
export function defaultConsoleDir(here = path.dirname(fileURLToPath(import.meta.url))): string {
  const beside = path.resolve(here, '../../console');
  return existsSync(path.join(beside, 'index.html')) ? beside : path.resolve(here, '../../dist/console');
}

/**
 * Serves the staff console at /admin/: static files only, public (the page holds no data; every
 * request it makes goes through the API's own checks).
 */
export async function registerAdminConsole(app: FastifyInstance, dir: string): Promise<void> {
  if (!existsSync(path.join(dir, 'index.html'))) {
    app.get(
      CONSOLE_PREFIX,
      { schema: { hide: true }, config: { auth: 'public-ignore-token', rateLimit: false, database: false } },
      () => {
        throw new ApiError(
          404,
          'not_found',
          'The admin console is not built here: run `npm run build` (npm start does it).',
        );
      },
    );
    return;
  }
  await app.register(fastifyStatic, {
    root: dir,
    prefix: CONSOLE_PREFIX,
    index: ['index.html'],
    wildcard: true,
    decorateReply: false,
    dotfiles: 'deny',
    etag: true,
    lastModified: false,
    cacheControl: false,
    setHeaders: (res, filePath) => {
      res.setHeader('content-security-policy', CONSOLE_CSP);
      if (filePath.startsWith(path.join(dir, 'assets') + path.sep)) {
        res.setHeader('cache-control', 'public, max-age=31536000, immutable');
      }
    },
  });
}

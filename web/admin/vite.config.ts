import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * The staff console (docs/console.md): built by `npm run build` into dist/console, which the service
 * serves at /admin/. `CONSOLE_OUT_DIR` builds elsewhere (the end-to-end test builds into a temporary folder).
 */
export default defineConfig({
  root: here,
  base: '/admin/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic' } },
  // `npm run console:dev`: the console with live reload on :5173, the API of `npm start` behind it.
  server: {
    host: '127.0.0.1',
    port: 5173,
    proxy: { '/api': 'http://127.0.0.1:8000', '/health': 'http://127.0.0.1:8000' },
  },
  build: {
    outDir: process.env.CONSOLE_OUT_DIR ?? path.resolve(here, '../../dist/console'),
    emptyOutDir: true,
    sourcemap: false,
    // No inline scripts or styles: the page's CSP allows only files of its own origin.
    assetsInlineLimit: 0,
  },
});

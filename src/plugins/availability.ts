import type { FastifyInstance } from 'fastify';
import type { DependencyMonitor } from '../lib/dependency-monitor.js';
import { outageRefusal } from '../lib/unavailable.js';

/**
 * Dependency outages (docs/operations.md#dependency-outages). While PostgreSQL is known to be down, a request that
 * needs it is answered 503 at once, before any other work, instead of waiting for a connection
 * that will not come. Routes that need no database (health, metrics, docs, CORS preflight) say
 * `config.database: false`.
 */
declare module 'fastify' {
  interface FastifyContextConfig {
    /** false: the route answers without PostgreSQL, also during an outage. */
    database?: false;
  }
}

export function registerAvailability(app: FastifyInstance, deps: { database: DependencyMonitor }): void {
  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    // Unmatched paths (404) and routes that need no database are answered as usual.
    if (config.auth === undefined || config.database === false) return;
    if (deps.database.isDown()) throw outageRefusal('database');
  });
}

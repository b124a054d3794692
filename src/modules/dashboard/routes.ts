import type { FastifyInstance } from 'fastify';
import type { Container } from '../../container.js';

/** Routes of this module (spec domain.md). */
export function dashboardRoutes(_c: Container) {
  return async (_app: FastifyInstance) => {
    // filled in by the module's implementation
  };
}

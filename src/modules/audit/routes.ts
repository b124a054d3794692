import type { FastifyInstance } from 'fastify';
import type { Container } from '../../container.js';

/** Routes of this part of the POPIA API (spec privacy.md), under /popia/. */
export function auditRoutes(_c: Container) {
  return async (_app: FastifyInstance) => {
    // filled in by the implementation
  };
}

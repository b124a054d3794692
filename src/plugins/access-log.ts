import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * One JSON line per request: route pattern (never the raw URL, whose query may hold a download
 * token), status, duration and actor id. No bodies, e-mails or tokens (docs/operations.md#observability).
 */
export function logAccess(request: FastifyRequest, reply: FastifyReply): void {
  request.log.info(
    {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: reply.statusCode,
      duration_ms: Math.round(reply.elapsedTime * 100) / 100,
      actor_id: request.actor?.userId ?? null,
    },
    'request',
  );
}

export function registerAccessLog(app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    logAccess(request, reply);
  });
}

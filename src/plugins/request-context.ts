import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { RequestMeta } from '../lib/actor.js';
import { createClientIpResolver } from '../lib/client-ip.js';
import { ApiError } from '../lib/errors.js';
import { sendError } from './errors.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const MAX_HEADER_VALUE = 8 * 1024;

/** `X-Request-ID`: the caller's when well-formed, else generated (spec README §2). */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && REQUEST_ID.test(value) ? value : randomUUID();
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Client address (trusted proxies honoured), User-Agent and request id, for sessions and audit. */
    meta: RequestMeta;
  }
}

export function registerRequestContext(app: FastifyInstance, trustedProxies: string[]): void {
  const clientIp = createClientIpResolver(trustedProxies);
  app.decorateRequest('meta', null as unknown as RequestMeta);
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    const ua = request.headers['user-agent'];
    request.meta = {
      ip: clientIp(request.socket.remoteAddress, request.headers['x-forwarded-for']),
      userAgent: typeof ua === 'string' ? ua.slice(0, 500) : '',
      requestId: request.id,
    };
    for (const value of Object.values(request.headers)) {
      const values = Array.isArray(value) ? value : [value ?? ''];
      if (values.some((v) => v.length > MAX_HEADER_VALUE || /[\0\r\n]/.test(v))) {
        return sendError(reply, new ApiError(400, 'bad_request', 'Invalid request'));
      }
    }
    return undefined;
  });
}

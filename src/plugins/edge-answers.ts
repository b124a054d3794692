import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { ApiError, notFound } from '../lib/errors.js';
import { logAccess } from './access-log.js';
import { loggableError, newErrorId, sendError } from './errors.js';
import { securityHeaderSet } from './security-headers.js';

/**
 * Answers that Fastify, @fastify/cors and Node's HTTP server would otherwise write themselves, in
 * their own shapes and without our headers (issue 9 item 8). Every answer, whatever the input, is
 * the one envelope of docs/contract.md#error-envelope with the security headers and an `X-Request-ID`.
 */
const INVALID = () => new ApiError(400, 'bad_request', 'Invalid request');

/** Fastify's server options for the answers given before any hook runs. */
export function edgeAnswerOptions(config: Pick<Config, 'hstsSeconds'>) {
  const headers = { ...securityHeaderSet(config), 'cache-control': 'no-store' };
  return {
    /**
     * A URL Fastify cannot route: undecodable percent-encoding (FST_ERR_BAD_URL) is a malformed
     * request; a path segment over the router's limit (FST_ERR_MAX_PARAM_LENGTH) is no route's value,
     * an unknown path as any other malformed id (docs/contract.md#routing). Hooks do not run for these.
     */
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      void reply.headers(headers).header('x-request-id', request.id);
      const errorId = newErrorId();
      let answer: ApiError;
      if (error.code === 'FST_ERR_BAD_URL') answer = INVALID();
      else if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') answer = notFound();
      else {
        // FST_ERR_ASYNC_CONSTRAINT (no route uses one) or a future code: a bug, logged with its id.
        request.log.error({ err: loggableError(error), error_id: errorId }, 'unhandled framework error');
        answer = new ApiError(500, 'server_error', 'An unexpected error occurred. Please try again later.');
      }
      sendError(reply, answer, errorId);
      // Hooks do not run for these requests: the access-log line is written here.
      logAccess(request, reply);
    },
    /**
     * Bytes Node's parser refuses (request line, framing, header size, timeouts): the envelope,
     * written on the socket, with a generated request id (no request was parsed to carry one).
     */
    clientErrorHandler(this: FastifyInstance, err: NodeJS.ErrnoException, socket: Socket) {
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      const requestId = randomUUID();
      this.log.debug(
        { err: { code: err.code, message: err.message }, request_id: requestId },
        'client error',
      );
      if (socket.writable) {
        const body = JSON.stringify({
          detail: 'Invalid request',
          code: 'bad_request',
          error_id: newErrorId(),
        });
        const lines = Object.entries({
          ...headers,
          'content-type': 'application/json; charset=utf-8',
          'content-length': String(Buffer.byteLength(body)),
          'x-request-id': requestId,
          connection: 'close',
        }).map(([name, value]) => `${name}: ${value}\r\n`);
        socket.write(`HTTP/1.1 400 Bad Request\r\n${lines.join('')}\r\n${body}`);
      }
      socket.destroy(err);
    },
    /** Node's own 400 for a missing Host has an empty body; request-context answers it instead. */
    http: { requireHostHeader: false },
  };
}

/**
 * Checks that must answer before @fastify/cors and the gate see the request: registered after
 * request-context (which sets the request id) and before CORS.
 */
export function registerEdgeChecks(app: FastifyInstance): void {
  // Draining after SIGTERM: requests still arriving on open connections are told to go elsewhere
  // (Fastify's own return503OnClosing answer is outside the envelope).
  let draining = false;
  app.addHook('preClose', async () => {
    draining = true;
  });
  app.addHook('onRequest', async (request, reply) => {
    if (draining) {
      void reply.header('connection', 'close');
      return sendError(
        reply,
        new ApiError(
          503,
          'service_unavailable',
          'Service is restarting. Please try again.',
          undefined,
          undefined,
          {
            'retry-after': '1',
          },
        ),
      );
    }
    // A CORS preflight carries Origin and Access-Control-Request-Method; an OPTIONS without them is
    // refused here in the envelope (@fastify/cors would answer text/plain "Invalid Preflight Request").
    if (
      request.method === 'OPTIONS' &&
      (!request.headers.origin || !request.headers['access-control-request-method'])
    ) {
      return sendError(reply, new ApiError(400, 'bad_request', 'Invalid preflight request'));
    }
    return undefined;
  });
}

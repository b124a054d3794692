import { randomUUID } from 'node:crypto';
import { type PageLink, pageLinkFor } from '../lib/paging.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RequestMeta } from '../lib/actor.js';
import { createClientIpResolver, createProxyTrust } from '../lib/client-ip.js';
import { ApiError } from '../lib/errors.js';
import { sendError } from './errors.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const MAX_HEADER_VALUE = 8 * 1024;

/** `X-Request-ID`: the caller's when well-formed, else generated (docs/contract.md#requests). */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && REQUEST_ID.test(value) ? value : randomUUID();
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Client address (trusted proxies honoured), User-Agent and request id, for sessions and audit. */
    meta: RequestMeta;
    /** `scheme://host` as the client sees it (forwarding headers only from trusted proxies), for absolute links. */
    origin: string;
  }
}

/**
 * `ALLOWED_HOSTS` as Django: exact names, `.example.org` for a domain and its subdomains, `*` for any;
 * an empty list allows any host.
 */
export function hostAllowed(host: string | undefined, allowed: string[]): boolean {
  if (allowed.length === 0 || allowed.includes('*')) return true;
  const name = (host ?? '')
    .toLowerCase()
    .replace(/:\d+$/, '')
    .replace(/^\[(.*)\]$/, '$1');
  return allowed.some((entry) => {
    const e = entry.toLowerCase();
    return e.startsWith('.') ? name === e.slice(1) || name.endsWith(e) : name === e;
  });
}

export interface RequestContextOptions {
  trustedProxies: string[];
  allowedHosts: string[];
  /** SECURE_SSL_REDIRECT: plain-HTTP requests are sent to https (health probes exempt). */
  sslRedirect: boolean;
  /** `METRICS_TOKEN` is set: `/metrics` is then reached by instance address, like the health probes. */
  metricsTokenSet: boolean;
}

export function registerRequestContext(app: FastifyInstance, opts: RequestContextOptions): void {
  const { trustedProxies, allowedHosts, sslRedirect } = opts;
  /** Probes that address an instance directly, over plain HTTP inside the deployment's network. */
  const hostExempt = (url: string) =>
    url.startsWith('/health/') ||
    (opts.metricsTokenSet && (url === '/metrics' || url.startsWith('/metrics?')));
  const clientIp = createClientIpResolver(trustedProxies);
  const trusted = createProxyTrust(trustedProxies);
  app.decorateRequest('meta', null as unknown as RequestMeta);
  app.decorateRequest('origin', '');
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    const ua = request.headers['user-agent'];
    request.meta = {
      ip: clientIp(request.socket.remoteAddress, request.headers['x-forwarded-for']),
      userAgent: typeof ua === 'string' ? ua.slice(0, 500) : '',
      requestId: request.id,
    };
    request.origin = originOf(request.headers, trusted(request.socket.remoteAddress));
    // RFC 9112 §3.2: exactly one Host in an HTTP/1.1 request (Node keeps the first of several and
    // lets a missing one through here; see edge-answers.ts).
    const hosts = countHeader(request.raw.rawHeaders, 'host');
    if (hosts > 1 || (hosts === 0 && request.raw.httpVersion === '1.1')) {
      return sendError(reply, new ApiError(400, 'bad_request', 'Invalid request'));
    }
    // Health probes (the container's HEALTHCHECK, a platform's checks) and a Prometheus scraping
    // /metrics with METRICS_TOKEN reach an instance by its own address, not the public name; their
    // answers carry nothing built from Host. Without a token, /metrics keeps the allow-list (a page
    // that rebinds a name to an instance could otherwise read it).
    if (!hostExempt(request.url) && !hostAllowed(request.headers.host, allowedHosts)) {
      return sendError(reply, new ApiError(400, 'bad_request', 'Invalid request'));
    }
    // After the Host checks: a redirect never names a host outside the allow-list.
    if (sslRedirect && request.origin.startsWith('http://') && !hostExempt(request.url)) {
      return reply
        .code(301)
        .header('location', `https://${request.origin.slice('http://'.length)}${request.url}`)
        .send();
    }
    for (const value of Object.values(request.headers)) {
      const values = Array.isArray(value) ? value : [value ?? ''];
      if (values.some((v) => v.length > MAX_HEADER_VALUE || /[\0\r\n]/.test(v))) {
        return sendError(reply, new ApiError(400, 'bad_request', 'Invalid request'));
      }
    }
    return undefined;
  });
}

/** How often a header occurs in the raw list (names at even positions, any case). */
function countHeader(rawHeaders: string[], name: string): number {
  let n = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]?.toLowerCase() === name) n += 1;
  return n;
}

const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

function originOf(headers: Record<string, string | string[] | undefined>, fromTrustedProxy: boolean): string {
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)?.split(',')[0]?.trim();
  const proto = fromTrustedProxy ? one(headers['x-forwarded-proto']) : undefined;
  const fwdHost = fromTrustedProxy ? one(headers['x-forwarded-host']) : undefined;
  const host = [fwdHost, one(headers.host)].find((h) => h !== undefined && HOST.test(h)) ?? 'localhost';
  return `${proto === 'https' ? 'https' : 'http'}://${host}`;
}

/** The page-link builder of a paginated answer to this request (absolute, with its prefix and query). */
export function pageLinkOf(request: FastifyRequest): PageLink {
  return pageLinkFor(request.url, request.origin);
}

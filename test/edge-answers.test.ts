import net from 'node:net';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { createContainer } from '../src/container.js';
import { testConfig } from './helpers/env.js';
import { createTestApp, registerCandidate, type TestApp } from './helpers/app.js';

/**
 * Every answer, whatever the input, is the one error envelope with the security headers and an
 * `X-Request-ID` (issue 9 item 8, spec README §2 and §4): answers Fastify, @fastify/cors or Node's
 * HTTP parser would otherwise write themselves. What app.inject cannot express (duplicate Host,
 * a broken request line, a missing Host) goes through a real listening server and a raw socket.
 */
const ORIGIN = 'https://app.example.org';
let t: TestApp;
let port: number;
beforeAll(async () => {
  t = await createTestApp({
    CORS_ALLOWED_ORIGINS: ORIGIN,
    SECURE_HSTS_SECONDS: '31536000',
    REDIS_URL: process.env.TEST_REDIS_URL,
  });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  port = (t.app.server.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await t.close();
});

type Headers = Record<string, string | number | string[] | undefined>;

/** The envelope with its headers: JSON `{detail, code, errors?, error_id}`, security headers, request id. */
function expectEnvelope(status: number, headers: Headers, body: string, expected: number, code: string) {
  const label = `${status} ${JSON.stringify(headers)} ${body}`;
  expect(status, label).toBe(expected);
  expect(headers['content-type'], label).toMatch(/^application\/json/);
  const json = JSON.parse(body) as Record<string, unknown>;
  expect(
    Object.keys(json).filter((k) => k !== 'errors'),
    label,
  ).toEqual(['detail', 'code', 'error_id']);
  expect(typeof json.detail, label).toBe('string');
  expect(json.code, label).toBe(code);
  expect(json.error_id, label).toMatch(/^[0-9a-f]{8}$/);
  expect(json.error_id, label).not.toBe('00000000');
  expect(headers['x-content-type-options'], label).toBe('nosniff');
  expect(headers['x-frame-options'], label).toBe('DENY');
  expect(headers['referrer-policy'], label).toBe('strict-origin-when-cross-origin');
  expect(headers['cross-origin-opener-policy'], label).toBe('same-origin');
  expect(headers['strict-transport-security'], label).toMatch(/^max-age=31536000/);
  expect(headers['cache-control'], label).toBe('no-store');
  expect(headers['x-request-id'], label).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
}

interface RawResponse {
  status: number;
  headers: Headers;
  body: string;
}

/** Sends bytes on a fresh connection and reads the first response (the server closes after it). */
function rawRequest(text: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let data = Buffer.alloc(0);
    const done = () => {
      try {
        resolve(parseResponse(data.toString('utf8')));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    };
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
    });
    socket.on('end', done);
    socket.on('error', reject);
    socket.setTimeout(5000, () => {
      socket.destroy();
      done();
    });
  });
}

function parseResponse(text: string): RawResponse {
  const split = text.indexOf('\r\n\r\n');
  if (split < 0) throw new Error(`no response: ${JSON.stringify(text)}`);
  const [statusLine = '', ...lines] = text.slice(0, split).split('\r\n');
  const headers: Headers = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: text.slice(split + 4) };
}

describe('answers Fastify and its plugins wrote themselves', () => {
  it('a path that cannot be decoded (%ff, %zz) is a 400 envelope', async () => {
    for (const url of ['/api/users/%ff/', '/api/%zz/', '/api/journal/%c3%28/']) {
      const res = await t.request({ method: 'GET', url, headers: { 'x-request-id': 'bad-url-1' } });
      expectEnvelope(res.statusCode, res.headers, res.body, 400, 'bad_request');
      expect(res.headers['x-request-id']).toBe('bad-url-1');
    }
  });

  it('those answers are in the access log like any other request', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const c = await createContainer(testConfig(), { database: t.c.database, migrate: false });
    const app = await buildApp(c, { logger });
    try {
      await app.inject({ method: 'GET', url: '/api/users/%ff/', headers: { 'x-request-id': 'logged-1' } });
      const access = lines.filter((l) => l.msg === 'request');
      expect(access).toHaveLength(1);
      expect(access[0]).toMatchObject({ request_id: 'logged-1', status: 400, route: 'unmatched' });
    } finally {
      await app.close();
    }
  });

  it('an over-long path segment is an unknown path (404 envelope), not a 414 of Fastify', async () => {
    const res = await t.request({ method: 'DELETE', url: `/api/auth/sessions/${'a'.repeat(300)}/` });
    expectEnvelope(res.statusCode, res.headers, res.body, 404, 'not_found');
  });

  it('OPTIONS without the preflight headers is a 400 envelope, not text/plain', async () => {
    for (const headers of [
      {},
      { origin: ORIGIN },
      { 'access-control-request-method': 'POST' },
      { origin: 'https://evil.example' },
    ]) {
      const res = await t.request({ method: 'OPTIONS', url: '/api/auth/login/', headers });
      expectEnvelope(res.statusCode, res.headers, res.body, 400, 'bad_request');
    }
    // A real preflight is answered as before.
    const ok = await t.request({
      method: 'OPTIONS',
      url: '/api/auth/login/',
      headers: { origin: ORIGIN, 'access-control-request-method': 'POST' },
    });
    expect(ok.statusCode).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(ok.headers['access-control-allow-methods']).toContain('PATCH');
    expect(ok.headers['x-request-id']).toBeDefined();
  });
});

describe('answers the HTTP parser or the server gives (real socket)', () => {
  it('two Host headers are refused with a 400 envelope (RFC 9112 §3.2)', async () => {
    const res = await rawRequest(
      'GET /api/ HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\nX-Request-ID: two-hosts\r\nConnection: close\r\n\r\n',
    );
    expectEnvelope(res.status, res.headers, res.body, 400, 'bad_request');
    expect(res.headers['x-request-id']).toBe('two-hosts');
    // One Host is served as before, whatever its case.
    const one = await rawRequest('GET /api/ HTTP/1.1\r\nhOsT: localhost\r\nConnection: close\r\n\r\n');
    expect(one.status).toBe(200);
  });

  it('an HTTP/1.1 request without Host is a 400 envelope (HTTP/1.0 may omit it)', async () => {
    const res = await rawRequest('GET /api/ HTTP/1.1\r\nConnection: close\r\n\r\n');
    expectEnvelope(res.status, res.headers, res.body, 400, 'bad_request');
    const old = await rawRequest('GET /api/ HTTP/1.0\r\n\r\n');
    expect(old.status).toBe(200);
  });

  it('requests the parser refuses (request line, framing, header size) get the envelope and headers', async () => {
    const cases = [
      'GARBAGE\r\n\r\n',
      'GET /api/ HTTP/9.9\r\nHost: localhost\r\n\r\n',
      'POST /api/auth/login/ HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'POST /api/auth/login/ HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
      'POST /api/auth/login/ HTTP/1.1\r\nHost: localhost\r\nContent-Length: abc\r\n\r\n',
      `GET /api/ HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    ];
    const ids = new Set<string>();
    for (const text of cases) {
      const res = await rawRequest(text);
      expectEnvelope(res.status, res.headers, res.body, 400, 'bad_request');
      ids.add(String(res.headers['x-request-id']));
    }
    expect(ids.size).toBe(cases.length);
  });

  it('a request arriving while the server drains is a 503 envelope with Retry-After', async () => {
    // A second instance on this file's database (closing it leaves the database open).
    const c = await createContainer(testConfig(), { database: t.c.database, migrate: false });
    const app: FastifyInstance = await buildApp(c);
    // A route whose handler waits until the test lets it finish, to hold a connection open.
    let entered!: () => void;
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    app.get('/slow-test/', { config: { auth: 'public' } }, async () => {
      entered();
      await released;
      return { ok: true };
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const appPort = (app.server.address() as net.AddressInfo).port;
    const socket = net.connect(appPort, '127.0.0.1');
    let data = '';
    socket.on('data', (chunk: Buffer) => (data += chunk.toString('utf8')));
    const ended = new Promise<void>((resolve) =>
      socket.on('close', () => {
        resolve();
      }),
    );
    socket.write('GET /slow-test/ HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await inHandler;
    const closing = app.close();
    await new Promise((r) => setTimeout(r, 50));
    socket.write('GET /api/ HTTP/1.1\r\nHost: localhost\r\nX-Request-ID: while-draining\r\n\r\n');
    await new Promise((r) => setTimeout(r, 50));
    release();
    await ended;
    await closing;
    const second = data.indexOf('HTTP/1.1', 1);
    expect(second, data).toBeGreaterThan(0);
    expect(data.slice(0, second)).toMatch(/^HTTP\/1\.1 200/);
    const res = parseResponse(data.slice(second));
    expect(res.status, data).toBe(503);
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    expect(res.headers.connection).toBe('close');
    expect(res.headers['x-request-id']).toBe('while-draining');
    expect(JSON.parse(res.body)).toMatchObject({ code: 'service_unavailable' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('ordinary requests on the real server still carry the same headers', async () => {
    const user = await registerCandidate(t);
    const res = await rawRequest(
      `GET /api/auth/me/ HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${user.access}\r\nConnection: close\r\n\r\n`,
    );
    expect(res.status).toBe(200);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-request-id']).toBeDefined();
  });
});

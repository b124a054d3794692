import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, registerCandidate, type TestApp } from './helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ BODY_LIMIT_BYTES: '2048', CORS_ALLOWED_ORIGINS: 'https://app.example.org' });
});
afterAll(async () => {
  await t.close();
});

const envelope = (body: Record<string, unknown>) => {
  expect(typeof body.detail).toBe('string');
  expect(typeof body.code).toBe('string');
  expect(body.error_id).toMatch(/^[0-9a-f]{8}$/);
};

describe('health', () => {
  it('answers the original shapes at /, /api/, /api/v1/ and /health/', async () => {
    for (const url of ['/', '/api/', '/api/v1/']) {
      const res = await t.request({ method: 'GET', url });
      expect(res.json()).toEqual({ status: 'healthy', message: 'PSS Backend API is running' });
    }
    expect((await t.request({ method: 'GET', url: '/health/' })).json()).toEqual({ status: 'healthy' });
    const ready = await t.request({ method: 'GET', url: '/health/ready/' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'disabled' } });
  });
});

describe('error envelope and routing', () => {
  it('unknown routes are JSON 404s, never HTML', async () => {
    for (const url of ['/nope', '/api/nope/', '/api/journal/abc/', '/admin/']) {
      const res = await t.request({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.headers['content-type']).toMatch(/application\/json/);
      envelope(res.json());
      expect(res.json().code).toBe('not_found');
    }
  });

  it('a wrong method is a 405 with Allow', async () => {
    const res = await t.request({ method: 'DELETE', url: '/api/auth/login/' });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toContain('POST');
    expect(res.json()).toMatchObject({ detail: 'Method "DELETE" not allowed.', code: 'method_not_allowed' });
  });

  it('a missing trailing slash redirects: 301 for GET, 308 for POST', async () => {
    const get = await t.request({ method: 'GET', url: '/api/auth/me?x=1' });
    expect(get.statusCode).toBe(301);
    expect(get.headers.location).toBe('/api/auth/me/?x=1');
    const post = await t.request({ method: 'POST', url: '/api/v1/auth/login', payload: {} });
    expect(post.statusCode).toBe(308);
    expect(post.headers.location).toBe('/api/v1/auth/login/');
  });

  it('malformed JSON, wrong content type and oversized bodies get clear 4xx', async () => {
    const bad = await t.request({
      method: 'POST',
      url: '/api/auth/login/',
      headers: { 'content-type': 'application/json' },
      payload: '{"email": ',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'parse_error', detail: 'Invalid JSON in request body' });
    const xml = await t.request({
      method: 'POST',
      url: '/api/auth/login/',
      headers: { 'content-type': 'application/xml' },
      payload: '<a/>',
    });
    expect(xml.statusCode).toBe(415);
    expect(xml.json().code).toBe('unsupported_media_type');
    const big = await t.request({
      method: 'POST',
      url: '/api/auth/login/',
      payload: { email: 'x'.repeat(5000) },
    });
    expect(big.statusCode).toBe(413);
    expect(big.json().code).toBe('payload_too_large');
  });

  it('accepts form-encoded bodies like the original', async () => {
    const res = await t.request({
      method: 'POST',
      url: '/api/auth/login/',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'email=nobody%40capaciti.org.za',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.password).toEqual(['This field is required.']);
  });

  it('a JSON array or string body is a 400, not a 500', async () => {
    for (const payload of ['[1,2]', '"text"', 'null', '42']) {
      const res = await t.request({
        method: 'POST',
        url: '/api/auth/register/',
        headers: { 'content-type': 'application/json' },
        payload,
      });
      expect(res.statusCode, payload).toBe(400);
      envelope(res.json());
    }
  });

  it('odd values in fields are 400s, not 500s', async () => {
    for (const payload of [
      { email: 5, password: [] },
      { email: { a: 1 }, password: true },
      { refresh: 12 },
    ]) {
      for (const url of ['/api/auth/login/', '/api/auth/register/', '/api/auth/token/refresh/']) {
        const res = await t.request({ method: 'POST', url, payload });
        expect(res.statusCode, `${url} ${JSON.stringify(payload)}`).toBeGreaterThanOrEqual(400);
        expect(res.statusCode, `${url} ${JSON.stringify(payload)}`).toBeLessThan(500);
      }
    }
  });

  it('a bad token on a public route is refused; auth routes ignore it', async () => {
    const health = await t.request({ method: 'GET', url: '/api/auth/me/', token: 'garbage' });
    expect(health.statusCode).toBe(401);
    const login = await t.request({ method: 'POST', url: '/api/auth/login/', token: 'garbage', payload: {} });
    expect(login.statusCode).toBe(400);
  });
});

describe('headers', () => {
  it('sets security headers and echoes a well-formed request id', async () => {
    const res = await t.request({ method: 'GET', url: '/api/', headers: { 'x-request-id': 'abc-123.x:y' } });
    expect(res.headers['x-request-id']).toBe('abc-123.x:y');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['referrer-policy']).toBe('strict-origin-when-cross-origin');
    expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(res.headers['x-powered-by']).toBeUndefined();
    const generated = await t.request({
      method: 'GET',
      url: '/nope',
      headers: { 'x-request-id': 'bad id with spaces' },
    });
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses an oversized header value', async () => {
    const res = await t.request({ method: 'GET', url: '/api/', headers: { 'x-custom': 'a'.repeat(9000) } });
    expect(res.statusCode).toBe(400);
    expect(res.json().detail).toBe('Invalid request');
  });

  it('answers CORS only for allowed origins', async () => {
    const ok = await t.request({
      method: 'OPTIONS',
      url: '/api/auth/login/',
      headers: { origin: 'https://app.example.org', 'access-control-request-method': 'POST' },
    });
    expect(ok.headers['access-control-allow-origin']).toBe('https://app.example.org');
    expect(ok.headers['access-control-allow-credentials']).toBe('true');
    const evil = await t.request({
      method: 'OPTIONS',
      url: '/api/auth/login/',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('marks authenticated responses no-store', async () => {
    const user = await registerCandidate(t);
    const me = await t.request({ method: 'GET', url: '/api/auth/me/', token: user.access });
    expect(me.headers['cache-control']).toBe('no-store');
  });
});

describe('OpenAPI', () => {
  it('serves the document and the UI', async () => {
    const doc = await t.request({ method: 'GET', url: '/api/docs/json' });
    expect(doc.statusCode).toBe(200);
    expect(doc.json().openapi).toMatch(/^3\./);
    expect(Object.keys(doc.json().paths)).toContain('/api/auth/login/');
    const ui = await t.request({ method: 'GET', url: '/api/docs/' });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toMatch(/text\/html/);
  });
});

describe('ALLOWED_HOSTS', () => {
  it('refuses a Host outside the list and accepts listed names and subdomains', async () => {
    const { hostAllowed } = await import('../src/plugins/request-context.js');
    expect(hostAllowed('api.pss.example.org:443', ['.pss.example.org'])).toBe(true);
    expect(hostAllowed('pss.example.org', ['.pss.example.org'])).toBe(true);
    expect(hostAllowed('evil.example.com', ['.pss.example.org', 'localhost'])).toBe(false);
    expect(hostAllowed('anything', [])).toBe(true);
    const strict = await (
      await import('./helpers/app.js')
    ).createTestApp({ ALLOWED_HOSTS: 'api.pss.example.org' });
    try {
      const bad = await strict.request({
        method: 'GET',
        url: '/api/',
        headers: { host: 'evil.example.com' },
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ code: 'bad_request', detail: 'Invalid request' });
      const ok = await strict.request({
        method: 'GET',
        url: '/api/',
        headers: { host: 'api.pss.example.org' },
      });
      expect(ok.statusCode).toBe(200);
      // A container or platform health probe uses the instance's address as Host.
      const probe = await strict.request({
        method: 'GET',
        url: '/health/',
        headers: { host: '10.0.0.7:8000' },
      });
      expect(probe.statusCode).toBe(200);
      // Without METRICS_TOKEN, /metrics keeps the allow-list (only a token makes it safe to reach by address).
      const open = await strict.request({ method: 'GET', url: '/metrics', headers: { host: 'api-1:8000' } });
      expect(open.statusCode).toBe(400);
    } finally {
      await strict.close();
    }
  });

  it('lets Prometheus scrape /metrics by instance address over plain HTTP when METRICS_TOKEN is set', async () => {
    const token = 'scrape-token-0123456789abcdef';
    const app = await (
      await import('./helpers/app.js')
    ).createTestApp({
      ALLOWED_HOSTS: 'api.pss.example.org',
      METRICS_TOKEN: token,
      SECURE_SSL_REDIRECT: 'true',
    });
    try {
      const scrape = (authorization?: string) =>
        app.request({
          method: 'GET',
          url: '/metrics',
          headers: { host: 'api-1:8000', ...(authorization ? { authorization } : {}) },
        });
      const ok = await scrape(`Bearer ${token}`);
      expect(ok.statusCode).toBe(200);
      expect(ok.body).toContain('http_requests_total');
      expect((await scrape()).statusCode).toBe(401);
      expect((await scrape('Bearer wrong')).statusCode).toBe(401);
      // Everything else still needs a listed Host (and https).
      const api = await app.request({ method: 'GET', url: '/api/', headers: { host: 'api-1:8000' } });
      expect(api.statusCode).toBe(400);
      const lookalike = await app.request({
        method: 'GET',
        url: '/metricsx',
        headers: { host: 'api-1:8000', authorization: `Bearer ${token}` },
      });
      expect(lookalike.statusCode).toBe(400);
    } finally {
      await app.close();
    }
  });
});

describe('SECURE_SSL_REDIRECT', () => {
  it('sends plain-HTTP requests to https, except health probes; https via a trusted proxy passes', async () => {
    const secure = await (await import('./helpers/app.js')).createTestApp({ SECURE_SSL_REDIRECT: 'true' });
    try {
      const plain = await secure.request({
        method: 'GET',
        url: '/api/?x=1',
        headers: { host: 'api.example.org' },
      });
      expect(plain.statusCode).toBe(301);
      expect(plain.headers.location).toBe('https://api.example.org/api/?x=1');
      expect((await secure.request({ method: 'GET', url: '/health/' })).statusCode).toBe(200);
      const proxied = await secure.request({
        method: 'GET',
        url: '/api/',
        headers: { 'x-forwarded-proto': 'https' },
      });
      expect(proxied.statusCode).toBe(200);
    } finally {
      await secure.close();
    }
  });
});

import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../src/lib/errors.js';
import { loginOutcomeOf } from '../src/modules/auth/index.js';
import { registerErrorHandling } from '../src/plugins/errors.js';
import { createMetrics, registerMetrics, routeLabel, type Metrics } from '../src/plugins/metrics.js';
import { registerNotFound } from '../src/plugins/routing.js';

const TOKEN = 'x'.repeat(32);

/** A small app shaped like the real one: error envelope, not-found handler, metrics, a dummy route. */
async function buildApp(token: string | undefined): Promise<{ app: FastifyInstance; metrics: Metrics }> {
  const app = Fastify({ logger: false, routerOptions: { ignoreTrailingSlash: false } });
  registerErrorHandling(app);
  registerNotFound(app);
  const metrics = registerMetrics(app, { token, metrics: createMetrics() });
  app.get('/dummy/:id', { config: { auth: 'public-ignore-token' } }, async (req) => ({
    id: (req.params as { id: string }).id,
  }));
  await app.ready();
  return { app, metrics };
}

const scrape = (app: FastifyInstance, authorization?: string) =>
  app.inject({ method: 'GET', url: '/metrics', headers: authorization ? { authorization } : {} });

describe('/metrics with METRICS_TOKEN', () => {
  let app: FastifyInstance;
  let metrics: Metrics;
  beforeAll(async () => {
    ({ app, metrics } = await buildApp(TOKEN));
  });
  afterAll(async () => {
    await app.close();
  });

  it('counts requests by route pattern and serves Prometheus text to the token holder', async () => {
    expect((await app.inject({ method: 'GET', url: '/dummy/4711' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/dummy/4712?email=jane@example.com' })).statusCode).toBe(
      200,
    );
    const res = await scrape(app, `Bearer ${TOKEN}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toContain('http_requests_total{method="GET",route="/dummy/:id",status="200"} 2');
    expect(res.body).toMatch(
      /http_request_duration_seconds_bucket\{le="0\.001",method="GET",route="\/dummy\/:id",status="200"\} \d/,
    );
    expect(res.body).toContain(
      'http_request_duration_seconds_count{method="GET",route="/dummy/:id",status="200"} 2',
    );
    // Process metrics from collectDefaultMetrics, on the app's own registry.
    expect(res.body).toContain('process_cpu_user_seconds_total');
    expect(res.body).toContain('nodejs_heap_size_used_bytes');
  });

  it('never puts a raw URL, an id or an e-mail in a label; unknown paths share one label', async () => {
    await app.inject({ method: 'GET', url: '/no/such/path/9999/someone@example.com' });
    const res = await scrape(app, `Bearer ${TOKEN}`);
    expect(res.body).toContain('http_requests_total{method="GET",route="unmatched",status="404"} 1');
    for (const leak of ['4711', '4712', '9999', '@example.com', '/no/such', '?']) {
      const labels = res.body
        .split('\n')
        .filter((l) => !l.startsWith('#'))
        .map((l) => /\{([^}]*)\}/.exec(l)?.[1] ?? '');
      expect(labels.filter((l) => l.includes(leak))).toEqual([]);
    }
  });

  it('refuses a scrape without the token, with a wrong one, or another scheme: 401 envelope', async () => {
    for (const authorization of [
      undefined,
      'Bearer wrong',
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(1)}`,
      `Basic ${TOKEN}`,
      TOKEN,
    ]) {
      const res = await scrape(app, authorization);
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="metrics"');
      const body = res.json();
      expect(Object.keys(body)).toEqual(['detail', 'code', 'error_id']);
      expect(body).toMatchObject({ detail: 'Authentication required', code: 'not_authenticated' });
      expect(res.body).not.toContain('http_requests_total');
    }
    // The refusals themselves are counted under the route pattern.
    const ok = await scrape(app, `bearer ${TOKEN}`);
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('http_requests_total{method="GET",route="/metrics",status="401"} 6');
  });

  it('is served exactly as /metrics: the slashed form is an unknown path', async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/metrics/',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(res.statusCode).toBe(404);
    expect(res.headers.location).toBeUndefined();
    const bare = await app.inject({
      method: 'GET',
      url: '/metrics?x=1',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(bare.statusCode).toBe(200);
  });

  it('exports the domain counters other modules increment', async () => {
    metrics.login('success');
    metrics.login(loginOutcomeOf(new ApiError(401, 'invalid_credentials', 'Invalid email or password')));
    metrics.login(loginOutcomeOf(new ApiError(429, 'locked_out', 'locked')));
    metrics.login(loginOutcomeOf(new Error('boom')));
    metrics.lockouts.inc();
    metrics.limited('login');
    metrics.job('retention', 'success');
    metrics.email('welcome', 'sent');
    const body = (await scrape(app, `Bearer ${TOKEN}`)).body;
    expect(body).toContain('auth_logins_total{outcome="success"} 1');
    expect(body).toContain('auth_logins_total{outcome="invalid_credentials"} 1');
    expect(body).toContain('auth_logins_total{outcome="locked"} 1');
    expect(body).toContain('auth_logins_total{outcome="error"} 1');
    expect(body).toContain('auth_lockouts_total 1');
    expect(body).toContain('rate_limited_total{scope="login"} 1');
    expect(body).toContain('jobs_total{job="retention",outcome="success"} 1');
    expect(body).toContain('emails_total{template="welcome",outcome="sent"} 1');
  });
});

describe('routeLabel', () => {
  it('keeps the pattern and drops parameter regular expressions', () => {
    expect(routeLabel('/api/journal/:id(^\\d{1,15}$)/')).toBe('/api/journal/:id/');
    expect(routeLabel('/api/users/:id(^\\d{1,15}$)/notes/:noteId(^\\d+$)/')).toBe(
      '/api/users/:id/notes/:noteId/',
    );
    expect(routeLabel('/dummy/:id')).toBe('/dummy/:id');
    expect(routeLabel(undefined)).toBe('unmatched');
  });
});

describe('/metrics without METRICS_TOKEN', () => {
  it('is open, and each app has its own registry', async () => {
    const a = await buildApp(undefined);
    const b = await buildApp(undefined);
    try {
      await a.app.inject({ method: 'GET', url: '/dummy/1' });
      const resA = await scrape(a.app);
      const resB = await scrape(b.app, 'Bearer anything');
      expect(resA.statusCode).toBe(200);
      expect(resB.statusCode).toBe(200);
      expect(resA.body).toContain('http_requests_total{method="GET",route="/dummy/:id",status="200"} 1');
      expect(resB.body).not.toContain('route="/dummy/:id"');
    } finally {
      await a.app.close();
      await b.app.close();
    }
  });
});

describe('GET /metrics on the real app', () => {
  it('counts requests and login outcomes, behind METRICS_TOKEN', async () => {
    const { createTestApp, registerCandidate } = await import('./helpers/app.js');
    const token = 'm'.repeat(32);
    const t = await createTestApp({ METRICS_TOKEN: token });
    try {
      const user = await registerCandidate(t);
      await t.request({
        method: 'POST',
        url: '/api/auth/login/',
        payload: { email: user.email, password: 'Wrong#Passw0rd-1' },
      });
      expect((await t.request({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
      const res = await t.request({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('auth_logins_total{outcome="invalid_credentials"} 1');
      expect(res.body).toMatch(
        /http_requests_total\{method="POST",route="\/api\/auth\/register\/",status="201"\} 1/,
      );
      expect(res.body).not.toContain(user.email);
    } finally {
      await t.close();
    }
  });

  it('db_statements_total counts every statement a request sends, transaction control included', async () => {
    const { createTestApp, registerCandidate } = await import('./helpers/app.js');
    const t = await createTestApp();
    try {
      const user = await registerCandidate(t);
      await t.c.jobs.idle(); // the welcome e-mail's job has run: nothing else talks to the database
      const total = async () => {
        const res = await t.request({ method: 'GET', url: '/metrics' });
        return Number(/^db_statements_total (\d+)$/m.exec(res.body)?.[1]);
      };
      const before = await total();
      const created = await t.request({
        method: 'POST',
        url: '/api/journal/',
        token: user.access,
        payload: { date: '2026-01-05', mood: 'good', energy_level: 5, activities: 'counted' },
      });
      expect(created.statusCode).toBe(201);
      const afterWrite = await total();
      // At least BEGIN, the insert, its audit row and COMMIT; a scrape itself sends one statement (the
      // job outbox's depth, for jobs_queue_depth), counted by the next scrape.
      expect(afterWrite - before).toBeGreaterThanOrEqual(5);
      expect(await total()).toBe(afterWrite + 1);
      expect(t.c.database.statementCount()).toBe(afterWrite + 2);
    } finally {
      await t.close();
    }
  });
});

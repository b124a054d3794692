import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAuth } from '../src/plugins/auth.js';
import {
  createTestApp,
  createUserWithSession,
  openSession,
  registerCandidate,
  type TestApp,
  type TestUser,
} from './helpers/app.js';

let t: TestApp;
let candidate: TestUser;
let admin: TestUser;
beforeAll(async () => {
  t = await createTestApp();
  candidate = await registerCandidate(t);
  admin = await createUserWithSession(t, 'admin');
});
afterAll(async () => {
  await t.close();
});

/** A concrete URL for a route pattern: every parameter becomes 999999 (no such object). */
const concrete = (url: string) => url.replace(/:[A-Za-z_]+(\([^)]*\))?/g, '999999').replace(/\*$/, 'x');

describe('route gates (default deny)', () => {
  it('refuses to start when a route declares no gate', async () => {
    const app = Fastify();
    registerAuth(app, {} as never);
    expect(() => app.get('/api/undeclared/', () => ({}))).toThrow(/declares no auth/);
    // Under the console's prefix too: only its static-file routes are public without saying so.
    expect(() => app.get('/admin/api/users/', () => ({}))).toThrow(/declares no auth/);
    expect(() => app.get('/admin/*', () => ({}))).not.toThrow();
    await app.close();
  });

  it('every route declares a gate and every protected route refuses a request without a token', async () => {
    const protectedRoutes = t.app.routeGates.filter((g) => Array.isArray(g.auth) && g.method !== 'HEAD');
    expect(protectedRoutes.length).toBeGreaterThanOrEqual(4);
    for (const gate of protectedRoutes) {
      const res = await t.request({
        method: gate.method,
        url: concrete(gate.url),
        payload: gate.method === 'GET' ? undefined : {},
      });
      expect(res.statusCode, `${gate.method} ${gate.url}`).toBe(401);
      expect(res.json().code, `${gate.method} ${gate.url}`).toBe('not_authenticated');
    }
  });

  it('every route closed to a role answers that role 403, and admits the roles it lists', async () => {
    for (const gate of t.app.routeGates) {
      if (!Array.isArray(gate.auth) || gate.method === 'HEAD') continue;
      for (const user of [candidate, admin]) {
        // A fresh session per call: some routes (logout, session revocation) end the caller's session.
        const { access } = await openSession(t, user.id);
        const res = await t.request({
          method: gate.method,
          url: concrete(gate.url),
          token: access,
          payload: gate.method === 'GET' ? undefined : {},
        });
        const label = `${user.role} ${gate.method} ${gate.url}`;
        if (gate.auth.includes(user.role)) expect(res.statusCode, label).not.toBe(403);
        else {
          expect(res.statusCode, `${label} ${res.body}`).toBe(403);
          expect(res.json().code, label).toBe('permission_denied');
        }
        expect(res.statusCode, label).not.toBe(500);
      }
    }
  });

  it('serves every API route under /api/ and /api/v1/ alike', () => {
    const api = t.app.routeGates.filter(
      (g) => g.url.startsWith('/api/') && !g.url.startsWith('/api/v1/') && !g.url.startsWith('/api/docs'),
    );
    for (const g of api) {
      if (g.url === '/api/') continue;
      const twin = t.app.routeGates.find(
        (o) => o.method === g.method && o.url === g.url.replace('/api/', '/api/v1/'),
      );
      expect(twin, `${g.method} ${g.url}`).toBeDefined();
      expect(twin!.auth).toEqual(g.auth);
    }
  });
});

describe('rate-limit scopes (spec auth.md §8)', () => {
  it('each limited endpoint counts in its own scope; health and docs are never limited', async () => {
    const scopeOf = (method: string, url: string) =>
      t.app.routeGates.find((g) => g.method === method && g.url === url)?.rateLimit;
    const expected: [string, string, string | false][] = [
      ['POST', '/api/auth/login/', 'login'],
      ['POST', '/api/auth/2fa/verify-code/', '2fa_verify'],
      ['POST', '/api/auth/register/', 'register'],
      ['POST', '/api/auth/password-reset/request/', 'reset_request'],
      ['POST', '/api/auth/password-reset/confirm/', 'reset_confirm'],
      ['POST', '/api/auth/token/refresh/', 'refresh'],
      ['POST', '/api/auth/refresh/', 'refresh'],
      ['POST', '/api/auth/password-change/', 'sensitive_user'],
      ['POST', '/api/auth/2fa/setup/', 'sensitive_user'],
      ['POST', '/api/auth/2fa/verify-setup/', 'sensitive_user'],
      ['POST', '/api/auth/2fa/disable/', 'sensitive_user'],
      ['POST', '/api/auth/2fa/backup-codes/', 'sensitive_user'],
      ['POST', '/api/v1/auth/login/', 'login'],
      ['GET', '/health/', false],
      ['GET', '/health/ready/', false],
      ['GET', '/', false],
    ];
    for (const [method, url, scope] of expected) expect(scopeOf(method, url), `${method} ${url}`).toBe(scope);
  });
});

import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { createContainer, type Container } from '../src/container.js';
import { loggableError } from '../src/lib/loggable-error.js';
import { registerCandidate, type TestApp } from './helpers/app.js';
import { freshDatabase } from './helpers/database.js';
import { testConfig } from './helpers/env.js';

it('drops query parameters from logged driver errors', () => {
  const err = new Error('Failed query: select * from users where email = $1\nparams: thandi@capaciti.org.za');
  const out = loggableError(err);
  expect(JSON.stringify(out)).not.toContain('thandi@capaciti.org.za');
  expect(out.message).toContain('Failed query');
  expect(String(out.stack)).toContain('at ');
});

/**
 * Every 5xx logs its cause under the `error_id` the client sees, and 503 means a dependency is really
 * unreachable: a failing audit insert that is a defect (here a trigger refusing one action) is a 500
 * with its cause in the log, not a 503 "audit store unavailable" with nothing logged.
 */
describe('failures reach the log with their error id', () => {
  const lines: Record<string, unknown>[] = [];
  let t: TestApp;
  let c: Container;
  let app: FastifyInstance;
  let drop: () => Promise<void>;
  /** A logger whose JSON lines land in `lines`. */
  const capture = () =>
    pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          for (const line of chunk.toString().split('\n').filter(Boolean))
            lines.push(JSON.parse(line) as never);
          done();
        },
      }),
    );

  beforeAll(async () => {
    const fresh = await freshDatabase();
    drop = fresh.drop;
    const logger = capture();
    c = await createContainer(testConfig(), { database: fresh.database, migrate: false, logger });
    app = await buildApp(c, { logger });
    await app.ready();
    t = {
      app,
      c,
      clock: { now: () => new Date(), advance: () => undefined },
      request: ({ token, headers, ...opts }) =>
        app.inject({
          ...opts,
          headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
        }),
      close: async () => {
        await app.close();
      },
    };
    await fresh.database.exec(`
      create function pss_test_refuse_logout_audit() returns trigger language plpgsql as $$
      begin
        if new.action = 'logout' then raise exception 'simulated audit defect'; end if;
        return new;
      end $$;
      create trigger pss_test_refuse_logout_audit before insert on audit_log
        for each row execute function pss_test_refuse_logout_audit();`);
  });
  afterAll(async () => {
    await app.close();
    await drop();
  });

  it('an audit insert that fails for a reason other than an outage is a logged 500, and changes nothing', async () => {
    const user = await registerCandidate(t);
    const res = await t.request({
      method: 'POST',
      url: '/api/auth/logout/',
      token: user.access,
      payload: {},
    });
    expect(res.statusCode).toBe(500);
    const body = res.json<{ code: string; error_id: string; detail: string }>();
    expect(body.code).toBe('server_error');
    expect(JSON.stringify(body)).not.toContain('simulated');
    const logged = lines.find((l) => l.error_id === body.error_id);
    expect(logged).toBeDefined();
    expect(logged?.level).toBe(50);
    expect(JSON.stringify(logged)).toContain('simulated audit defect');
    // The logout and its audit row were one transaction: the session is still live.
    const me = await t.request({ method: 'GET', url: '/api/auth/me/', token: user.access });
    expect(me.statusCode).toBe(200);
  });

  it('a 5xx the service answers on purpose also logs its cause under its error id', async () => {
    const captcha = await createContainer(
      testConfig({
        CAPTCHA_ENABLED: 'true',
        CAPTCHA_TRIGGER_THRESHOLD: '1',
        // Nothing listens on the discard port: the provider is unreachable.
        CAPTCHA_VERIFY_URL: 'http://127.0.0.1:9/siteverify',
        RECAPTCHA_PRIVATE_KEY: 'test-captcha-secret',
      }),
      { database: c.database, migrate: false, logger: capture() },
    );
    const captchaApp = await buildApp(captcha, { logger: capture() });
    try {
      const login = (payload: Record<string, string>) =>
        captchaApp.inject({ method: 'POST', url: '/api/auth/login/', payload });
      const email = 'nobody.captcha@capaciti.org.za';
      expect((await login({ email, password: 'Wrong#Password-123' })).statusCode).toBe(401);
      const res = await login({ email, password: 'Wrong#Password-123', captcha_token: 'token' });
      expect(res.statusCode).toBe(503);
      const { error_id } = res.json<{ error_id: string }>();
      const logged = lines.find((l) => l.error_id === error_id);
      expect(logged?.level).toBe(50);
      expect(JSON.stringify(logged)).toContain('fetch failed');
    } finally {
      await captchaApp.close();
    }
  });
});

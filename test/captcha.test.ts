import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestApp,
  createUserWithSession,
  STRONG_PASSWORD,
  uniqueEmail,
  type TestApp,
} from './helpers/app.js';
import { testConfig } from './helpers/env.js';

/**
 * CAPTCHA after repeated failures (spec auth.md §9), against a local fake of the provider's
 * siteverify endpoint that answers by the token it receives.
 */
const ANSWERS: Record<string, object> = {
  good: { success: true, score: 0.9, action: 'login' },
  'good-register': { success: true, score: 0.9, action: 'register' },
  'low-score': { success: true, score: 0.1, action: 'login' },
  'wrong-action': { success: true, score: 0.9, action: 'register' },
  bad: { success: false, 'error-codes': ['invalid-input-response'] },
};
const BYPASS_IP = '198.51.100.77';

let verifier: Server;
const received: URLSearchParams[] = [];
let t: TestApp;

beforeAll(async () => {
  verifier = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      const form = new URLSearchParams(raw);
      received.push(form);
      const token = form.get('response') ?? '';
      if (token === 'down') {
        res.writeHead(502).end('bad gateway');
        return;
      }
      if (token === 'hang-up') {
        req.socket.destroy();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(ANSWERS[token] ?? { success: false }));
    });
  });
  await new Promise<void>((resolve) => verifier.listen(0, '127.0.0.1', resolve));
  const { port } = verifier.address() as AddressInfo;
  t = await createTestApp({
    CAPTCHA_ENABLED: 'true',
    CAPTCHA_VERIFY_URL: `http://127.0.0.1:${port}/siteverify`,
    CAPTCHA_TRIGGER_THRESHOLD: '3',
    CAPTCHA_BYPASS_IPS: BYPASS_IP,
    RECAPTCHA_PRIVATE_KEY: 'test-captcha-secret',
    RATE_LIMIT_LOGIN: 'off',
    RATE_LIMIT_REGISTER: 'off',
    LOCKOUT_THRESHOLD: '50',
    LOCKOUT_IP_THRESHOLD: '50',
  });
});
afterAll(async () => {
  await t.close();
  await new Promise<void>((resolve) =>
    verifier.close(() => {
      resolve();
    }),
  );
});

let ipSeq = 0;
const nextIp = () => `203.0.113.${(ipSeq += 1)}`;
const WRONG = 'Wrong#Passw0rd-xyz';
const REQUIRED = {
  detail: 'CAPTCHA verification required',
  code: 'captcha_required',
  captcha_required: true,
};

const login = (ip: string, body: Record<string, unknown>) =>
  t.request({ method: 'POST', url: '/api/auth/login/', payload: body, headers: { 'x-forwarded-for': ip } });

async function failLogins(ip: string, email: string, times: number): Promise<void> {
  for (let i = 0; i < times; i += 1) {
    const res = await login(ip, { email, password: WRONG });
    expect(res.statusCode).toBe(401);
  }
}

function expectRequired(res: Awaited<ReturnType<typeof login>>): void {
  expect(res.statusCode).toBe(400);
  const body = res.json();
  expect(body).toMatchObject(REQUIRED);
  expect(Object.keys(body)).toEqual(['detail', 'code', 'error_id', 'captcha_required']);
}

describe('CAPTCHA after failed logins', () => {
  it('is not asked before the threshold, then required for that address and e-mail only', async () => {
    const user = await createUserWithSession(t, 'candidate');
    const ip = nextIp();
    await failLogins(ip, user.email, 2);
    const before = received.length;
    // Two failures: no CAPTCHA yet (the third attempt is an ordinary one).
    await failLogins(ip, user.email, 1);
    expect(received.length).toBe(before);

    expectRequired(await login(ip, { email: user.email, password: user.password }));
    expectRequired(
      await login(ip, { email: user.email.toUpperCase(), password: user.password, captcha_token: '' }),
    );
    // Another address, or another e-mail from this address, is not affected.
    expect((await login(nextIp(), { email: user.email, password: user.password })).statusCode).toBe(200);
    const other = await createUserWithSession(t, 'candidate');
    expect((await login(ip, { email: other.email, password: other.password })).statusCode).toBe(200);
  });

  it('proceeds with a token the provider confirms', async () => {
    const user = await createUserWithSession(t, 'candidate');
    const ip = nextIp();
    await failLogins(ip, user.email, 3);
    const res = await login(ip, { email: user.email, password: user.password, captcha_token: 'good' });
    expect(res.statusCode).toBe(200);
    expect(Object.keys(res.json())).toEqual(['access', 'refresh', 'user']);
    const sent = received.at(-1);
    expect(sent?.get('secret')).toBe('test-captcha-secret');
    expect(sent?.get('response')).toBe('good');
    expect(sent?.get('remoteip')).toBe(ip);
    // A confirmed CAPTCHA only lets the password be checked.
    const wrong = await login(ip, { email: user.email, password: WRONG, captcha_token: 'good' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().code).toBe('invalid_credentials');
  });

  it('refuses a token the provider rejects, a low score or another action', async () => {
    const user = await createUserWithSession(t, 'candidate');
    const ip = nextIp();
    await failLogins(ip, user.email, 3);
    for (const captcha_token of ['bad', 'low-score', 'wrong-action', 'unknown-token']) {
      const res = await login(ip, { email: user.email, password: user.password, captcha_token });
      expectRequired(res);
    }
  });

  it('answers 503 when the provider cannot be reached', async () => {
    const user = await createUserWithSession(t, 'candidate');
    const ip = nextIp();
    await failLogins(ip, user.email, 3);
    for (const captcha_token of ['down', 'hang-up']) {
      const res = await login(ip, { email: user.email, password: user.password, captcha_token });
      expect(res.statusCode, captcha_token).toBe(503);
      expect(res.json().code).toBe('service_unavailable');
    }
  });

  it('skips addresses in CAPTCHA_BYPASS_IPS', async () => {
    const user = await createUserWithSession(t, 'candidate');
    await failLogins(BYPASS_IP, user.email, 4);
    const res = await login(BYPASS_IP, { email: user.email, password: user.password });
    expect(res.statusCode).toBe(200);
  });

  it('also guards registration for that address and e-mail (action "register")', async () => {
    const email = uniqueEmail('capreg');
    const ip = nextIp();
    await failLogins(ip, email, 3);
    const register = (captcha_token?: string) =>
      t.request({
        method: 'POST',
        url: '/api/auth/register/',
        payload: { email, password: STRONG_PASSWORD, ...(captcha_token ? { captcha_token } : {}) },
        headers: { 'x-forwarded-for': ip },
      });
    const missing = await register();
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject(REQUIRED);
    // A token issued for the login action does not pass for registration.
    expect((await register('good')).json()).toMatchObject(REQUIRED);
    expect((await register('good-register')).statusCode).toBe(201);
  });
});

describe('CAPTCHA configuration', () => {
  it('is off by default', () => {
    expect(testConfig().captcha.enabled).toBe(false);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCluster, registerCandidate, type TestApp } from './helpers/app.js';

/**
 * Floods of invalid tokens are throttled (spec auth.md §8; issue 9 item 9): a refused
 * authentication with a forged, malformed or missing token is an anonymous request and counts in the
 * address's `anon` scope; once that is spent, refusals from the address answer 429 `throttled` instead
 * of 401. Tokens we signed (valid, expired, or of an ended session) never count there and are never
 * refused by it: an office's people all see their tokens expire, and their clients must see the 401
 * that makes them refresh. On every limiter store; with a shared one, over two instances.
 */
const redisUrl = process.env.TEST_REDIS_URL;
const onPostgres = Boolean(process.env.TEST_DATABASE_URL);
const VARIANTS = [
  { store: onPostgres ? 'PostgreSQL' : 'memory', env: {}, size: onPostgres ? 2 : 1, skip: false },
  { store: 'Redis', env: { REDIS_URL: redisUrl }, size: 2, skip: !redisUrl },
];
const BUDGET = 5;
const THROTTLED = /^Request was throttled\. Expected available in (\d+) seconds\.$/;
/** Well-formed, but signed with another key. */
const FORGED =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwidXNlcl9pZCI6IjEiLCJzaWQiOiIxIiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2lnbmVkLXdpdGgtYW5vdGhlci1rZXktMDEyMzQ1Njc4OQ';

let ipSeq = 0;
const nextIp = () => {
  ipSeq += 1;
  return `198.51.100.${ipSeq}`;
};

function expectThrottled(res: { statusCode: number; json(): unknown; headers: Record<string, unknown> }) {
  expect(res.statusCode).toBe(429);
  const body = res.json() as { code: string; detail: string };
  expect(body.code).toBe('throttled');
  const seconds = Number(THROTTLED.exec(body.detail)?.[1]);
  expect(res.headers['retry-after']).toBe(String(seconds));
  expect(seconds).toBeGreaterThan(0);
  expect(seconds).toBeLessThanOrEqual(60);
}

for (const variant of VARIANTS) {
  describe.skipIf(variant.skip)(`refused authentications are throttled (${variant.store} limiter)`, () => {
    let apps: TestApp[] = [];
    beforeAll(async () => {
      apps = await createTestCluster(variant.size, {
        ...variant.env,
        RATE_LIMIT_ANON: `${BUDGET}/minute`,
        RATE_LIMIT_USER: '1000/day',
      });
    });
    afterAll(async () => {
      for (const app of apps) await app.close();
    });
    const app = (i: number) => apps[i % apps.length]!;
    const me = (i: number, ip: string, token?: string) =>
      app(i).request({
        method: 'GET',
        url: '/api/auth/me/',
        headers: { 'x-forwarded-for': ip },
        ...(token ? { token } : {}),
      });

    it('a flood of invalid tokens from one address ends in 429s; other addresses are unaffected', async () => {
      const ip = nextIp();
      const flood = await Promise.all(Array.from({ length: 16 }, (_, i) => me(i, ip, `${FORGED}${i}`)));
      const refused = flood.filter((r) => r.statusCode === 401);
      expect(refused).toHaveLength(BUDGET);
      for (const res of refused) expect(res.json()).toMatchObject({ code: 'authentication_failed' });
      const throttled = flood.filter((r) => r.statusCode === 429);
      expect(throttled).toHaveLength(16 - BUDGET);
      for (const res of throttled) expectThrottled(res);
      // Further refusals from that address: throttled, and its anonymous requests share the budget.
      expectThrottled(await me(0, ip, FORGED));
      expectThrottled(await me(1, ip));
      expectThrottled(
        await app(0).request({
          method: 'GET',
          url: '/api/popia/privacy-policy/',
          headers: { 'x-forwarded-for': ip },
        }),
      );
      // Another address: refused, not throttled. Valid tokens work from anywhere, the flooding
      // address included (one address is often shared by many people).
      expect((await me(0, nextIp(), FORGED)).statusCode).toBe(401);
      const user = await registerCandidate(app(0));
      expect((await me(1, nextIp(), user.access)).statusCode).toBe(200);
      expect((await me(0, ip, user.access)).statusCode).toBe(200);
    });

    it('requests without a token on protected routes count as refused authentications too', async () => {
      const ip = nextIp();
      const statuses = [];
      for (let i = 0; i < BUDGET + 2; i += 1) statuses.push((await me(i, ip)).statusCode);
      expect(statuses).toEqual([...Array<number>(BUDGET).fill(401), 429, 429]);
    });

    it('genuine tokens that expired or whose session ended are never throttled (many people share an address)', async () => {
      const ip = nextIp();
      const user = await registerCandidate(app(0));
      const ended = await registerCandidate(app(0));
      const logout = await app(1).request({
        method: 'POST',
        url: '/api/auth/logout/',
        token: ended.access,
        payload: {},
      });
      expect(logout.statusCode).toBe(200);
      for (const t of apps) t.clock.advance(16 * 60); // past the access token's 15 minutes
      const refused = await Promise.all(
        Array.from({ length: 3 * BUDGET }, (_, i) => me(i, ip, i % 2 ? user.access : ended.access)),
      );
      expect(refused.map((r) => r.statusCode)).toEqual(Array<number>(3 * BUDGET).fill(401));
      // The address still has its whole budget for forged tokens.
      for (let i = 0; i < BUDGET; i += 1) expect((await me(i, ip, FORGED)).statusCode).toBe(401);
      expectThrottled(await me(0, ip, FORGED));
    });

    it('valid authenticated traffic does not count in the address budget', async () => {
      const ip = nextIp();
      const user = await registerCandidate(app(0));
      const valid = await Promise.all(Array.from({ length: 3 * BUDGET }, (_, i) => me(i, ip, user.access)));
      expect(valid.every((r) => r.statusCode === 200)).toBe(true);
      // The address still has its whole budget for refused authentications.
      for (let i = 0; i < BUDGET; i += 1) expect((await me(i, ip, FORGED)).statusCode).toBe(401);
      expectThrottled(await me(0, ip, FORGED));
    });
  });
}

import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTokenService } from './tokens.js';

const config = {
  signingKey: 'k'.repeat(48),
  accessTtl: 900,
  refreshTtl: 604800,
  setupTtl: 900,
  sessionMaxLifetime: 2592000,
  reuseGraceSeconds: 10,
  idleTimeout: 0,
};
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const sign = (header: object, payload: object, key = config.signingKey) => {
  const body = `${b64(header)}.${b64(payload)}`;
  return `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`;
};

describe('token service', () => {
  let now = new Date('2026-11-30T10:00:00Z');
  const tokens = createTokenService(config, () => now);

  it('signs the original claims and verifies them', async () => {
    const { token, jti } = await tokens.sign('access', 42, { sid: 7 });
    const claims = await tokens.verify(token, 'access');
    expect(claims).toMatchObject({ token_type: 'access', user_id: '42', sid: '7', jti });
    expect(claims!.exp - claims!.iat).toBe(900);
    expect(jti).toMatch(/^[0-9a-f]{32}$/);
  });

  it('refuses another type, another key, alg none, another algorithm, tampering and expiry', async () => {
    const { token } = await tokens.sign('access', 1, { sid: 1 });
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    expect(await tokens.verify(token, 'refresh')).toBeNull();
    expect(
      await tokens.verify(sign({ alg: 'HS256', typ: 'JWT' }, payload, 'other'.repeat(10)), 'access'),
    ).toBeNull();
    expect(await tokens.verify(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`, 'access')).toBeNull();
    expect(await tokens.verify(sign({ alg: 'HS512', typ: 'JWT' }, payload), 'access')).toBeNull();
    expect(
      await tokens.verify(sign({ alg: 'HS256', typ: 'JWT' }, { ...payload, user_id: 2 }), 'access'),
    ).toBeNull();
    expect(
      await tokens.verify(sign({ alg: 'HS256', typ: 'JWT' }, { ...payload, user_id: '2' }), 'access'),
    ).not.toBeNull();
    const [h, , s] = token.split('.');
    expect(await tokens.verify(`${h}.${b64({ ...payload, user_id: '2' })}.${s}`, 'access')).toBeNull();
    expect(await tokens.verify('a.b', 'access')).toBeNull();
    now = new Date(now.getTime() + 901_000);
    expect(await tokens.verify(token, 'access')).toBeNull();
  });
});

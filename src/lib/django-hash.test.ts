import { pbkdf2Sync } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { isDjangoPbkdf2, verifyDjangoPbkdf2 } from './django-hash.js';

function djangoHash(password: string, salt: string, iterations: number): string {
  const hash = pbkdf2Sync(password, salt, iterations, 32, 'sha256').toString('base64');
  return `pbkdf2_sha256$${iterations}$${salt}$${hash}`;
}

// From Django 3.2's own test suite (auth_tests.test_hashers.test_pbkdf2).
const DJANGO_VECTOR = 'pbkdf2_sha256$260000$seasalt$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUGu6tcJQo=';

describe('isDjangoPbkdf2', () => {
  it('recognises the pbkdf2_sha256 prefix only', () => {
    expect(isDjangoPbkdf2(DJANGO_VECTOR)).toBe(true);
    expect(isDjangoPbkdf2('pbkdf2_sha1$1000$salt$abc')).toBe(false);
    expect(isDjangoPbkdf2('$argon2id$v=19$m=19456,t=2,p=1$abc$def')).toBe(false);
  });
});

describe('verifyDjangoPbkdf2', () => {
  it('verifies the Django known-answer vector (non-ASCII password)', async () => {
    expect(djangoHash('lètmein', 'seasalt', 260000)).toBe(DJANGO_VECTOR);
    expect(await verifyDjangoPbkdf2('lètmein', DJANGO_VECTOR)).toBe(true);
    expect(await verifyDjangoPbkdf2('lètmeinz', DJANGO_VECTOR)).toBe(false);
  });

  it('round-trips password/seasalt/260000 and rejects a wrong password', async () => {
    const encoded = djangoHash('password', 'seasalt', 260000);
    expect(encoded).toBe('pbkdf2_sha256$260000$seasalt$ftMWvEdczZQK5azuap2CQYKRjHLa1wOuMrfMiYEswYQ=');
    expect(await verifyDjangoPbkdf2('password', encoded)).toBe(true);
    expect(await verifyDjangoPbkdf2('Password', encoded)).toBe(false);
  });

  it('verifies a freshly generated hash with a random-looking salt', async () => {
    const encoded = djangoHash('S3cret!pass', 'Xq9vL2mN8pR4tY6w', 1000);
    expect(await verifyDjangoPbkdf2('S3cret!pass', encoded)).toBe(true);
    expect(await verifyDjangoPbkdf2('', encoded)).toBe(false);
  });

  it('rejects malformed hashes', async () => {
    const good = djangoHash('pw', 'salt', 1000);
    const hash = good.split('$')[3]!;
    for (const bad of [
      '',
      'pbkdf2_sha256$',
      'pbkdf2_sha256$1000$salt',
      `pbkdf2_sha256$1000$salt$${hash}$extra`,
      `pbkdf2_sha1$1000$salt$${hash}`,
      `pbkdf2_sha256$abc$salt$${hash}`,
      `pbkdf2_sha256$-1$salt$${hash}`,
      `pbkdf2_sha256$1000$$${hash}`,
      'pbkdf2_sha256$1000$salt$not base64!',
      'pbkdf2_sha256$1000$salt$c2hvcnQ=', // decodes to 5 bytes
    ]) {
      expect(await verifyDjangoPbkdf2('pw', bad)).toBe(false);
    }
  });

  it('rejects out-of-range iteration counts without hashing', async () => {
    const hash = djangoHash('pw', 'salt', 1).split('$')[3]!;
    expect(await verifyDjangoPbkdf2('pw', `pbkdf2_sha256$1$salt$${hash}`)).toBe(true);
    expect(await verifyDjangoPbkdf2('pw', `pbkdf2_sha256$0$salt$${hash}`)).toBe(false);
    expect(await verifyDjangoPbkdf2('pw', `pbkdf2_sha256$10000001$salt$${hash}`)).toBe(false);
    expect(await verifyDjangoPbkdf2('pw', `pbkdf2_sha256$99999999999$salt$${hash}`)).toBe(false);
  });
});

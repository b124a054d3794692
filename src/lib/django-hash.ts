import { pbkdf2, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

// Verifies password hashes migrated from Django (PBKDF2PasswordHasher) so users can sign in once and be rehashed.
const pbkdf2Async = promisify(pbkdf2);

const PREFIX = 'pbkdf2_sha256$';
const DKLEN = 32; // Django uses the digest size of sha256
// Upper bound stops a crafted hash from pinning the CPU for minutes.
const MAX_ITERATIONS = 10_000_000;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export function isDjangoPbkdf2(hash: string): boolean {
  return hash.startsWith(PREFIX);
}

export async function verifyDjangoPbkdf2(password: string, encoded: string): Promise<boolean> {
  const parts = encoded.split('$');
  if (parts.length !== 4) return false;
  const [algorithm, iterText, salt, hashB64] = parts as [string, string, string, string];
  if (algorithm !== 'pbkdf2_sha256' || !/^\d{1,8}$/.test(iterText) || !salt || !BASE64.test(hashB64)) {
    return false;
  }
  const iterations = Number(iterText);
  if (iterations < 1 || iterations > MAX_ITERATIONS) return false;
  const expected = Buffer.from(hashB64, 'base64');
  // timingSafeEqual throws on length mismatch; a wrong-length hash can never match anyway.
  if (expected.length !== DKLEN) return false;
  // Django encodes both password and salt as UTF-8 before hashing.
  const actual = await pbkdf2Async(password, salt, iterations, DKLEN, 'sha256');
  return timingSafeEqual(actual, expected);
}

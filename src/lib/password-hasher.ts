import { hash, verify } from '@node-rs/argon2';
import { isDjangoPbkdf2, verifyDjangoPbkdf2 } from './django-hash.js';

/**
 * argon2id via @node-rs/argon2, which hashes on libuv's thread pool (off the event loop).
 * Parameters: OWASP's first recommendation (19 MiB, t=2, p=1).
 */
// @node-rs/argon2's Algorithm is a const enum (not importable under isolatedModules): 2 = Argon2id.
const ARGON2ID = 2;
const OPTIONS = { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export interface PasswordCheck {
  ok: boolean;
  /** The stored hash is of an older scheme (Django pbkdf2) and should be replaced. */
  needsRehash: boolean;
}

export const UNUSABLE_PASSWORD_PREFIX = '!';

export function createPasswordHasher() {
  // A real hash of a random value, verified for unknown users so both paths take the same time.
  let dummy: Promise<string> | undefined;
  return {
    hash: (password: string) => hash(password, OPTIONS),
    async verify(password: string, stored: string | null | undefined): Promise<PasswordCheck> {
      if (!stored || stored.startsWith(UNUSABLE_PASSWORD_PREFIX)) {
        dummy ??= hash(`dummy-${Math.random()}`, OPTIONS);
        await verify(await dummy, password).catch(() => false);
        return { ok: false, needsRehash: false };
      }
      if (isDjangoPbkdf2(stored)) {
        return { ok: await verifyDjangoPbkdf2(password, stored), needsRehash: true };
      }
      try {
        return { ok: await verify(stored, password), needsRehash: false };
      } catch {
        return { ok: false, needsRehash: false };
      }
    },
  };
}
export type PasswordHasher = ReturnType<typeof createPasswordHasher>;

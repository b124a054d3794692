import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import { isDjangoPbkdf2, verifyDjangoPbkdf2 } from './django-hash.js';
import type { Argon2Threads } from './password/argon2-threads.js';
import type { HashGate } from './password/gate.js';

/**
 * argon2id via @node-rs/argon2, which hashes on libuv's thread pool (off the event loop).
 * Parameters: OWASP's first recommendation (19 MiB, t=2, p=1). Every hash and verification (the
 * dummy one for unknown e-mails and Django pbkdf2 included) takes its turn at the gate
 * (docs/operations.md#password-hashing), which refuses with a 503 when it is full; tools without a
 * gate (the bench's data generator) hash unbounded.
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

export function createPasswordHasher(gate?: HashGate, threads?: Argon2Threads) {
  const gated = <T>(work: () => Promise<T>): Promise<T> => (gate ? gate.run(work) : work());
  // On the low-priority threads when given (argon2-threads.ts), else on libuv's pool.
  const hash = (password: string, options: typeof OPTIONS) =>
    threads ? threads.hash(password, options) : argon2Hash(password, options);
  const verify = (stored: string, password: string) =>
    threads ? threads.verify(stored, password) : argon2Verify(stored, password);
  // A real hash of a random value, verified for unknown users so both paths take the same time
  // (and the same turn at the gate: a refusal answers both alike).
  let dummy: Promise<string> | undefined;
  return {
    hash: (password: string) => gated(() => hash(password, OPTIONS)),
    async verify(password: string, stored: string | null | undefined): Promise<PasswordCheck> {
      if (!stored || stored.startsWith(UNUSABLE_PASSWORD_PREFIX)) {
        await gated(async () => {
          dummy ??= hash(`dummy-${Math.random()}`, OPTIONS);
          await verify(await dummy, password).catch(() => false);
        });
        return { ok: false, needsRehash: false };
      }
      if (isDjangoPbkdf2(stored)) {
        return { ok: await gated(() => verifyDjangoPbkdf2(password, stored)), needsRehash: true };
      }
      // Only a malformed stored hash reads as a mismatch; a refusal by the gate propagates (503).
      const ok = await gated(() => verify(stored, password).catch(() => false));
      return { ok, needsRehash: false };
    },
  };
}
export type PasswordHasher = ReturnType<typeof createPasswordHasher>;

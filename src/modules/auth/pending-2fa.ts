import type { KeyValueStore } from '../../lib/kv.js';
import type { UserRow } from '../users/repo.js';
import { emailKey } from './lockout.js';

/**
 * The pending second login step (spec auth.md §3.6, §4): a marker per e-mail for 300 s in the shared
 * store, so whichever instance answers `2fa/verify-code/` finds it (the original kept it per worker).
 * Five wrong codes drop it.
 */
const TTL_SECONDS = 300;
const MAX_WRONG_CODES = 5;
const marker = (email: string) => `2fa:pending:${emailKey(email)}`;
const attempts = (email: string) => `2fa:wrong:${emailKey(email)}`;

export function createPendingTwoFactor(kv: KeyValueStore) {
  return {
    async start(user: UserRow): Promise<void> {
      await kv.del(attempts(user.email));
      await kv.set(marker(user.email), String(user.id), TTL_SECONDS);
    },
    /** The user id waiting for a code for this e-mail, or null when none (expired or never started). */
    async find(email: string): Promise<number | null> {
      const value = await kv.get(marker(email));
      return value === null ? null : Number(value);
    },
    async wrongCode(email: string): Promise<void> {
      if ((await kv.incr(attempts(email), TTL_SECONDS)) >= MAX_WRONG_CODES)
        await kv.del(marker(email), attempts(email));
    },
    async finish(email: string): Promise<void> {
      await kv.del(marker(email), attempts(email));
    },
  };
}
export type PendingTwoFactor = ReturnType<typeof createPendingTwoFactor>;

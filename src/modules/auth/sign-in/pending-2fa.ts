import type { KeyValueStore } from '../../../lib/kv.js';
import type { UserRow } from '../../users/index.js';
import { emailKey } from './lockout.js';

/**
 * The pending second login step (docs/auth.md#login, docs/auth.md#2fa-endpoints): a marker per
 * e-mail for 300 s in the shared store, so whichever instance answers `2fa/verify-code/` finds it (the
 * original kept it per worker: docs/contract.md#original-differences item 5). Five wrong codes drop
 * it; a sixth code is never checked, however many arrive at once.
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
    /**
     * SECURITY: counts a code before it is checked (one atomic increment in the shared store), so a
     * burst gets at most five checks per step: the attempt's number, or null when none is left (the
     * step is dropped). The counter itself stays until it expires or a new step starts: resetting it
     * here would hand fresh attempts to requests already in flight.
     */
    async admitCode(email: string): Promise<number | null> {
      const n = await kv.incr(attempts(email), TTL_SECONDS);
      if (n <= MAX_WRONG_CODES) return n;
      await kv.del(marker(email));
      return null;
    },
    /** A wrong code; the step's last attempt drops it. */
    async wrongCode(email: string, attempt: number): Promise<void> {
      if (attempt >= MAX_WRONG_CODES) await kv.del(marker(email));
    },
    async finish(email: string): Promise<void> {
      await kv.del(marker(email), attempts(email));
    },
  };
}
export type PendingTwoFactor = ReturnType<typeof createPendingTwoFactor>;

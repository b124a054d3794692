import { sha256Hex } from '../../lib/crypto/hash.js';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from '../../config.js';
import { ApiError } from '../../lib/errors.js';
import { refusal, retryAfterSeconds, type LimiterFactory } from '../../lib/limiter.js';

/**
 * Lock-out after repeated failures (spec auth.md §9), per account (normalised e-mail, existing or
 * not) and per client address, shared by all instances. Replaces django-axes, which answered 401
 * even for the right password. Keys hold a hash of the e-mail, never the address itself.
 */
export const LOCKED_MESSAGE = 'Too many failed login attempts. Please try again later.';

export const emailKey = (email: string) => sha256Hex(email.trim().toLowerCase()).slice(0, 40);

export interface LockoutEvents {
  onLocked(kind: 'account' | 'address', target: string): void;
}

export function createLockout(config: Config, makeLimiter: LimiterFactory, events: LockoutEvents) {
  const { threshold, ipThreshold, window, duration } = config.lockout;
  // points = threshold − 1: the threshold-th failure exceeds it and starts the block (and the
  // alert). 0 is valid: with a threshold of 1 the first failure locks.
  const account = makeLimiter({
    name: 'lock:acct',
    points: threshold - 1,
    durationSeconds: window,
    blockSeconds: duration,
  });
  const address = makeLimiter({
    name: 'lock:ip',
    points: ipThreshold - 1,
    durationSeconds: window,
    blockSeconds: duration,
  });
  const captcha = makeLimiter({
    name: 'captcha',
    points: 1_000_000,
    durationSeconds: config.captcha.failedLoginTimeout,
  });
  const exhausted = (limiter: RateLimiterAbstract, threshold1: number) => async (key: string) => {
    const res = await limiter.get(key);
    return res && res.consumedPoints >= threshold1 ? retryAfterSeconds(res) : 0;
  };
  const accountLocked = exhausted(account, threshold);
  const addressLocked = exhausted(address, ipThreshold);

  async function fail(limiter: RateLimiterAbstract, key: string): Promise<boolean> {
    try {
      await limiter.consume(key);
      return false;
    } catch (err) {
      if (!refusal(err)) throw err;
      return true;
    }
  }

  return {
    /** 429 `locked_out` when the account or the address is locked (checked before any password). */
    async assertNotLocked(email: string, ip: string | null): Promise<void> {
      const waits = await Promise.all([
        accountLocked(emailKey(email)),
        ip ? addressLocked(ip) : Promise.resolve(0),
      ]);
      const wait = Math.max(...waits);
      if (wait > 0) {
        throw new ApiError(429, 'locked_out', LOCKED_MESSAGE, undefined, undefined, {
          'retry-after': String(wait),
        });
      }
    },
    /** Counts a wrong password or 2FA code; reports a lock the moment it starts (once). */
    async recordFailure(email: string, ip: string | null): Promise<('account' | 'address')[]> {
      const key = emailKey(email);
      const [accountJustLocked, addressJustLocked] = await Promise.all([
        fail(account, key),
        ip ? fail(address, ip) : Promise.resolve(false),
        ip ? captcha.consume(`${ip}|${key}`).catch(() => undefined) : Promise.resolve(undefined),
      ]);
      const locked: ('account' | 'address')[] = [];
      if (accountJustLocked && (await account.get(key))?.consumedPoints === threshold) {
        events.onLocked('account', email);
        locked.push('account');
      }
      if (addressJustLocked && ip && (await address.get(ip))?.consumedPoints === ipThreshold) {
        events.onLocked('address', ip);
        locked.push('address');
      }
      return locked;
    },
    async recordSuccess(email: string): Promise<void> {
      await account.delete(emailKey(email));
    },
    /** Password reset clears the account's lock. */
    async clear(email: string): Promise<void> {
      await account.delete(emailKey(email));
    },
    async failuresForCaptcha(email: string, ip: string | null): Promise<number> {
      if (!ip) return 0;
      return (await captcha.get(`${ip}|${emailKey(email)}`))?.consumedPoints ?? 0;
    },
  };
}
export type Lockout = ReturnType<typeof createLockout>;

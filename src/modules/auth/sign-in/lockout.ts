import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from '../../../config.js';
import { sha256Hex } from '../../../lib/crypto/hash.js';
import { ApiError } from '../../../lib/errors.js';
import { refusal, type LimiterFactory } from '../../../lib/limiter.js';

/**
 * Lock-out after repeated failures (docs/auth.md#lock-out), per account (normalised e-mail, existing or
 * not) and per client address, shared by all instances. Replaces django-axes, which answered 401
 * even for the right password. Keys hold a hash of the e-mail, never the address itself.
 *
 * SECURITY: an attempt is counted BEFORE its password or code is checked (one atomic consume in the
 * shared store), so however many arrive at once, at most LOCKOUT_THRESHOLD (account) and
 * LOCKOUT_IP_THRESHOLD (address) of them reach a check; the rest are answered `locked_out`. A check
 * that passes gives its attempt back; a successful sign-in resets the account. Failed checks are
 * also counted on their own: the threshold-th starts the lock for LOCKOUT_DURATION and its alert,
 * exactly once.
 */
export const LOCKED_MESSAGE = 'Too many failed login attempts. Please try again later.';

export const emailKey = (email: string) => sha256Hex(email.trim().toLowerCase()).slice(0, 40);

type LockKind = 'account' | 'address';

export interface LockoutEvents {
  onLocked(kind: LockKind, target: string): void;
}

/** An admitted attempt: its check passed → `release()` gives it back; failed → `recordFailure`. */
export interface LockoutAttempt {
  release(): Promise<void>;
}

const lockedOut = (msBeforeNext: number) =>
  new ApiError(429, 'locked_out', LOCKED_MESSAGE, undefined, undefined, {
    'retry-after': String(Math.max(1, Math.ceil(msBeforeNext / 1000))),
  });

export function createLockout(
  config: Pick<Config, 'lockout'> & { captcha: Pick<Config['captcha'], 'failedLoginTimeout'> },
  makeLimiter: LimiterFactory,
  events: LockoutEvents,
) {
  const { threshold, ipThreshold, window, duration } = config.lockout;
  const limits: Record<LockKind, number> = { account: threshold, address: ipThreshold };
  // Attempts (in flight + failed): the gate every password or code check passes through.
  const attempts: Record<LockKind, RateLimiterAbstract> = {
    account: makeLimiter({ name: 'lock:acct', points: threshold, durationSeconds: window, durable: true }),
    address: makeLimiter({ name: 'lock:ip', points: ipThreshold, durationSeconds: window, durable: true }),
  };
  // Failed checks: the threshold-th exceeds `threshold − 1` points once, which starts the lock.
  const failures: Record<LockKind, RateLimiterAbstract> = {
    account: makeLimiter({
      name: 'lock-failures:acct',
      points: threshold - 1,
      durationSeconds: window,
      blockSeconds: duration,
      durable: true,
    }),
    address: makeLimiter({
      name: 'lock-failures:ip',
      points: ipThreshold - 1,
      durationSeconds: window,
      blockSeconds: duration,
      durable: true,
    }),
  };
  const captcha = makeLimiter({
    name: 'captcha',
    points: 1_000_000,
    durationSeconds: config.captcha.failedLoginTimeout,
  });

  const targets = (email: string, ip: string | null): [LockKind, string][] =>
    ip
      ? [
          ['account', emailKey(email)],
          ['address', ip],
        ]
      : [['account', emailKey(email)]];

  /** Gives counted attempts back. Best effort: a point not given back only makes the limit stricter. */
  const giveBack = async (counted: [LockKind, string][]) => {
    await Promise.all(counted.map(([kind, key]) => attempts[kind].reward(key).catch(() => undefined)));
  };

  /** Counts a failed check; true when it is the one that starts the lock. */
  async function countFailure(kind: LockKind, key: string): Promise<boolean> {
    try {
      await failures[kind].consume(key);
      return false;
    } catch (err) {
      const refused = refusal(err);
      if (!refused) throw err;
      if (refused.consumedPoints !== limits[kind]) return false; // locked earlier
      // The lock: every attempt is refused for LOCKOUT_DURATION from now (unless a sign-in resets it).
      await attempts[kind].block(key, duration);
      return true;
    }
  }

  return {
    /**
     * Counts an attempt before any password or code check; 429 `locked_out` (+ Retry-After) when the
     * account or the address has none left, identically for unknown e-mails. The caller reports the
     * outcome: `recordFailure` for a failed check, `release()` for anything else.
     */
    async assertNotLocked(email: string, ip: string | null): Promise<LockoutAttempt> {
      const wanted = targets(email, ip);
      const outcomes = await Promise.allSettled(wanted.map(([kind, key]) => attempts[kind].consume(key)));
      const counted = wanted.filter((_, i) => outcomes[i]?.status === 'fulfilled');
      const rejected = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
      if (rejected.length) {
        // Refused (or the store failed): the attempt reaches no check, so it counts nowhere.
        await giveBack(counted);
        for (const err of rejected) if (!refusal(err)) throw err;
        const waits = rejected.map((err) => refusal(err)?.msBeforeNext ?? 0);
        throw lockedOut(Math.max(...waits));
      }
      let released = false;
      return {
        async release() {
          if (released) return;
          released = true;
          await giveBack(counted);
        },
      };
    },
    /** Counts a wrong password or 2FA code; reports a lock the moment it starts (once). */
    async recordFailure(email: string, ip: string | null): Promise<LockKind[]> {
      const key = emailKey(email);
      const [accountJustLocked, addressJustLocked] = await Promise.all([
        countFailure('account', key),
        ip ? countFailure('address', ip) : Promise.resolve(false),
        ip ? captcha.consume(`${ip}|${key}`).catch(() => undefined) : Promise.resolve(undefined),
      ]);
      const locked: LockKind[] = [];
      if (accountJustLocked) {
        events.onLocked('account', email);
        locked.push('account');
      }
      if (addressJustLocked && ip) {
        events.onLocked('address', ip);
        locked.push('address');
      }
      return locked;
    },
    /** A sign-in resets the account's counters (the address keeps its failures). */
    async recordSuccess(email: string): Promise<void> {
      await resetAccount(email);
    },
    /** Password reset clears the account's lock. */
    async clear(email: string): Promise<void> {
      await resetAccount(email);
    },
    async failuresForCaptcha(email: string, ip: string | null): Promise<number> {
      if (!ip) return 0;
      return (await captcha.get(`${ip}|${emailKey(email)}`))?.consumedPoints ?? 0;
    },
  };

  async function resetAccount(email: string): Promise<void> {
    const key = emailKey(email);
    await Promise.all([attempts.account.delete(key), failures.account.delete(key)]);
  }
}
export type Lockout = ReturnType<typeof createLockout>;

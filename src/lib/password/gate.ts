import { ApiError } from '../errors.js';

/**
 * The password-hashing gate (docs/operations.md#password-hashing). argon2id takes ≈ 20 ms of a core
 * per hash on libuv's thread pool; unbounded, a login storm takes every core and every other request
 * slows with it. Every hash and verification goes through one gate per process: at most `concurrency`
 * run at once, up to `queue` more wait (first come, first served) for at most `maxWaitMs`; a request
 * beyond that is refused at once with 503 `service_unavailable` and a `Retry-After` estimated from
 * the work ahead of it. A storm slows sign-ins; reads, which hash nothing, never wait here.
 */
export interface HashGateOptions {
  /** Hashes computed at once. */
  concurrency: number;
  /** Hashes waiting for a turn; the next one is refused. */
  queue: number;
  /** Longest wait for a turn, in milliseconds; then refused. */
  maxWaitMs: number;
}

export type HashRefusal = 'queue_full' | 'wait_timeout';

export interface HashGateEvents {
  /** Every refusal (metrics count them). */
  onRefused?(reason: HashRefusal): void;
  /** The first refusal since the gate was last idle (logged once). */
  onSaturated?(): void;
  /** Idle again (nothing running or waiting) after `refused` refusals (logged once). */
  onIdle?(refused: number): void;
}

export const BUSY_MESSAGE = 'The service is busy. Please try again shortly.';

/**
 * A refusal: a deliberate answer, not a bug; `knownOutage` tells the error handler it is counted
 * and was logged once when refusals started, not once per request.
 */
export function hashGateRefusal(retryAfterSeconds: number): ApiError & { knownOutage: true } {
  const err = new ApiError(503, 'service_unavailable', BUSY_MESSAGE, undefined, undefined, {
    'retry-after': String(retryAfterSeconds),
  });
  return Object.assign(err, { knownOutage: true as const });
}

interface Waiter {
  admit(): void;
  timer: ReturnType<typeof setTimeout>;
}

/** Initial guess of one hash's duration, replaced by a moving average of measured ones. */
const FIRST_ESTIMATE_MS = 25;

export function createHashGate(opts: HashGateOptions, events: HashGateEvents = {}) {
  const concurrency = Math.max(1, opts.concurrency);
  let running = 0;
  const waiting: Waiter[] = [];
  let averageMs = FIRST_ESTIMATE_MS;
  let refusedSinceIdle = 0;

  /** Seconds until a caller arriving now would get a turn: the work ahead of it, spread over the slots. */
  const retryAfter = () =>
    Math.max(1, Math.ceil(((running + waiting.length) * averageMs) / concurrency / 1000));

  const refuse = (reason: HashRefusal) => {
    if (refusedSinceIdle === 0) events.onSaturated?.();
    refusedSinceIdle += 1;
    events.onRefused?.(reason);
    return hashGateRefusal(retryAfter());
  };

  const admitNext = () => {
    while (running < concurrency && waiting.length > 0) {
      const next = waiting.shift();
      if (!next) break;
      clearTimeout(next.timer);
      running += 1;
      next.admit();
    }
    if (running === 0 && waiting.length === 0 && refusedSinceIdle > 0) {
      const refused = refusedSinceIdle;
      refusedSinceIdle = 0;
      events.onIdle?.(refused);
    }
  };

  function acquire(): Promise<void> {
    if (running < concurrency && waiting.length === 0) {
      running += 1;
      return Promise.resolve();
    }
    if (waiting.length >= opts.queue) return Promise.reject(refuse('queue_full'));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        admit: resolve,
        timer: setTimeout(() => {
          const at = waiting.indexOf(waiter);
          if (at >= 0) waiting.splice(at, 1);
          reject(refuse('wait_timeout'));
        }, opts.maxWaitMs),
      };
      waiting.push(waiter);
    });
  }

  return {
    /** Runs `work` (one hash or verification) when its turn comes; rejects with a 503 refusal instead. */
    async run<T>(work: () => Promise<T>): Promise<T> {
      await acquire();
      const started = performance.now();
      try {
        return await work();
      } finally {
        averageMs = averageMs * 0.8 + (performance.now() - started) * 0.2;
        running -= 1;
        admitNext();
      }
    },
    /** Hashes running and waiting now (metrics, tests). */
    state: () => ({ running, waiting: waiting.length }),
  };
}
export type HashGate = ReturnType<typeof createHashGate>;

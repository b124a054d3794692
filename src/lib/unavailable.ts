import { ApiError, withCause } from './errors.js';

/**
 * Which failures mean "a dependency is unreachable" (docs/operations.md#dependency-outages) rather than a bug: those are
 * answered 503 `service_unavailable` with Retry-After and start an outage probe; everything else stays
 * a 500 with its cause in the log. Framework-free: it reads error shapes only.
 */
export type Dependency = 'database' | 'redis';

/** Seconds a client should wait before trying again during an outage (docs/operations.md#dependency-outages). */
export const OUTAGE_RETRY_AFTER_SECONDS = 5;

/** Node socket errors: the peer is gone, refuses, or cannot be found. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * PostgreSQL SQLSTATEs of an unusable server: class 08 (connection exception), 57P01–57P05 (admin or
 * crash shutdown, cannot connect now, idle-session timeouts), 53300 (too many connections).
 */
const PG_UNAVAILABLE = /^(08...|57P0[1-5]|53300)$/;

/** Messages of node-postgres / pg-pool for a lost or impossible connection. */
const PG_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Cannot use a pool after calling end on the pool',
  'Query read timeout',
];

/** Messages of ioredis when it has no usable connection. */
const REDIS_MESSAGES = [
  "Stream isn't writeable",
  'Connection is closed',
  'Command timed out',
  'Reached the max retries per request limit',
  'Redis connection is not ready',
];

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  /** Set by errors that name the dependency themselves. */
  dependency?: unknown;
}

function* chain(err: unknown): Generator<ErrorShape> {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth += 1) {
    yield current;
    current = (current as ErrorShape).cause;
  }
}

function classifyOne(e: ErrorShape): Dependency | null {
  if (e.dependency === 'database' || e.dependency === 'redis') return e.dependency;
  const message = typeof e.message === 'string' ? e.message : '';
  const name = typeof e.name === 'string' ? e.name : '';
  if (name === 'MaxRetriesPerRequestError' || REDIS_MESSAGES.some((m) => message.includes(m))) return 'redis';
  if (typeof e.code === 'string' && PG_UNAVAILABLE.test(e.code)) return 'database';
  if (PG_MESSAGES.some((m) => message.includes(m))) return 'database';
  return null;
}

/**
 * The dependency this error says is unreachable, or null when it is another kind of failure.
 * A bare socket error names no dependency: `fallback` says whose socket it was when the caller knows.
 */
export function unavailableDependency(err: unknown, fallback: Dependency | null = null): Dependency | null {
  return namedDependency(err) ?? socketDependency(err, fallback);
}

/**
 * The dependency this error names itself (an error tagged by the code that met it, a PostgreSQL or
 * Redis error), without guessing whose a bare socket error is.
 */
export function namedDependency(err: unknown): Dependency | null {
  for (const e of chain(err)) {
    const dep = classifyOne(e);
    if (dep) return dep;
  }
  return null;
}

function socketDependency(err: unknown, fallback: Dependency | null): Dependency | null {
  for (const e of chain(err)) {
    // A bare socket error: the database's, unless the caller knows better (Redis errors reach
    // callers wrapped by the kv store, and the limiters fall back to PostgreSQL on their own).
    if (typeof e.code === 'string' && SOCKET_CODES.has(e.code)) return fallback ?? 'database';
  }
  return null;
}

/** Marks an error met on a connection to `dependency` as that dependency's (a bare socket error names none). */
export function tagDependency(err: unknown, dependency: Dependency): void {
  if (err && typeof err === 'object' && unavailableDependency(err, dependency) === dependency) {
    try {
      (err as { dependency?: Dependency }).dependency ??= dependency;
    } catch {
      // A frozen error stays untagged: it is then classified by its shape alone.
    }
  }
}

/** An error that says which dependency failed, for code that knows it (e.g. a kv store wrapper). */
export class DependencyUnavailableError extends Error {
  readonly dependency: Dependency;
  /** True when the outage was already known (and logged) before this call. */
  readonly knownOutage: boolean;
  constructor(dependency: Dependency, cause?: unknown, knownOutage = false) {
    super(`${dependency} unavailable`);
    this.name = 'DependencyUnavailableError';
    this.dependency = dependency;
    this.knownOutage = knownOutage;
    if (cause !== undefined) withCause(this, cause);
  }
}

/** Whether this failure belongs to an outage already logged (then it is counted, not logged again). */
export function isKnownOutage(err: unknown): boolean {
  for (const e of chain(err)) if ((e as { knownOutage?: unknown }).knownOutage === true) return true;
  return false;
}

/**
 * The answer when a dependency the request needs failed: 503 `service_unavailable` with `Retry-After`.
 * The cause stays on the error (not enumerable, never sent) for the log; when it names an unreachable
 * dependency, so does the answer (metrics, outage probe).
 */
export function serviceUnavailable(
  detail = 'The service is temporarily unavailable. Please try again shortly.',
  cause?: unknown,
): ApiError & { dependency?: Dependency } {
  const err = new ApiError(503, 'service_unavailable', detail, undefined, undefined, {
    'retry-after': String(OUTAGE_RETRY_AFTER_SECONDS),
  });
  if (cause === undefined) return err;
  withCause(err, cause);
  const dependency = unavailableDependency(cause);
  return dependency ? Object.assign(err, { dependency }) : err;
}

/**
 * The answer to a request refused because its dependency is already known to be down: the outage
 * itself is logged once, when it starts (the dependency monitor), so these are counted, not logged.
 */
export function outageRefusal(
  dependency: Dependency,
): ApiError & { dependency: Dependency; knownOutage: true } {
  return Object.assign(serviceUnavailable(), { dependency, knownOutage: true as const });
}

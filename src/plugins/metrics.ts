import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RateScope } from '../config.js';
import { ApiError } from '../lib/errors.js';
import type { HashRefusal } from '../lib/password/gate.js';
import type { Dependency } from '../lib/unavailable.js';
import type { LoginOutcome } from '../modules/auth/index.js';

/**
 * Prometheus metrics (docs/operations.md#metrics, docs/contract.md#health-and-service-routes). Each
 * container owns its own registry, never prom-client's global one: tests build many apps in one
 * process, and metric names may be registered once per registry only. Other modules report events
 * through the typed shorthands below (sign-in outcomes are labelled by the auth module); this file
 * only counts them.
 * PRIVACY: every label value comes from a bounded set (route PATTERN, method, status, scope, template,
 * job name, outcome); never a raw URL, an id or an e-mail address.
 */
export type JobOutcome = 'success' | 'failure' | 'retry' | 'skipped';
export type EmailOutcome = 'sent' | 'failed';

export interface MetricsOptions {
  /** The PostgreSQL pool (absent with PGlite): exported as `db_pool_connections{state}`. */
  pool?: pg.Pool | undefined;
  /** Statements sent to the database so far (`Database.statementCount`): `db_statements_total`. */
  statements?: (() => number) | undefined;
  /** The password-hashing gate's hashes running and waiting now: `password_hashes{state}`. */
  hashing?: (() => { running: number; waiting: number }) | undefined;
  /** Process metrics (CPU, memory, event loop, GC); default true. */
  processMetrics?: boolean;
}

export function createMetrics(opts: MetricsOptions = {}) {
  const registry = new Registry();
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry });

  const httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const logins = new Counter({
    name: 'auth_logins_total',
    help: 'Sign-in attempts by outcome',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const lockouts = new Counter({
    name: 'auth_lockouts_total',
    help: 'Sign-in lock-outs started after repeated failures (account or address)',
    registers: [registry],
  });
  const rateLimited = new Counter({
    name: 'rate_limited_total',
    help: 'Requests refused with 429 by throttle scope',
    labelNames: ['scope'] as const,
    registers: [registry],
  });
  const jobs = new Counter({
    name: 'jobs_total',
    help: 'Background job attempts by job and outcome (retry: failed, runs again later; failure: given up; skipped: its slot was already done)',
    labelNames: ['job', 'outcome'] as const,
    registers: [registry],
  });
  const emails = new Counter({
    name: 'emails_total',
    help: 'E-mail delivery attempts by template and outcome (failed: this attempt failed; the job retries it)',
    labelNames: ['template', 'outcome'] as const,
    registers: [registry],
  });

  const dependencyUp = new Gauge({
    name: 'dependency_up',
    help: 'Whether a dependency (database, redis) answers: 1 up, 0 in an outage',
    labelNames: ['dependency'] as const,
    registers: [registry],
  });
  const outages = new Counter({
    name: 'dependency_outages_total',
    help: 'Outages of a dependency seen by this instance (each counted once, when it starts)',
    labelNames: ['dependency'] as const,
    registers: [registry],
  });
  const unavailable = new Counter({
    name: 'http_unavailable_total',
    help: 'Requests answered 503 because a dependency was unreachable, by dependency',
    labelNames: ['dependency'] as const,
    registers: [registry],
  });

  const pool = opts.pool;
  if (pool) {
    new Gauge({
      name: 'db_pool_connections',
      help: 'PostgreSQL pool connections by state',
      labelNames: ['state'] as const,
      registers: [registry],
      collect() {
        this.set({ state: 'total' }, pool.totalCount);
        this.set({ state: 'idle' }, pool.idleCount);
        this.set({ state: 'waiting' }, pool.waitingCount);
      },
    });
  }

  const hashRefusals = new Counter({
    name: 'password_hash_refusals_total',
    help: 'Password hashes refused by the hashing gate (answered 503), by reason: queue_full, wait_timeout',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const hashing = opts.hashing;
  if (hashing) {
    new Gauge({
      name: 'password_hashes',
      help: 'Password hashes at the hashing gate now, by state: running, waiting',
      labelNames: ['state'] as const,
      registers: [registry],
      collect() {
        const now = hashing();
        this.set({ state: 'running' }, now.running);
        this.set({ state: 'waiting' }, now.waiting);
      },
    });
  }

  const statements = opts.statements;
  if (statements) {
    let reported = 0;
    new Counter({
      name: 'db_statements_total',
      help: 'Statements sent to the database (PostgreSQL: by any pooled connection, transaction control included)',
      registers: [registry],
      collect() {
        const now = statements();
        this.inc(now - reported);
        reported = now;
      },
    });
  }

  // Queue depth is read from the queue (or the outbox) when scraped; an unreachable queue is left out.
  let readDepth: (() => Promise<Record<string, number>>) | undefined;
  new Gauge({
    name: 'jobs_queue_depth',
    help: 'Background jobs by state: waiting, active, delayed (retry back-off, schedules), failed (given up), outbox (not yet finished)',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      if (!readDepth) return;
      try {
        for (const [state, n] of Object.entries(await readDepth())) this.set({ state }, n);
      } catch {
        // The dependency gauges report the outage.
      }
    },
  });

  return {
    registry,
    /** Where `jobs_queue_depth` is read from (the job runner). */
    queueDepth(read: () => Promise<Record<string, number>>): void {
      readDepth = read;
    },
    httpRequests,
    httpDuration,
    logins,
    lockouts,
    rateLimited,
    jobs,
    emails,
    /** Typed shorthands, safe to pass unbound as the callbacks other modules take. */
    login: (outcome: LoginOutcome): void => {
      logins.inc({ outcome });
    },
    limited: (scope: RateScope): void => {
      rateLimited.inc({ scope });
    },
    job: (job: string, outcome: JobOutcome): void => {
      jobs.inc({ job, outcome });
    },
    email: (template: string, outcome: EmailOutcome): void => {
      emails.inc({ template, outcome });
    },
    dependency: (dependency: Dependency, up: boolean): void => {
      dependencyUp.set({ dependency }, up ? 1 : 0);
      if (!up) outages.inc({ dependency });
    },
    unavailable: (dependency: Dependency): void => {
      unavailable.inc({ dependency });
    },
    hashRefused: (reason: HashRefusal): void => {
      hashRefusals.inc({ reason });
    },
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

/** Methods Fastify routes; anything else is one label value, so a client cannot grow the series. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export const METRICS_PATH = '/metrics';

export interface RegisterMetricsOptions {
  /** METRICS_TOKEN: when set, scrapes need `Authorization: Bearer <token>`. */
  token: string | undefined;
  /** The container's instance; a fresh one when omitted. */
  metrics?: Metrics;
}

/**
 * The route pattern without its parameters' regular expressions: `/api/journal/:id(^\\d{1,15}$)/` is
 * labelled `/api/journal/:id/`. Patterns are few and fixed, so the result is cached.
 */
const routeLabels = new Map<string, string>();
export function routeLabel(url: string | undefined): string {
  if (url === undefined) return 'unmatched';
  let label = routeLabels.get(url);
  if (label === undefined) {
    label = url.replace(/(:[A-Za-z_][A-Za-z0-9_]*)\([^)]*\)/g, '$1');
    routeLabels.set(url, label);
  }
  return label;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * Whether an `Authorization` header carries `METRICS_TOKEN` (always true when no token is set). Used by
 * the API's `/metrics` and the worker's. SECURITY: compares fixed-length digests, so neither the content
 * nor the length of the token leaks.
 */
export function metricsAuthorized(
  authorization: string | string[] | undefined,
  token: string | undefined,
): boolean {
  if (!token) return true;
  if (typeof authorization !== 'string') return false;
  const given = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
  return given !== undefined && timingSafeEqual(digest(given), digest(token));
}

/**
 * Counts every response and serves `GET /metrics` (exactly, no trailing slash). Call it on the root
 * instance (not inside `app.register`) so that the hook sees every route.
 */
export function registerMetrics(app: FastifyInstance, opts: RegisterMetricsOptions): Metrics {
  const metrics = opts.metrics ?? createMetrics();

  app.addHook('onResponse', async (request, reply) => {
    const labels = {
      method: METHODS.has(request.method) ? request.method : 'OTHER',
      // PRIVACY: the route pattern (`/api/journal/:id/`), never the URL with its ids or query.
      route: routeLabel(request.routeOptions.url),
      status: String(reply.statusCode),
    };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
  });

  app.get(
    METRICS_PATH,
    { config: { auth: 'public-ignore-token', rateLimit: false, database: false }, schema: { hide: true } },
    async (request, reply) => {
      if (!metricsAuthorized(request.headers.authorization, opts.token)) {
        throw new ApiError(401, 'not_authenticated', 'Authentication required', undefined, undefined, {
          'www-authenticate': 'Bearer realm="metrics"',
        });
      }
      const body = await metrics.registry.metrics();
      return reply.header('cache-control', 'no-store').type(metrics.registry.contentType).send(body);
    },
  );
  return metrics;
}

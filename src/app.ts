import cors from '@fastify/cors';
import formbody from '@fastify/formbody';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Container } from './container.js';
import type { ErrorReporter } from './lib/error-reporting.js';
import { ApiError } from './lib/errors.js';
import { installValidationMessages } from './lib/validation.js';
import { authRoutes, passwordRoutes, sessionAdminRoutes, twoFactorRoutes } from './modules/auth/index.js';
import { adminNotesRoutes } from './modules/admin-notes/index.js';
import { dashboardRoutes } from './modules/dashboard/index.js';
import { healthRoutes } from './modules/health/index.js';
import { intakeRoutes } from './modules/intake/index.js';
import { journalRoutes } from './modules/journal/index.js';
import { jobRoutes } from './modules/jobs/index.js';
import { usersRoutes } from './modules/users/index.js';
import { auditRoutes } from './modules/audit/index.js';
import { privacyRoutes } from './modules/privacy/index.js';
import type { DependencyMonitor } from './lib/dependency-monitor.js';
import type { Dependency } from './lib/unavailable.js';
import { registerAuth } from './plugins/auth.js';
import { registerAvailability } from './plugins/availability.js';
import { edgeAnswerOptions, registerEdgeChecks } from './plugins/edge-answers.js';
import { registerAccessLog } from './plugins/access-log.js';
import { registerDeniedAudit } from './plugins/denied-audit.js';
import { registerErrorHandling } from './plugins/errors.js';
import { registerInputScreening } from './plugins/input-screening.js';
import { registerMetrics } from './plugins/metrics.js';
import { defaultConsoleDir, registerAdminConsole } from './plugins/admin-console.js';
import { registerOpenApi } from './plugins/openapi.js';
import { createThrottles, registerRateLimits } from './plugins/rate-limit.js';
import { registerRequestContext, requestIdFrom } from './plugins/request-context.js';
import { registerNotFound } from './plugins/routing.js';
import { registerSecurityHeaders } from './plugins/security-headers.js';

export interface BuildAppOptions {
  /** A pino logger; none (silent) when omitted. */
  logger?: FastifyBaseLogger;
  /** Where 5xx failures are reported besides the log (lib/error-reporting.ts); none when omitted. */
  errorReporter?: ErrorReporter;
  /** The built staff console served at /admin/ (default: plugins/admin-console.ts#defaultConsoleDir). */
  consoleDir?: string;
}

/** Every API module, mounted under both `/api` and `/api/v1` (docs/contract.md#routing). */
function apiModules(c: Container) {
  return async (app: FastifyInstance) => {
    await app.register(authRoutes(c.auth));
    await app.register(twoFactorRoutes(c));
    await app.register(passwordRoutes(c.passwords));
    await app.register(sessionAdminRoutes(c.sessionAdmin));
    await app.register(usersRoutes({ users: c.userAccounts, profiles: c.profiles, accounts: c.accounts }));
    await app.register(intakeRoutes(c));
    await app.register(journalRoutes(c));
    await app.register(adminNotesRoutes(c));
    await app.register(dashboardRoutes(c));
    await app.register(jobRoutes(c));
    await app.register(popiaModules(c));
  };
}

/** The POPIA routes (docs/privacy.md); their errors also carry the original's `error` key. */
function popiaModules(c: Container) {
  return async (app: FastifyInstance) => {
    app.addHook('onRoute', (route) => {
      route.config = { ...route.config, errorKey: true };
    });
    await app.register(privacyRoutes(c));
    await app.register(auditRoutes(c));
  };
}

/** A readiness check: probes the dependency now ('disabled' when it is not configured). */
async function reachable(monitor: DependencyMonitor | undefined): Promise<'ok' | 'disabled'> {
  if (!monitor) return 'disabled';
  if (!(await monitor.check())) throw new Error(`${monitor.name} unreachable`);
  return 'ok';
}

/** Builds the HTTP app from a wired container. Never listens (main.ts does; tests inject). */
export async function buildApp(c: Container, opts: BuildAppOptions = {}): Promise<FastifyInstance> {
  installValidationMessages();
  const { config } = c;
  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger } : { logger: false }),
    bodyLimit: config.bodyLimit,
    genReqId: (req) => requestIdFrom(req.headers['x-request-id']),
    // One access-log line per request is written by registerAccessLog instead of Fastify's two.
    logController: new LogController({ requestIdLogLabel: 'request_id', disableRequestLogging: true }),
    // Draining answers come from registerEdgeChecks, in the envelope.
    return503OnClosing: false,
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 200 },
    // Answers given before any hook (bad URLs, parser errors, a missing Host) in the envelope too.
    ...edgeAnswerOptions(config),
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // JSON: an empty body reads as `{}` (as the original); malformed JSON is a 400 `parse_error`.
  const defaultJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = body.toString();
    if (text.trim() === '') {
      done(null, {});
      return;
    }
    void defaultJson(req, text, (err, value) => {
      if (err) done(new ApiError(400, 'parse_error', 'Invalid JSON in request body'), undefined);
      else done(null, value);
    });
  });
  await app.register(formbody, { bodyLimit: config.bodyLimit });

  const onUnavailable = (dependency: Dependency) => {
    c.metrics.unavailable(dependency);
    c.monitors[dependency]?.suspect();
  };
  const reporter = opts.errorReporter;
  registerErrorHandling(app, {
    onUnavailable,
    ...(reporter?.enabled
      ? {
          onServerError: (err, context) => {
            reporter.capture(err, context);
          },
        }
      : {}),
  });
  registerAccessLog(app);
  registerRequestContext(app, {
    trustedProxies: config.trustedProxies,
    allowedHosts: config.allowedHosts,
    sslRedirect: config.sslRedirect,
    metricsTokenSet: config.metricsToken !== undefined,
  });
  registerSecurityHeaders(app, config);
  registerEdgeChecks(app);
  await app.register(cors, {
    origin: config.corsOrigins,
    credentials: true,
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    allowedHeaders: [
      'Authorization',
      'Content-Type',
      'Accept',
      'Origin',
      'User-Agent',
      'X-Requested-With',
      'X-Request-ID',
    ],
    exposedHeaders: ['X-Request-ID', 'Retry-After'],
    maxAge: 86400,
  });
  // After CORS (a browser must be able to read the 503), before any work that needs the database.
  registerAvailability(app, { database: c.monitors.database });
  const throttles = createThrottles(config.rateLimits, c.makeLimiter, c.metrics.limited);
  registerAuth(app, {
    tokens: c.tokens,
    refusals: throttles.refusals,
    sessionState: c.sessionState,
    now: c.now,
    idleTimeoutSeconds: config.jwt.idleTimeout,
    touchSession: c.touchSession,
  });
  registerRateLimits(app, throttles);
  registerInputScreening(app);
  registerDeniedAudit(app, { db: c.db, logger: c.logger });
  registerNotFound(app);
  registerMetrics(app, { token: config.metricsToken, metrics: c.metrics });
  await registerOpenApi(app);
  await registerAdminConsole(app, opts.consoleDir ?? config.consoleDir ?? defaultConsoleDir());

  await app.register(
    healthRoutes([
      { name: 'database', check: () => reachable(c.monitors.database) },
      { name: 'redis', check: () => reachable(c.monitors.redis) },
    ]),
  );
  await app.register(apiModules(c), { prefix: '/api' });
  await app.register(apiModules(c), { prefix: '/api/v1' });

  app.addHook('onClose', async () => {
    await c.close();
  });
  return app;
}

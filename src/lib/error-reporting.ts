import type { ErrorEvent, Exception, StackFrame } from '@sentry/node';
import type { Config } from '../config.js';
import type { Log } from './log.js';

/**
 * Error reporting to Sentry (docs/operations.md#error-reporting), the same for the web process and the
 * worker. Off (a no-op, and the SDK is not even loaded) without `SENTRY_DSN`.
 *
 * PRIVACY: an event carries the error's type, its message scrubbed (no query parameters, no e-mail
 * addresses), its stack frames (file, function, line; no variables, no source lines) and the tags below;
 * nothing else. No request (body, query, headers, cookies), no user, no breadcrumbs, no extra data: the SDK
 * runs without its default integrations and every event is rebuilt from an allow-list before it leaves.
 */
export interface ErrorContext {
  /** The id the client saw in the error envelope. */
  errorId?: string;
  requestId?: string;
  /** The route's pattern (`/api/journal/:id/`), never the URL with its values. */
  route?: string;
  method?: string;
  status?: number;
  /** A background job's name. */
  job?: string;
}

export interface ErrorReporter {
  readonly enabled: boolean;
  capture(err: unknown, context: ErrorContext): void;
  /** Wait at most `timeoutMs` for events still being sent (before exit). True when all went. */
  flush(timeoutMs: number): Promise<boolean>;
}

export const noErrorReporting: ErrorReporter = {
  enabled: false,
  capture: () => undefined,
  flush: () => Promise.resolve(true),
};

const TAGS: Record<keyof ErrorContext, string> = {
  errorId: 'error_id',
  requestId: 'request_id',
  route: 'route',
  method: 'method',
  status: 'status',
  job: 'job',
};

const EMAIL = /[^\s@"'<>()[\]]+@[^\s@"'<>()[\]]+\.[A-Za-z]{2,}/g;

/** An error message as it may leave the process: driver parameters cut, e-mail addresses masked, bounded. */
export function scrubMessage(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  return (text.split(/\nparams:/)[0] ?? '').replace(EMAIL, '[email]').slice(0, 1000);
}

function scrubFrame(f: StackFrame): StackFrame {
  return {
    filename: f.filename,
    module: f.module,
    function: f.function,
    lineno: f.lineno,
    colno: f.colno,
    in_app: f.in_app,
  };
}

function scrubException(x: Exception): Exception {
  return {
    type: x.type,
    value: scrubMessage(x.value),
    mechanism: x.mechanism && { type: x.mechanism.type, handled: x.mechanism.handled },
    stacktrace: x.stacktrace?.frames && { frames: x.stacktrace.frames.map(scrubFrame) },
  };
}

/** The event rebuilt from what may be sent; everything else the SDK or a scope added is dropped. */
export function scrubEvent(event: ErrorEvent): ErrorEvent {
  const tags: Record<string, string | number> = {};
  for (const name of Object.values(TAGS)) {
    const value = event.tags?.[name];
    if (typeof value === 'string' || typeof value === 'number') tags[name] = value;
  }
  return {
    type: undefined,
    event_id: event.event_id,
    timestamp: event.timestamp,
    platform: event.platform,
    level: event.level,
    environment: event.environment,
    release: event.release,
    sdk: event.sdk,
    tags,
    exception: event.exception?.values && { values: event.exception.values.map(scrubException) },
  };
}

export async function initErrorReporting(
  config: Pick<Config, 'sentry'>,
  logger: Log,
): Promise<ErrorReporter> {
  const { dsn, environment } = config.sentry;
  if (!dsn) return noErrorReporting;
  const { NodeClient, Scope, defaultStackParser, linkedErrorsIntegration, makeNodeTransport } =
    await import('@sentry/node');
  const client = new NodeClient({
    dsn,
    environment,
    // A release only when the operator names one (the SDK would otherwise guess from the environment).
    release: process.env.SENTRY_RELEASE || undefined,
    transport: makeNodeTransport,
    stackParser: defaultStackParser,
    // Only the chain of causes; none of the defaults (request data, console, HTTP breadcrumbs, local
    // variables, source lines, modules, global handlers).
    integrations: [linkedErrorsIntegration()],
    // The SDK's own switches, all off (the allow-list in beforeSend holds whatever they default to).
    dataCollection: {
      userInfo: false,
      cookies: false,
      httpHeaders: false,
      httpBodies: [],
      urlQueryParams: false,
      databaseQueryData: false,
      queues: false,
      stackFrameVariables: false,
      frameContextLines: 0,
    },
    includeServerName: false,
    maxBreadcrumbs: 0,
    sendClientReports: false,
    enableRuntimeChannelInjection: false,
    beforeBreadcrumb: () => null,
    beforeSend: (event) => scrubEvent(event),
  });
  client.init();
  logger.info({ environment }, 'errors are reported to Sentry');
  return {
    enabled: true,
    capture(err, context) {
      const scope = new Scope();
      for (const [key, tag] of Object.entries(TAGS) as [keyof ErrorContext, string][]) {
        const value = context[key];
        if (value !== undefined) scope.setTag(tag, value);
      }
      client.captureException(err, { originalException: err }, scope);
    },
    flush: async (timeoutMs) => await client.flush(timeoutMs),
  };
}

/** The same job, reporting its failures (the error still propagates to whoever runs it). */
export function reportingFailures<J extends { name: string; run: () => Promise<R> }, R>(
  job: J,
  reporter: ErrorReporter,
): J {
  if (!reporter.enabled) return job;
  return {
    ...job,
    run: async () => {
      try {
        return await job.run();
      } catch (err) {
        reporter.capture(err, { job: job.name });
        throw err;
      }
    },
  };
}

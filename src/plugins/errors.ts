import { randomBytes } from 'node:crypto';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { violatedUnique } from '../db/errors.js';
import type { ErrorContext } from '../lib/error-reporting.js';
import { ApiError, type FieldErrors } from '../lib/errors.js';
import { loggableError } from '../lib/loggable-error.js';
import {
  isKnownOutage,
  serviceUnavailable,
  unavailableDependency,
  type Dependency,
} from '../lib/unavailable.js';

export { loggableError };

/**
 * One error envelope for every failure (docs/contract.md#error-envelope). Unexpected errors become a 500 with an
 * `error_id` that is logged with the cause; no stack trace or driver message reaches a client.
 */
export const newErrorId = () => randomBytes(4).toString('hex');

interface Envelope {
  detail: string;
  code: string;
  errors?: FieldErrors;
  error_id: string;
  [extra: string]: unknown;
}

export function sendError(reply: FastifyReply, err: ApiError, errorId = newErrorId()): FastifyReply {
  if (reply.request.routeOptions.config.errorKey) err = withErrorKey(err);
  const body: Envelope = err.errors
    ? { detail: err.detail, code: err.code, errors: err.errors, error_id: errorId }
    : { detail: err.detail, code: err.code, error_id: errorId };
  if (err.extra) Object.assign(body, err.extra);
  if (err.headers) void reply.headers(err.headers);
  return reply.code(err.status).type('application/json; charset=utf-8').send(body);
}

function withErrorKey(err: ApiError): ApiError {
  return new ApiError(
    err.status,
    err.code,
    err.detail,
    err.errors,
    { ...err.extra, error: err.detail },
    err.headers,
  );
}

type ValidationItem = { instancePath?: string; message?: string; params?: Record<string, unknown> };

/** DRF-style `{field: [messages]}` from a schema validation failure. */
export function fieldErrorsFrom(items: ValidationItem[]): FieldErrors {
  const errors: FieldErrors = {};
  for (const item of items) {
    const field = (item.instancePath ?? '').split('/').filter(Boolean)[0] ?? 'non_field_errors';
    const message = item.message ?? 'Invalid value.';
    const list = (errors[field] ??= []);
    if (!list.includes(message)) list.push(message);
  }
  return errors;
}

/**
 * Unique constraints that a concurrent request can still hit after the service's own check:
 * answered as the field error the check would have given, never as a 500.
 */
const UNIQUE_FIELD_ERRORS: Record<string, FieldErrors> = {
  users_email_lower_uq: { email: ['user with this email already exists.'] },
  user_profiles_id_number_index_uq: { id_number: ['A profile with this ID number already exists.'] },
  journal_entries_user_date_uq: { date: ['You already have a journal entry for this date.'] },
};

function uniqueViolation(err: unknown): ApiError | null {
  const constraint = violatedUnique(err)?.constraint;
  const errors = constraint ? UNIQUE_FIELD_ERRORS[constraint] : undefined;
  return errors ? new ApiError(400, 'validation_error', 'Validation error', errors) : null;
}

function mapFrameworkError(err: FastifyError): ApiError | null {
  const unique = uniqueViolation(err);
  if (unique) return unique;
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(413, 'payload_too_large', 'Request body is too large.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(415, 'unsupported_media_type', 'Unsupported media type in request.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ApiError(400, 'parse_error', 'Invalid JSON in request body');
    default:
  }
  if (err instanceof SyntaxError || err.name === 'SyntaxError') {
    return new ApiError(400, 'parse_error', 'Invalid JSON in request body');
  }
  if (err.statusCode === 413) return new ApiError(413, 'payload_too_large', 'Request body is too large.');
  if (err.statusCode === 415)
    return new ApiError(415, 'unsupported_media_type', 'Unsupported media type in request.');
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
    return new ApiError(err.statusCode, 'bad_request', 'Invalid request');
  }
  return null;
}

function namedDependency(error: ApiError): Dependency | null {
  const named = (error as { dependency?: unknown }).dependency;
  return named === 'database' || named === 'redis' ? named : null;
}

export interface ErrorHandlingOptions {
  /** Told when a request failed because a dependency is unreachable (starts an outage probe). */
  onUnavailable?: (dependency: Dependency) => void;
  /** Told of every 5xx logged as an error (not outages): the error reporter (docs/operations.md#error-reporting). */
  onServerError?: (err: unknown, context: ErrorContext) => void;
}

/** What an error report may say about the request: ids, the route's pattern, method and status; no values. */
function reportContext(request: FastifyRequest, errorId: string, status: number): ErrorContext {
  return {
    errorId,
    requestId: request.id,
    route: request.routeOptions.url ?? 'unmatched',
    method: request.method,
    status,
  };
}

export function registerErrorHandling(app: FastifyInstance, opts: ErrorHandlingOptions = {}): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    // A dependency that cannot be reached is an outage, not a bug: 503 with Retry-After
    // (docs/operations.md#dependency-outages), whichever layer met it. ApiErrors are deliberate answers: only one
    // that names its dependency (the audit store's) counts as an outage.
    const dependency = error instanceof ApiError ? namedDependency(error) : unavailableDependency(error);
    if (dependency) {
      const errorId = newErrorId();
      // Refusals during an outage already known (and logged once) are only counted.
      if (!isKnownOutage(error)) {
        request.log.warn(
          {
            err: loggableError(error instanceof ApiError ? (error.cause ?? error) : error),
            error_id: errorId,
            dependency,
          },
          `${dependency} unavailable`,
        );
      }
      opts.onUnavailable?.(dependency);
      return sendError(reply, error instanceof ApiError ? error : serviceUnavailable(), errorId);
    }
    if (error instanceof ApiError) {
      // A refusal of a state already logged once (the password-hashing gate at capacity) is counted, not
      // logged per request (docs/operations.md#password-hashing).
      if (error.status < 500 || isKnownOutage(error)) return sendError(reply, error);
      // Every 5xx logs its cause (or at least itself) under the id the client sees.
      const errorId = newErrorId();
      request.log.error({ err: loggableError(error.cause ?? error), error_id: errorId }, error.detail);
      opts.onServerError?.(error.cause ?? error, reportContext(request, errorId, error.status));
      return sendError(reply, error, errorId);
    }
    if (hasZodFastifySchemaValidationErrors(error) || (error.validation && error.validation.length > 0)) {
      const context = error.validationContext;
      if (context === 'params') return sendError(reply, new ApiError(404, 'not_found', 'Not found.'));
      const errors = fieldErrorsFrom(error.validation as ValidationItem[]);
      return sendError(reply, new ApiError(400, 'validation_error', 'Validation error', errors));
    }
    const mapped = mapFrameworkError(error);
    if (mapped) return sendError(reply, mapped);
    const errorId = newErrorId();
    // SECURITY: the cause goes to the log only, tagged with the id the client sees.
    request.log.error({ err: loggableError(error), error_id: errorId }, 'unhandled error');
    opts.onServerError?.(error, reportContext(request, errorId, 500));
    return sendError(
      reply,
      new ApiError(500, 'server_error', 'An unexpected error occurred. Please try again later.'),
      errorId,
    );
  });
}

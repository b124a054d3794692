/**
 * The one error type services throw. The error plugin renders it as the envelope of docs/contract.md#error-envelope:
 * `{detail, code, errors?, error_id, ...extra}`.
 */
export type FieldErrors = Record<string, string[]>;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly errors?: FieldErrors,
    /** Extra keys the original's clients read (e.g. `error`, `valid`, `requires_2fa_setup`). */
    readonly extra?: Record<string, unknown>,
    readonly headers?: Record<string, string>,
  ) {
    super(detail);
    this.name = 'ApiError';
  }
}

/** Attaches the failure behind an error for the log (never sent to a client). */
export function withCause<E extends Error>(err: E, cause: unknown): E {
  Object.defineProperty(err, 'cause', { value: cause, enumerable: false, configurable: true });
  return err;
}

export const badRequest = (detail: string, errors?: FieldErrors, extra?: Record<string, unknown>) =>
  new ApiError(400, errors ? 'validation_error' : 'bad_request', detail, errors, extra);

export const validationError = (
  errors: FieldErrors,
  detail = 'Validation error',
  extra?: Record<string, unknown>,
) => new ApiError(400, 'validation_error', detail, errors, extra);

export const notFound = (detail = 'Not found.') => new ApiError(404, 'not_found', detail);

export const forbidden = (detail = 'You do not have permission to perform this action.') =>
  new ApiError(403, 'permission_denied', detail);

export const unauthorized = (code: string, detail: string) =>
  new ApiError(401, code, detail, undefined, undefined, { 'www-authenticate': 'Bearer realm="api"' });

export const AUTH_REQUIRED = () => unauthorized('not_authenticated', 'Authentication required');
export const AUTH_FAILED = () => unauthorized('authentication_failed', 'Authentication failed');
export const USER_INACTIVE = () => unauthorized('user_inactive', 'User is inactive');

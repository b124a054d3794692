import { ApiError } from './errors.js';

/** How long a client is asked to wait after a dependency failed (spec operations.md §8). */
export const RETRY_AFTER_SECONDS = 5;

/**
 * The answer when a dependency the request needs failed: 503 `service_unavailable` with
 * `Retry-After`. The cause stays on the error (not enumerable, never sent) for the log.
 */
export function serviceUnavailable(detail: string, cause?: unknown): ApiError {
  const err = new ApiError(503, 'service_unavailable', detail, undefined, undefined, {
    'retry-after': String(RETRY_AFTER_SECONDS),
  });
  if (cause !== undefined) Object.defineProperty(err, 'cause', { value: cause, enumerable: false });
  return err;
}

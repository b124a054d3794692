import type { FastifyInstance } from 'fastify';
import { ApiError, notFound, type FieldErrors } from '../lib/errors.js';
import { containsNul, fieldsWithNul, NUL_MESSAGE } from '../lib/null-characters.js';

/**
 * Input no route can store, refused for every route in one place (issue 9 item 7): a NUL character
 * (U+0000) anywhere in the body (JSON or form-encoded, nested values and keys included) or the
 * query string is a 400 `validation_error` naming each field that holds one; in a path parameter
 * it is an unknown path (404), as any other malformed path value.
 *
 * Runs at preValidation: after the gate and the throttle (onRequest), so anonymous floods are still
 * counted and a refused role still gets its 403; before the route's schema and service, so a NUL
 * is the first failing check of every route's own order (e.g. before register's row 1, docs/auth.md#registration).
 */
export function registerInputScreening(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    if (containsNul(request.params)) throw notFound();
    const fields = new Set([...fieldsWithNul(request.query), ...fieldsWithNul(request.body)]);
    if (fields.size === 0) return;
    const errors: FieldErrors = {};
    for (const field of fields) errors[field] = [NUL_MESSAGE];
    throw new ApiError(400, 'validation_error', 'Validation error', errors);
  });
}

import type { z } from 'zod';
import type { FieldErrors } from '../../../lib/errors.js';
import { ReviewInput } from './schemas.js';
import type { ReviewSubmission } from './types.js';

/**
 * The review body (docs/privacy.md#deletion-requests): parsed by the route, but its errors are the
 * service's to answer, after the request's status check (a request that is no longer pending says
 * so whatever the body). A missing body reads as `{}`.
 */
export function parseReview(body: unknown): ReviewSubmission {
  const result = ReviewInput.safeParse(body ?? {});
  return result.success
    ? { ok: true, values: result.data }
    : { ok: false, errors: fieldErrors(result.error) };
}

/** Field errors `{field: [messages]}` from a failed parse (each message once, in order). */
function fieldErrors(error: z.ZodError): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of error.issues) {
    const key = issue.path[0];
    const field = typeof key === 'string' ? key : 'non_field_errors';
    const list = (errors[field] ??= []);
    if (!list.includes(issue.message)) list.push(issue.message);
  }
  return errors;
}

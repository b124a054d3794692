import { z } from 'zod';
import { charCount, escapeText } from '../../../lib/escape.js';
import { choice, escText } from '../../../lib/fields.js';
import {
  type CreateDeletionInput,
  DELETION_STATUSES,
  type DeletionRequestResponse,
  type ExecuteResponse,
  type ReviewValues,
} from './types.js';

/**
 * Request and response shapes of deletion requests (docs/privacy.md#deletion-requests); the
 * service's plain types are in types.ts, kept in step by `satisfies`.
 */

export const MAX_REASON = 5000;
export const MAX_NOTES = 2000;

/** `reason`: trimmed, ≤ 5000 code points (the original's own message), escaped on write. */
const reason = z.string().transform((raw, ctx) => {
  const value = raw.trim();
  const n = charCount(value);
  if (n > MAX_REASON) {
    ctx.addIssue({
      code: 'custom',
      message: `reason exceeds maximum length of ${MAX_REASON} characters (got ${n})`,
    });
    return z.NEVER;
  }
  return escapeText(value);
});

/** `POST deletion-requests/create/` (parsed by the route; a missing body reads as `{}`). */
export const CreateDeletionBody = z.preprocess(
  (v) => v ?? {},
  z.object({ reason: reason.optional() }),
) satisfies z.ZodType<CreateDeletionInput>;

/** `POST deletion-requests/<id>/review/` values: parsed by input.ts, answered after the status check. */
export const ReviewInput = z.object({
  action: choice(['approve', 'reject']),
  notes: escText(MAX_NOTES, { style: 'varchar' }).optional(),
}) satisfies z.ZodType<ReviewValues>;

const ts = z.string().nullable();

/** The request object; key order is the contract's (scheduled_for, cancelled_at appended). */
export const DeletionRequestSchema = z.object({
  id: z.number().int(),
  requested_at: z.string(),
  status: z.enum(DELETION_STATUSES),
  status_display: z.string(),
  reason: z.string(),
  reviewed_by: z.number().int().nullable(),
  reviewed_by_email: z.string().nullable(),
  reviewed_at: ts,
  admin_notes: z.string(),
  completed_at: ts,
  scheduled_for: ts,
  cancelled_at: ts,
}) satisfies z.ZodType<DeletionRequestResponse>;

export const DeletionRequestPageSchema = z.object({
  count: z.number().int(),
  next: z.string().nullable(),
  previous: z.string().nullable(),
  results: z.array(DeletionRequestSchema),
});

export const ExecuteResponseSchema = z.object({
  message: z.string(),
  deletion_summary: z.string(),
}) satisfies z.ZodType<ExecuteResponse>;

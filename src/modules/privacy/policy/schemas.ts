import { z } from 'zod';
import { bool, isoDate } from '../../../lib/fields.js';
import type { PolicyResponse, PolicyVersionInput } from './types.js';

/**
 * Request and response shapes of the privacy policy (docs/privacy.md#privacy-policy-versions); the
 * service's plain types are in types.ts, kept in step by `satisfies`.
 */

/** A trimmed, non-blank string; DRF's messages for missing, null, blank and too long. */
const line = (max?: number) => {
  const s = z.string().trim().min(1);
  return max === undefined ? s : s.max(max);
};

// A request without any body reads as `{}`, so its missing fields are reported one by one.
const orEmpty = (v: unknown) => v ?? {};

/**
 * `POST privacy-policy/versions/`. The content is the operator's Markdown, stored as given (it is
 * shown as the notice, not interpreted as HTML by the API).
 */
export const PolicyVersionBody = z.preprocess(
  orEmpty,
  z.object({
    version: line(20),
    title: line(200),
    content: line(),
    effective_date: isoDate(),
    is_active: bool().optional(),
  }),
) satisfies z.ZodType<PolicyVersionInput>;

/** The policy version object; key order is the contract's. */
export const PolicySchema = z.object({
  id: z.number().int(),
  version: z.string(),
  title: z.string(),
  content: z.string(),
  effective_date: z.string(),
  is_active: z.boolean(),
  created_at: z.string(),
}) satisfies z.ZodType<PolicyResponse>;

export const PolicyPageSchema = z.object({
  count: z.number().int(),
  next: z.string().nullable(),
  previous: z.string().nullable(),
  results: z.array(PolicySchema),
});

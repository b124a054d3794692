import { z } from 'zod';
import { escText } from '../../../lib/fields.js';
import type { ScheduleResponse } from './types.js';

/**
 * Shapes of the staff routes `retention/schedules/*` (docs/privacy.md#inactive-accounts); the
 * service's plain types are in types.ts, kept in step by `satisfies`.
 */
export const ScheduleSchema = z.object({
  id: z.number().int(),
  user: z.number().int(),
  user_email: z.string(),
  scheduled_deletion_date: z.string(),
  first_warning_sent: z.string().nullable(),
  second_warning_sent: z.string().nullable(),
  exempted: z.boolean(),
  exemption_reason: z.string(),
  days_until_deletion: z.number().int().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
}) satisfies z.ZodType<ScheduleResponse>;

export const SchedulePageSchema = z.object({
  count: z.number().int(),
  next: z.string().nullable(),
  previous: z.string().nullable(),
  results: z.array(ScheduleSchema),
});

export const MAX_EXEMPTION_REASON = 2000;

/** `POST retention/schedules/<id>/exempt/ {reason}`: a reason is required. */
export const ExemptBody = z.preprocess(
  (v) => v ?? {},
  z.object({ reason: escText(MAX_EXEMPTION_REASON, { allowBlank: false }) }),
);

import { z } from 'zod';
import { choice, escText } from '../../lib/fields.js';
import { looseBody } from '../../lib/validation.js';
import { ProfileSchema } from '../users/index.js';

import { INTAKE_STATUSES, REVIEW_STATUSES, type ReviewInput, type SubmissionItem } from './types.js';

/** The intake routes' HTTP schemas (docs/contract.md#intake); key order is the contract's. */
export { INTAKE_STATUSES, type IntakeStatus } from './types.js';

/** `{"intake_data": {...}}`: the service checks `intake_data` itself, to keep the original's messages. */
export const IntakeBody = looseBody({ intake_data: z.unknown().optional() });

/** `?user=` and `?status=` of the submissions list; checked by the service (raw strings here). */
export const SubmissionListQuery = z.looseObject({
  user: z.unknown().optional(),
  status: z.unknown().optional(),
});

export const ReviewBody = z.object({
  status: choice(REVIEW_STATUSES).optional(),
  review_notes: escText(2000).nullable().optional(),
}) satisfies z.ZodType<ReviewInput>;

/** S: a submission without its answers. */
export const SubmissionSchema = z.object({
  id: z.number().int(),
  status: z.enum(INTAKE_STATUSES),
  submitted_at: z.string(),
  reviewed_by: z.number().int().nullable(),
  reviewed_at: z.string().nullable(),
});

/** A submission as listed and shown: S plus owner, review notes and answers. */
export const SubmissionItemSchema = z.object({
  id: z.number().int(),
  user: z.number().int(),
  status: z.enum(INTAKE_STATUSES),
  submitted_at: z.string(),
  reviewed_by: z.number().int().nullable(),
  reviewed_at: z.string().nullable(),
  review_notes: z.string().nullable(),
  responses: z.record(z.string(), z.string().nullable()),
}) satisfies z.ZodType<SubmissionItem>;

export const SubmissionPageSchema = z.object({
  count: z.number().int(),
  next: z.string().nullable(),
  previous: z.string().nullable(),
  results: z.array(SubmissionItemSchema),
});

export const IntakeResponse = z.object({ detail: z.string(), profile: ProfileSchema });
export const SubmitResponse = z.object({
  detail: z.string(),
  profile: ProfileSchema,
  submission: SubmissionSchema,
});

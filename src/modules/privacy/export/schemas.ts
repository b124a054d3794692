import { z } from 'zod';
import type { ExportJobResponse } from './types.js';

/**
 * Shapes of the data export routes (docs/privacy.md#data-export); the service's plain types are in
 * types.ts, kept in step by `satisfies`.
 */

/** Keys of an export job, in the contract's order. */
export const ExportJobSchema = z.object({
  id: z.number(),
  requested_at: z.string(),
  status: z.enum(['pending', 'processing', 'completed', 'failed']),
  status_display: z.string(),
  completed_at: z.string().nullable(),
  download_count: z.number(),
  expires_at: z.string().nullable(),
}) satisfies z.ZodType<ExportJobResponse>;

export const ExportJobPageSchema = z.object({
  count: z.number(),
  next: z.string().nullable(),
  previous: z.string().nullable(),
  results: z.array(ExportJobSchema),
});

export const DownloadQuery = z.looseObject({ token: z.string().max(200).optional() });

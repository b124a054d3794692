/**
 * Intake's own types: what its service takes and gives (the HTTP schemas in schemas.ts validate
 * requests into these and describe these responses).
 */
export const INTAKE_STATUSES = ['submitted', 'reviewed', 'needs_follow_up'] as const;
export type IntakeStatus = (typeof INTAKE_STATUSES)[number];
/** Statuses a reviewer may set (`submitted` is only ever set by a submission). */
export const REVIEW_STATUSES = ['reviewed', 'needs_follow_up'] as const;

/** A validated review (notes already trimmed and escaped). */
export interface ReviewInput {
  status?: (typeof REVIEW_STATUSES)[number] | undefined;
  review_notes?: string | null | undefined;
}

/** A submission as listed and shown: owner, status, review and answers. */
export interface SubmissionItem {
  id: number;
  user: number;
  status: IntakeStatus;
  submitted_at: string;
  reviewed_by: number | null;
  reviewed_at: string | null;
  review_notes: string | null;
  responses: Record<string, string | null>;
}

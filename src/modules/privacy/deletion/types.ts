import { deletionStatusEnum } from '../../../db/schema.js';
import type { FieldErrors } from '../../../lib/errors.js';

/** Plain types and values of deletion requests (docs/privacy.md#deletion-requests). */
export const DELETION_STATUSES = deletionStatusEnum.enumValues;
export type DeletionStatus = (typeof DELETION_STATUSES)[number];

export const STATUS_DISPLAY: Record<DeletionStatus, string> = {
  pending: 'Pending Review',
  approved: 'Approved',
  rejected: 'Rejected',
  completed: 'Completed',
  cancelled: 'Cancelled',
};

export const REJECTION_NOTES_REQUIRED = 'Rejection reason is required when rejecting a deletion request.';

/** `POST deletion-requests/create/` as the route parsed it (reason trimmed and escaped). */
export interface CreateDeletionInput {
  reason?: string;
}

/** `POST deletion-requests/<id>/review/` values. */
export interface ReviewValues {
  action: 'approve' | 'reject';
  notes?: string;
}

/**
 * The review body as the route parsed it (deletion/input.ts). Its field errors are answered only
 * after the request's status check (docs/privacy.md#deletion-requests order), so a failed parse
 * travels to the service instead of being thrown by the route.
 */
export type ReviewSubmission = { ok: true; values: ReviewValues } | { ok: false; errors: FieldErrors };

/** The request object; key order is the contract's (scheduled_for, cancelled_at appended). */
export interface DeletionRequestResponse {
  id: number;
  requested_at: string;
  status: DeletionStatus;
  status_display: string;
  reason: string;
  reviewed_by: number | null;
  reviewed_by_email: string | null;
  reviewed_at: string | null;
  admin_notes: string;
  completed_at: string | null;
  scheduled_for: string | null;
  cancelled_at: string | null;
}

/**
 * `POST deletion-requests/<id>/execute/`: the proof as a JSON string
 * (docs/contract.md#original-differences item K2).
 */
export interface ExecuteResponse {
  message: string;
  deletion_summary: string;
}

/**
 * Plain types of the audit module shared by its service and its HTTP schemas (schemas.ts checks
 * that its Zod shapes produce exactly these), so the service does not depend on the HTTP layer.
 */

export type AuditOutcome = 'success' | 'denied' | 'failure';

/** `GET popia/access-log/` query, as the route parsed it (`page`, `page_size` read by the pager). */
export interface AccessLogQueryInput {
  include_self?: boolean;
  page?: unknown;
  page_size?: unknown;
}

/** `GET popia/audit-log/` query, as the route parsed it. */
export interface AuditLogQueryInput {
  actor?: number;
  subject?: number;
  action?: string;
  resource_type?: string;
  outcome?: AuditOutcome;
  date_from?: string;
  date_to?: string;
  page?: unknown;
  page_size?: unknown;
}

/** "Who accessed my data": no IP, user agent or request id of the actor. */
export interface AccessLogItem {
  id: number;
  at: string;
  actor: { id: number; role: string | null; name: string | null } | null;
  action: string;
  resource_type: string;
  resource_id: string | null;
  fields: string[] | null;
}

/**
 * A full entry, for superusers: everything stored, including its place in the hash chain (`seq` and
 * `hash` null until the sealer chains it, docs/privacy.md#append-only-chain).
 */
export interface AuditEntry {
  id: number;
  at: string;
  actor_id: number | null;
  actor_role: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  action: string;
  resource_type: string;
  resource_id: string | null;
  subject_user_id: number | null;
  fields: string[] | null;
  changes: Record<string, unknown[]> | null;
  outcome: string;
  reason: string | null;
  metadata: Record<string, unknown> | null;
  seq: number | null;
  hash: string | null;
}

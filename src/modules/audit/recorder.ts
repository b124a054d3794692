import type { DbOrTx } from '../../db/client.js';
import type { Actor, RequestMeta } from '../../lib/actor.js';
import { serviceUnavailable, unavailableDependency } from '../../lib/unavailable.js';
import { createAuditRepo } from './repo.js';
import type { AuditOutcome } from './types.js';

/**
 * Audit events (docs/privacy.md#audit-entries), written in the caller's transaction so a change and
 * its record commit together. PRIVACY: `changes` only ever holds non-sensitive fields; sensitive ones
 * are named in `fields` without values.
 */
export interface AuditEvent {
  action: string;
  resourceType: string;
  resourceId?: string | number | null;
  subjectUserId?: number | null;
  fields?: string[];
  changes?: Record<string, [unknown, unknown]>;
  outcome?: AuditOutcome;
  reason?: string;
  metadata?: Record<string, unknown>;
}

export interface AuditContext {
  actor: Pick<Actor, 'userId' | 'role'> | null;
  meta: RequestMeta | null;
}

/**
 * The answer when an entry cannot be made durable because the database is unreachable: the request
 * fails rather than go unrecorded. Any other failure (a bug, a refused value) is not an outage: it
 * propagates as it is and becomes a 500 with its cause in the log.
 */
export const auditUnavailable = (cause: unknown) =>
  serviceUnavailable('Audit store unavailable. Please try again later.', cause);

/**
 * Several events in ONE insert statement (a list's statement count must not grow with its page
 * size). They go in unsealed, without any lock; the sealer chains them after commit, in the given
 * order (docs/privacy.md#append-only-chain). An insert that fails because the database is
 * unreachable throws a 503 `service_unavailable` (docs/privacy.md#audit-entries: when the audit store
 * is down, requests touching sensitive data fail); any other failure is thrown as it is.
 */
export async function recordAudits(
  db: DbOrTx,
  ctx: AuditContext,
  events: readonly AuditEvent[],
): Promise<void> {
  if (events.length === 0) return;
  const actorId = ctx.actor?.userId ?? null;
  const actorRole = ctx.actor?.role ?? (ctx.meta ? 'anonymous' : 'system');
  const ip = ctx.meta?.ip ?? null;
  const userAgent = ctx.meta?.userAgent.slice(0, 500) ?? null;
  const requestId = ctx.meta?.requestId ?? null;
  const rows = events.map((event) => ({
    actorId,
    actorRole,
    ip,
    userAgent,
    requestId,
    action: event.action,
    resourceType: event.resourceType,
    resourceId: event.resourceId === undefined || event.resourceId === null ? null : String(event.resourceId),
    subjectUserId: event.subjectUserId ?? null,
    fields: event.fields ?? null,
    changes: event.changes ?? null,
    outcome: event.outcome ?? 'success',
    reason: event.reason?.slice(0, 500) ?? null,
    metadata: event.metadata ?? null,
  }));
  try {
    await createAuditRepo(db).insert(rows);
  } catch (err) {
    throw unavailableDependency(err) ? auditUnavailable(err) : err;
  }
}

export async function recordAudit(db: DbOrTx, ctx: AuditContext, event: AuditEvent): Promise<void> {
  await recordAudits(db, ctx, [event]);
}

/** `{field: [old, new]}` for the given non-sensitive fields that changed. */
export function diffPlain<T extends Record<string, unknown>>(
  before: T,
  after: T,
  fields: readonly (keyof T & string)[],
): Record<string, [unknown, unknown]> {
  const out: Record<string, [unknown, unknown]> = {};
  for (const f of fields) {
    if (JSON.stringify(before[f]) !== JSON.stringify(after[f])) out[f] = [before[f], after[f]];
  }
  return out;
}

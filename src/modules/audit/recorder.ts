import type { DbOrTx } from '../../db/client.js';
import { auditLog } from '../../db/schema.js';
import type { Actor, RequestMeta } from '../../lib/actor.js';

/**
 * Audit events (spec privacy.md §6), written in the caller's transaction so a change and its record
 * commit together. PRIVACY: `changes` only ever holds non-sensitive fields; sensitive ones are named
 * in `fields` without values.
 */
export interface AuditEvent {
  action: string;
  resourceType: string;
  resourceId?: string | number | null;
  subjectUserId?: number | null;
  fields?: string[];
  changes?: Record<string, [unknown, unknown]>;
  outcome?: 'success' | 'denied' | 'failure';
  reason?: string;
  metadata?: Record<string, unknown>;
}

export interface AuditContext {
  actor: Pick<Actor, 'userId' | 'role'> | null;
  meta: RequestMeta | null;
}

export async function recordAudit(db: DbOrTx, ctx: AuditContext, event: AuditEvent): Promise<void> {
  await db.insert(auditLog).values({
    actorId: ctx.actor?.userId ?? null,
    actorRole: ctx.actor?.role ?? (ctx.meta ? 'anonymous' : 'system'),
    ip: ctx.meta?.ip ?? null,
    userAgent: ctx.meta?.userAgent.slice(0, 500) ?? null,
    requestId: ctx.meta?.requestId ?? null,
    action: event.action,
    resourceType: event.resourceType,
    resourceId: event.resourceId === undefined || event.resourceId === null ? null : String(event.resourceId),
    subjectUserId: event.subjectUserId ?? null,
    fields: event.fields ?? null,
    changes: event.changes ?? null,
    outcome: event.outcome ?? 'success',
    reason: event.reason?.slice(0, 500) ?? null,
    metadata: event.metadata ?? null,
  });
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

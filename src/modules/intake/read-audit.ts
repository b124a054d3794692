import type { DbOrTx } from '../../db/client.js';
import { auditLog } from '../../db/schema.js';
import type { AuditContext } from '../audit/recorder.js';

export interface ReadEvent {
  resourceType: string;
  resourceId: number | null;
  subjectUserId: number;
  fields: string[];
  metadata?: Record<string, unknown>;
}

/**
 * 'read' entries (privacy.md §6: one per subject) written with ONE insert, so a list's query
 * count does not grow with its page size. Same row shape as `recordAudit`; never holds values.
 */
export async function recordReads(db: DbOrTx, ctx: AuditContext, events: ReadEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db.insert(auditLog).values(
    events.map((e) => ({
      actorId: ctx.actor?.userId ?? null,
      actorRole: ctx.actor?.role ?? (ctx.meta ? 'anonymous' : 'system'),
      ip: ctx.meta?.ip ?? null,
      userAgent: ctx.meta?.userAgent.slice(0, 500) ?? null,
      requestId: ctx.meta?.requestId ?? null,
      action: 'read',
      resourceType: e.resourceType,
      resourceId: e.resourceId === null ? null : String(e.resourceId),
      subjectUserId: e.subjectUserId,
      fields: e.fields,
      changes: null,
      outcome: 'success',
      reason: null,
      metadata: e.metadata ?? null,
    })),
  );
}

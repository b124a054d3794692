import type { DbOrTx } from '../../db/client.js';
import type { Actor, RequestMeta } from '../../lib/actor.js';
import { type AuditEvent, recordAudits } from './recorder.js';

/**
 * Read audit (docs/privacy.md#read-audit): every response that holds another person's sensitive data
 * is recorded as an access event `read`, one per subject per response, without any value.
 */
export type Reader = Pick<Actor, 'userId' | 'role'>;

/** One object of a response: whose data it is, its id, and the names of its sensitive fields. */
export interface ReadItem {
  subjectUserId: number;
  resourceId: number;
  fields: readonly string[];
}

/** PRIVACY: reading one's own data is not an access to record; anyone else's data is. */
export const isOthersData = (reader: Pick<Actor, 'userId'>, subjectUserId: number) =>
  reader.userId !== subjectUserId;

/**
 * The `read` events for the objects of one response: one per distinct subject other than the
 * reader, in order of first appearance. For a list page (`idsKey` given) the ids of the subject's
 * objects on the page go into `metadata[idsKey]`; `resource_id` is set when there is exactly one.
 */
export function readEvents(
  reader: Pick<Actor, 'userId'>,
  resourceType: string,
  items: readonly ReadItem[],
  idsKey?: string,
): AuditEvent[] {
  const bySubject = new Map<number, { ids: number[]; fields: Set<string> }>();
  for (const item of items) {
    if (!isOthersData(reader, item.subjectUserId)) continue;
    let group = bySubject.get(item.subjectUserId);
    if (!group) bySubject.set(item.subjectUserId, (group = { ids: [], fields: new Set() }));
    group.ids.push(item.resourceId);
    for (const f of item.fields) group.fields.add(f);
  }
  return [...bySubject].map(([subjectUserId, { ids, fields }]) => ({
    action: 'read',
    resourceType,
    resourceId: ids.length === 1 ? (ids[0] ?? null) : null,
    subjectUserId,
    fields: [...fields],
    ...(idsKey ? { metadata: { [idsKey]: ids } } : {}),
  }));
}

/**
 * Records the reads of one response in ONE statement (none for a self-read). Awaited before the
 * response is sent; a failure answers 503 (see `recordAudits`).
 */
export async function recordReads(
  db: DbOrTx,
  reader: Reader,
  meta: RequestMeta,
  resourceType: string,
  items: readonly ReadItem[],
  idsKey?: string,
): Promise<void> {
  await recordAudits(db, { actor: reader, meta }, readEvents(reader, resourceType, items, idsKey));
}
